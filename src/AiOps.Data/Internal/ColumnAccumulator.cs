using AiOps.Data.Quality;

namespace AiOps.Data.Internal;

/// <summary>Streaming statistics of one column: counts, min/max, Welford mean and M2, lengths, HyperLogLog, and an optional reservoir for quartiles.</summary>
internal sealed class ColumnAccumulator
{
    private readonly HyperLogLog _distinct = new();
    private readonly StreamingHistogram _histogram = new();
    private double[]? _reservoir;
    private Random? _random;
    private long _count;
    private long _nulls;
    private long _numeric;
    private long _integers;
    private double _mean;
    private double _m2;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private int _minLength = int.MaxValue;
    private int _maxLength;

    public void EnableReservoir(int size, int seed)
    {
        _reservoir = new double[size];
        _random = new Random(seed);
    }

    public void AddNull()
    {
        _count++;
        _nulls++;
    }

    public void Add(ReadOnlySpan<char> value, bool isNumber, bool isInteger, double number)
    {
        _count++;
        var length = value.Length;
        if (length < _minLength)
        {
            _minLength = length;
        }

        if (length > _maxLength)
        {
            _maxLength = length;
        }

        _distinct.Add(value);
        if (!isNumber)
        {
            return;
        }

        _numeric++;
        if (isInteger)
        {
            _integers++;
        }

        var delta = number - _mean;
        _mean += delta / _numeric;
        _m2 += delta * (number - _mean);
        if (number < _min)
        {
            _min = number;
        }

        if (number > _max)
        {
            _max = number;
        }

        _histogram.Add(number);

        if (_reservoir is not null)
        {
            if (_numeric <= _reservoir.Length)
            {
                _reservoir[_numeric - 1] = number;
            }
            else
            {
                var j = _random!.NextInt64(_numeric);
                if (j < _reservoir.Length)
                {
                    _reservoir[j] = number;
                }
            }
        }
    }

    /// <summary>The first and third quartiles of the reservoir sample (exact below the reservoir size).</summary>
    public (double Q1, double Q3) Quartiles()
    {
        if (_reservoir is null || _numeric == 0)
        {
            return (double.NaN, double.NaN);
        }

        var n = (int)Math.Min(_numeric, _reservoir.Length);
        var sample = _reservoir.AsSpan(0, n).ToArray();
        Array.Sort(sample);
        return (Quantile(sample, 0.25), Quantile(sample, 0.75));
    }

    private static double Quantile(double[] sorted, double q)
    {
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((pos - lo) * (sorted[hi] - sorted[lo]));
    }

    /// <summary>The histogram of the numeric values (empty when there are none).</summary>
    public IReadOnlyList<HistogramBin> Histogram() => _histogram.ToBins();

    public ColumnStatistics ToStatistics(string name)
    {
        var nonNull = _count - _nulls;
        var type = nonNull > 0 && _numeric == nonNull ? (_integers == nonNull ? ColumnType.Integer : ColumnType.Number) : ColumnType.String;
        return new ColumnStatistics(name)
        {
            InferredType = type,
            Count = _count,
            Nulls = _nulls,
            NumericCount = _numeric,
            Min = _numeric > 0 ? _min : null,
            Max = _numeric > 0 ? _max : null,
            Mean = _numeric > 0 ? _mean : null,
            StdDev = _numeric > 1 ? Math.Sqrt(_m2 / (_numeric - 1)) : null,
            MinLength = nonNull > 0 ? _minLength : null,
            MaxLength = nonNull > 0 ? _maxLength : null,
            DistinctEstimate = nonNull == 0 ? 0 : (long)Math.Round(Math.Min(_distinct.Estimate(), nonNull)),
        };
    }
}
