using AiOps.Monitoring.Drift;

namespace AiOps.Monitoring.Tests.Drift;

public sealed class BinCounterTests
{
    private static long[] Naive(ReadOnlySpan<double> values, double[] edges, out long nan)
    {
        // Independent reference: a value's bin is the number of edges at or below it (np.digitize, right=False).
        var counts = new long[edges.Length + 1];
        nan = 0;
        foreach (var v in values)
        {
            if (double.IsNaN(v))
            {
                nan++;
                continue;
            }

            var bin = 0;
            foreach (var e in edges)
            {
                if (e <= v)
                {
                    bin++;
                }
            }

            counts[bin]++;
        }

        return counts;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(2048)]
    [InlineData(5003)]
    public void Count_RandomDoubles_MatchesNaiveCount(int length)
    {
        var rng = new Random(length + 1);
        var values = new double[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = rng.NextDouble() * 12 - 1;
            if (i % 97 == 5)
            {
                values[i] = double.NaN;
            }
            else if (i % 89 == 3)
            {
                values[i] = Math.Round(values[i]); // hit edges exactly
            }
        }

        double[] edges = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        var counts = new long[11];
        var nan = BinCounter.Count(values, edges, counts);
        var expected = Naive(values, edges, out var expectedNaN);
        Assert.Equal(expected, counts);
        Assert.Equal(expectedNaN, nan);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(4099)]
    public void Count_RandomFloats_MatchesNaiveCountOfTheirDoubleValues(int length)
    {
        var rng = new Random(length);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 3);
        }

        values[0] = 0.1f; // 0.100000001490116 > 0.1: goes above the edge 0.1
        double[] edges = [0.1, 0.7, 1.3, 2.9];
        var counts = new long[5];
        BinCounter.Count(values, edges, counts);
        Assert.Equal(Naive(values.Select(v => (double)v).ToArray(), edges, out _), counts);
    }

    [Fact]
    public void Count_FloatJustBelowDoubleEdge_StaysInLowerBin()
    {
        var below = MathF.BitDecrement(0.1f); // 0.099999994 < 0.1
        var values = Enumerable.Repeat(below, 16).ToArray();
        var counts = new long[2];
        BinCounter.Count(values, [0.1], counts);
        Assert.Equal([16L, 0L], counts);
    }

    [Fact]
    public void Count_ValuesOutsideReferenceRange_GoToOuterBinsNotDropped()
    {
        double[] values = [-1e300, -5, double.NegativeInfinity, 50, 1e300, double.PositiveInfinity, -7, 99];
        var counts = new long[4];
        var nan = BinCounter.Count(values, [0, 1, 2], counts);
        Assert.Equal(0, nan);
        Assert.Equal([4L, 0L, 0L, 4L], counts);
    }

    [Fact]
    public void Count_ValueOnEdge_GoesToUpperBin()
    {
        var counts = new long[3];
        BinCounter.Count([1.0, 1.0, 1.0, 1.0, 2.0], [1, 2], counts);
        Assert.Equal([0L, 4L, 1L], counts);
    }

    [Fact]
    public void Count_AllNaN_CountsNothingInBins()
    {
        var counts = new long[3];
        var nan = BinCounter.Count(Enumerable.Repeat(double.NaN, 9).ToArray(), [1, 2], counts);
        Assert.Equal(9, nan);
        Assert.Equal([0L, 0L, 0L], counts);
    }

    [Fact]
    public void Count_AddsToExistingCounts()
    {
        var counts = new long[] { 5, 5 };
        BinCounter.Count([0.0, 2.0], [1], counts);
        Assert.Equal([6L, 6L], counts);
    }

    [Fact]
    public void Count_WrongCountsLength_ThrowsNamingExpectedLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => BinCounter.Count([1.0], [1, 2], new long[2]));
        Assert.Contains("expected 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BinOf_NaN_IsMinusOne()
    {
        Assert.Equal(-1, BinCounter.BinOf([1, 2], double.NaN));
        Assert.Equal(2, BinCounter.BinOf([1, 2], 2));
    }
}
