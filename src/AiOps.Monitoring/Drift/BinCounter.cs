using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AiOps.Monitoring.Drift;

/// <summary>
/// Counts values into the bins of a profile. Bins are left-closed: with inner edges e₀ &lt; e₁ &lt; … &lt; e_{k−1} a value v
/// falls in bin i when e_{i−1} ≤ v &lt; eᵢ, the first bin is (−∞, e₀) and the last [e_{k−1}, +∞) — NumPy's
/// <c>np.digitize(v, edges, right=False)</c>. Values outside the reference range are counted in the outer bins, never
/// dropped; −∞ and +∞ go to the first and last bin. NaN is counted apart and lands in no bin.
/// </summary>
/// <remarks>
/// The count is branch-free and vectorised: for each edge it counts the values at or above it (a SIMD compare and a
/// subtract of the all-ones mask), block by block so the block stays in L1; bin counts are then differences of those
/// cumulative counts. Cost is linear in the number of edges and does not depend on the data.
/// </remarks>
internal static class BinCounter
{
    private const int BlockSize = 2048;

    /// <summary>Adds the bin counts of <paramref name="values"/> to <paramref name="counts"/>.</summary>
    /// <param name="values">The values.</param>
    /// <param name="innerEdges">The inner edges, strictly increasing and finite (k edges make k + 1 bins).</param>
    /// <param name="counts">The bin counts to add to; length must be <c>innerEdges.Length + 1</c>.</param>
    /// <returns>The number of NaN values (counted in no bin).</returns>
    /// <exception cref="ArgumentException"><paramref name="counts"/> has the wrong length.</exception>
    public static long Count(ReadOnlySpan<double> values, ReadOnlySpan<double> innerEdges, Span<long> counts)
    {
        CheckLengths(innerEdges.Length, counts.Length);
        var k = innerEdges.Length;
        Span<long> atOrAbove = k <= 64 ? stackalloc long[k] : new long[k];
        atOrAbove.Clear();
        long nan = 0;
        var vectorised = Vector256.IsHardwareAccelerated ? values.Length - (values.Length % Vector256<double>.Count) : 0;
        for (var start = 0; start < vectorised; start += BlockSize)
        {
            var block = values.Slice(start, Math.Min(BlockSize, vectorised - start));
            var vectors = MemoryMarshal.Cast<double, Vector256<double>>(block);
            for (var e = 0; e < k; e++)
            {
                atOrAbove[e] += CountAtOrAbove(vectors, innerEdges[e]);
            }

            nan += CountNaN(vectors);
        }

        for (var i = vectorised; i < values.Length; i++)
        {
            nan += CountScalar(values[i], innerEdges, atOrAbove);
        }

        AddBins(counts, atOrAbove, values.Length - nan);
        return nan;
    }

    /// <summary>Adds the bin counts of <paramref name="values"/> to <paramref name="counts"/> (single precision input).</summary>
    /// <param name="values">The values.</param>
    /// <param name="innerEdges">The inner edges, strictly increasing and finite.</param>
    /// <param name="counts">The bin counts to add to; length must be <c>innerEdges.Length + 1</c>.</param>
    /// <returns>The number of NaN values (counted in no bin).</returns>
    /// <exception cref="ArgumentException"><paramref name="counts"/> has the wrong length.</exception>
    public static long Count(ReadOnlySpan<float> values, ReadOnlySpan<double> innerEdges, Span<long> counts)
    {
        CheckLengths(innerEdges.Length, counts.Length);
        var k = innerEdges.Length;
        Span<long> atOrAbove = k <= 64 ? stackalloc long[k] : new long[k];
        atOrAbove.Clear();
        long nan = 0;
        var vectorised = Vector256.IsHardwareAccelerated ? values.Length - (values.Length % Vector256<float>.Count) : 0;
        for (var start = 0; start < vectorised; start += BlockSize)
        {
            var block = values.Slice(start, Math.Min(BlockSize, vectorised - start));
            var vectors = MemoryMarshal.Cast<float, Vector256<float>>(block);
            for (var e = 0; e < k; e++)
            {
                // For a float v: v >= e (in double) exactly when v >= the smallest float not below e.
                atOrAbove[e] += CountAtOrAbove(vectors, FloatCeiling(innerEdges[e]));
            }

            nan += CountNaN(vectors);
        }

        for (var i = vectorised; i < values.Length; i++)
        {
            // A float widens to the same double, so the double path counts it exactly.
            nan += CountScalar(values[i], innerEdges, atOrAbove);
        }

        AddBins(counts, atOrAbove, values.Length - nan);
        return nan;
    }

    /// <summary>Counts one value of the tail (shorter than one vector): returns 1 for NaN (in no bin), else 0.</summary>
    private static long CountScalar(double value, ReadOnlySpan<double> innerEdges, Span<long> atOrAbove)
    {
        if (double.IsNaN(value))
        {
            return 1;
        }

        // A value in bin b is at or above edges 0..b-1.
        var bin = BinOf(innerEdges, value);
        for (var e = 0; e < bin; e++)
        {
            atOrAbove[e]++;
        }

        return 0;
    }

    /// <summary>The bin of one value (binary search); NaN gives -1.</summary>
    /// <param name="innerEdges">The inner edges, strictly increasing.</param>
    /// <param name="value">The value.</param>
    public static int BinOf(ReadOnlySpan<double> innerEdges, double value)
    {
        if (double.IsNaN(value))
        {
            return -1;
        }

        // Number of edges <= value.
        int lo = 0, hi = innerEdges.Length;
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (innerEdges[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The smallest float that is not below <paramref name="edge"/>.</summary>
    internal static float FloatCeiling(double edge)
    {
        var f = (float)edge;
        return f < edge ? MathF.BitIncrement(f) : f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long CountAtOrAbove(ReadOnlySpan<Vector256<double>> vectors, double edge)
    {
        var e = Vector256.Create(edge);
        var acc0 = Vector256<long>.Zero;
        var acc1 = Vector256<long>.Zero;
        var i = 0;
        for (; i + 1 < vectors.Length; i += 2)
        {
            acc0 -= Vector256.GreaterThanOrEqual(vectors[i], e).AsInt64();
            acc1 -= Vector256.GreaterThanOrEqual(vectors[i + 1], e).AsInt64();
        }

        if (i < vectors.Length)
        {
            acc0 -= Vector256.GreaterThanOrEqual(vectors[i], e).AsInt64();
        }

        return Vector256.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long CountAtOrAbove(ReadOnlySpan<Vector256<float>> vectors, float edge)
    {
        // A block holds at most BlockSize / 8 vectors, so 32-bit lanes cannot overflow.
        var e = Vector256.Create(edge);
        var acc0 = Vector256<int>.Zero;
        var acc1 = Vector256<int>.Zero;
        var i = 0;
        for (; i + 1 < vectors.Length; i += 2)
        {
            acc0 -= Vector256.GreaterThanOrEqual(vectors[i], e).AsInt32();
            acc1 -= Vector256.GreaterThanOrEqual(vectors[i + 1], e).AsInt32();
        }

        if (i < vectors.Length)
        {
            acc0 -= Vector256.GreaterThanOrEqual(vectors[i], e).AsInt32();
        }

        return Vector256.Sum(acc0 + acc1);
    }

    private static long CountNaN(ReadOnlySpan<Vector256<double>> vectors)
    {
        var acc = Vector256<long>.Zero;
        foreach (var v in vectors)
        {
            acc -= (~Vector256.Equals(v, v)).AsInt64();
        }

        return Vector256.Sum(acc);
    }

    private static long CountNaN(ReadOnlySpan<Vector256<float>> vectors)
    {
        var acc = Vector256<int>.Zero;
        foreach (var v in vectors)
        {
            acc -= (~Vector256.Equals(v, v)).AsInt32();
        }

        return Vector256.Sum(acc);
    }

    private static void AddBins(Span<long> counts, ReadOnlySpan<long> atOrAbove, long nonNaN)
    {
        var k = atOrAbove.Length;
        if (k == 0)
        {
            counts[0] += nonNaN;
            return;
        }

        counts[0] += nonNaN - atOrAbove[0];
        for (var b = 1; b < k; b++)
        {
            counts[b] += atOrAbove[b - 1] - atOrAbove[b];
        }

        counts[k] += atOrAbove[k - 1];
    }

    private static void CheckLengths(int edges, int counts)
    {
        if (counts != edges + 1)
        {
            throw new ArgumentException($"{edges} inner edges make {edges + 1} bins but {counts} counts were given; expected {edges + 1}.", nameof(counts));
        }
    }
}
