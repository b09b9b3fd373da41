using AiOps.Data.Quality;

namespace AiOps.Data.Internal;

/// <summary>A one-pass histogram of fixed memory (32 bins) over a range it does not know in advance: bin widths are powers of two and
/// the range doubles (neighbouring bins merged) whenever a value falls outside it, so each value costs one multiply and a compare,
/// and the final bins cover [min, max] at no worse than twice the width a two-pass histogram would use.</summary>
internal sealed class StreamingHistogram
{
    public const int Bins = 32;
    private readonly long[] _counts = new long[Bins];
    private double _origin;
    private double _width;
    private double _inverse;
    private bool _started;
    private bool _broken;

    public void Add(double x)
    {
        if (_broken || !double.IsFinite(x))
        {
            return;
        }

        if (!_started)
        {
            // A power-of-two width well below the first value's magnitude; the origin a multiple of it, so edges stay round.
            var magnitude = Math.Max(Math.Abs(x), 1);
            _width = Math.Pow(2, Math.Floor(Math.Log2(magnitude)) - 8);
            _inverse = 1 / _width;
            _origin = Math.Floor(x * _inverse) * _width;
            _started = true;
        }

        var index = Math.Floor((x - _origin) * _inverse);
        while (index < 0 || index >= Bins)
        {
            if (!Grow(index < 0))
            {
                _broken = true;
                return;
            }

            index = Math.Floor((x - _origin) * _inverse);
        }

        _counts[(int)index]++;
    }

    /// <summary>Doubles the width: towards lower values (the old bins become the upper half) or higher ones (the lower half).</summary>
    private bool Grow(bool left)
    {
        var width = _width * 2;
        var origin = left ? _origin - (Bins * _width) : _origin;
        if (!double.IsFinite(width * Bins) || !double.IsFinite(origin))
        {
            return false;
        }

        var merged = new long[Bins];
        var offset = left ? Bins / 2 : 0;
        for (var k = 0; k < Bins; k++)
        {
            merged[offset + (k / 2)] += _counts[k];
        }

        merged.CopyTo(_counts, 0);
        (_width, _inverse, _origin) = (width, 1 / width, origin);
        return true;
    }

    /// <summary>The non-empty span of bins, or empty when no finite value was seen (or the range overflowed).</summary>
    public IReadOnlyList<HistogramBin> ToBins()
    {
        if (!_started || _broken)
        {
            return [];
        }

        var first = Array.FindIndex(_counts, c => c > 0);
        var last = Array.FindLastIndex(_counts, c => c > 0);
        if (first < 0)
        {
            return [];
        }

        var bins = new HistogramBin[last - first + 1];
        for (var k = first; k <= last; k++)
        {
            bins[k - first] = new HistogramBin(_origin + (k * _width), _origin + ((k + 1) * _width), _counts[k]);
        }

        return bins;
    }
}
