using AiOps.Release.Rollout;

namespace AiOps.Release.Tests.Rollout;

public sealed class MannWhitneyUTests
{
    [Fact]
    public void Test_AllCandidateValuesGreater_MatchesHandComputedStatistic()
    {
        // U = 6 of 6 pairs; mean 3; variance 2·3/12·6 = 3; z = (6 − 3 − 0.5)/√3 = 1.4434; p = 0.0745.
        var r = MannWhitneyU.Test([3, 4, 5], [1, 2]);
        Assert.Equal(6, r.U);
        Assert.Equal(1.4434, r.Z, 4);
        Assert.Equal(0.0745, r.PValue, 4);
        Assert.Equal(1.0, r.Effect);
    }

    [Fact]
    public void Test_Ties_UseAverageRanksAndTieCorrectedVariance()
    {
        // Ranks: 1→1, 2,2,2→3, 3→5; R1 = 7, U = 1; variance = 6/12·(6 − 24/20) = 2.4; z = (1 − 3 + 0.5)/√2.4.
        var r = MannWhitneyU.Test([1, 2, 2], [2, 3]);
        Assert.Equal(1, r.U);
        Assert.Equal(-1.5 / Math.Sqrt(2.4), r.Z, 10);
        Assert.True(r.PValue > 0.5);
    }

    [Fact]
    public void Test_ShiftedLargeSamples_SignificantWithLargeEffect()
    {
        var random = new Random(7);
        var baseline = Enumerable.Range(0, 400).Select(_ => 40 + (random.NextDouble() * 10)).ToArray();
        var candidate = Enumerable.Range(0, 400).Select(_ => 48 + (random.NextDouble() * 10)).ToArray();

        var r = MannWhitneyU.Test(candidate, baseline);

        Assert.True(r.PValue < 1e-6, $"p = {r.PValue}");
        Assert.True(r.Effect > 0.8, $"effect = {r.Effect}");
    }

    [Fact]
    public void Test_SameDistribution_NotSignificant()
    {
        var random = new Random(11);
        var a = Enumerable.Range(0, 300).Select(_ => random.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 300).Select(_ => random.NextDouble()).ToArray();

        var r = MannWhitneyU.Test(a, b);

        Assert.True(r.PValue > 0.05, $"p = {r.PValue}");
        Assert.InRange(r.Effect, 0.42, 0.58);
    }

    [Fact]
    public void Test_AllValuesEqual_NoEvidence()
    {
        var r = MannWhitneyU.Test([5, 5, 5], [5, 5]);
        Assert.Equal(0.5, r.PValue);
        Assert.Equal(0.5, r.Effect);
    }

    [Fact]
    public void Test_EmptySample_ThrowsNamingTheCounts()
    {
        var ex = Assert.Throws<ArgumentException>(() => MannWhitneyU.Test([], [1.0]));
        Assert.Contains("0 candidate and 1 baseline", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.5, 0.4795001222)]
    [InlineData(1, 0.1572992071)]
    [InlineData(2, 0.0046777350)]
    [InlineData(-1, 1.8427007929)]
    public void Erfc_KnownValues_WithinPublishedAccuracy(double x, double expected) =>
        Assert.Equal(expected, MannWhitneyU.Erfc(x), 6);
}
