using AiOps.Monitoring.Drift;

namespace AiOps.Monitoring.Tests.Drift;

public sealed class DriftStatisticsTests
{
    [Fact]
    public void Psi_WorkedExample_MatchesHandComputation()
    {
        // r = 0.25 each, c = 0.1, 0.2, 0.3, 0.4:
        // PSI = -0.15·ln(0.4) - 0.05·ln(0.8) + 0.05·ln(1.2) + 0.15·ln(1.6)
        //     = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228217 (by hand; 0.2282174096 to 10 digits).
        var psi = DriftStatistics.Psi([25, 25, 25, 25], [10, 20, 30, 40]);
        Assert.Equal(0.2282174096, psi, 1e-9);
    }

    [Fact]
    public void Psi_EmptyReferenceBin_UsesEpsilonFloor()
    {
        // r = 0.5, 0.5, 0 -> floored to 1e-4; c = 0.4, 0.4, 0.2:
        // PSI = 2·(-0.1·ln(0.8)) + (0.2 - 1e-4)·ln(0.2 / 1e-4) = 0.044629 + 1.519420 = 1.564049.
        var psi = DriftStatistics.Psi([50, 50, 0], [40, 40, 20], epsilon: 1e-4);
        Assert.Equal(1.5640491119, psi, 1e-9);
        Assert.True(double.IsFinite(psi));
    }

    [Fact]
    public void Psi_LargerEpsilon_GivesSmallerEmptyBinPenalty()
    {
        var small = DriftStatistics.Psi([50, 50, 0], [40, 40, 20], epsilon: 1e-6);
        var large = DriftStatistics.Psi([50, 50, 0], [40, 40, 20], epsilon: 1e-2);
        Assert.True(small > large);
    }

    [Fact]
    public void Psi_SameProportions_IsZero()
    {
        Assert.Equal(0, DriftStatistics.Psi([10, 20, 30], [100, 200, 300]), 1e-15);
    }

    [Fact]
    public void Psi_EmptyCurrentWindow_ThrowsNamingExpectation()
    {
        var ex = Assert.Throws<ArgumentException>(() => DriftStatistics.Psi([10, 20], [0, 0]));
        Assert.Contains("expected at least one", ex.Message, StringComparison.Ordinal);
        Assert.Equal("currentCounts", ex.ParamName);
    }

    [Fact]
    public void Psi_DifferentBinCounts_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => DriftStatistics.Psi([10, 20], [1, 2, 3]));
        Assert.Contains("same bins", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(double.NaN)]
    public void Psi_EpsilonOutOfRange_Throws(double epsilon)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DriftStatistics.Psi([1, 1], [1, 1], epsilon));
    }

    [Fact]
    public void JensenShannonDistance_WorkedExample_MatchesHandComputation()
    {
        // p = (0.5, 0.5), q = (1, 0), m = (0.75, 0.25), base 2:
        // KL(p||m) = 0.5·log2(2/3) + 0.5·log2(2) = 0.2075187; KL(q||m) = log2(4/3) = 0.4150375
        // JSD = 0.3112781, distance = sqrt(JSD) = 0.5579230 (SciPy: jensenshannon([.5,.5],[1,0], base=2)).
        Assert.Equal(0.5579230, DriftStatistics.JensenShannonDistance([5, 5], [10, 0]), 1e-6);
    }

    [Fact]
    public void JensenShannonDistance_DisjointAndIdentical_AreOneAndZero()
    {
        Assert.Equal(1, DriftStatistics.JensenShannonDistance([10, 0], [0, 7]), 1e-12);
        Assert.Equal(0, DriftStatistics.JensenShannonDistance([3, 7], [30, 70]), 1e-7);
    }

    [Fact]
    public void Hellinger_WorkedExample_MatchesHandComputation()
    {
        // Bhattacharyya coefficient = sqrt(0.5·1) + sqrt(0.5·0) = 0.7071068; H = sqrt(1 - 0.7071068) = 0.5411961.
        Assert.Equal(0.5411961, DriftStatistics.Hellinger([5, 5], [10, 0]), 1e-6);
        Assert.Equal(1, DriftStatistics.Hellinger([10, 0], [0, 7]), 1e-12);
    }

    [Fact]
    public void ChiSquare_WorkedExample_MatchesClosedForm()
    {
        // Expected = 100·(0.5, 0.3, 0.2) = (50, 30, 20); observed (40, 40, 20):
        // chi2 = 100/50 + 100/30 + 0 = 5.3333; df = 2, and for df = 2 the p-value is exp(-chi2/2) = 0.0694835.
        var r = DriftStatistics.ChiSquare([50, 30, 20], [40, 40, 20]);
        Assert.Equal(16.0 / 3, r.Statistic, 1e-12);
        Assert.Equal(2, r.DegreesOfFreedom);
        Assert.Equal(Math.Exp(-8.0 / 3), r.PValue, 1e-9);
        Assert.Equal(Math.Sqrt(16.0 / 3 / 100), r.EffectSize, 1e-12);
    }

    [Fact]
    public void ChiSquare_UnseenBucketInReference_IsReportedApartNotFlooredAtEpsilon()
    {
        // The seen buckets keep the reference's 50/50 exactly; the 10 % in the bucket the reference never had is the
        // unseen share (flooring it at epsilon gave chi2 = (10 - 0.01)^2 / 0.01 = 9,980).
        var r = DriftStatistics.ChiSquare([50, 50, 0], [45, 45, 10]);
        Assert.Equal(0, r.Statistic, 12);
        Assert.Equal(0.1, r.UnseenShare, 12);
        Assert.Equal(1, r.DegreesOfFreedom);
    }

    [Fact]
    public void KolmogorovSmirnov_WorkedExample_MatchesHandComputation()
    {
        // F_ref - F_cur at 1..5: .2-0, .4-0, .6-1/6, .8-2/6, 1-3/6 -> D = 0.5.
        var r = DriftStatistics.KolmogorovSmirnov([5, 1, 3, 2, 4], [8, 3, 4, 5, 6, 7]);
        Assert.Equal(0.5, r.Statistic, 1e-12);

        // Exact (SciPy ks_2samp(..., method='exact')): 5/14 of the C(11, 5) paths leave the band |i/5 - j/6| < 0.5.
        Assert.Equal(5.0 / 14, r.PValue, 1e-12);
    }

    [Fact]
    public void KolmogorovSmirnov_Ties_StepsOverEqualValuesTogether()
    {
        // At x = 1: 2/4 vs 1/4; at x = 2: 1 vs 1 -> D = 0.25 (SciPy ks_2samp([1,1,2,2],[1,2,2,2]).statistic = 0.25).
        Assert.Equal(0.25, DriftStatistics.KolmogorovSmirnov([1, 1, 2, 2], [1, 2, 2, 2]).Statistic, 1e-12);
    }

    [Fact]
    public void KolmogorovSmirnov_NaNValues_AreIgnored()
    {
        var withNaN = DriftStatistics.KolmogorovSmirnov([5, 1, double.NaN, 3, 2, 4], [8, 3, 4, double.NaN, 5, 6, 7]);
        Assert.Equal(0.5, withNaN.Statistic, 1e-12);
    }

    [Fact]
    public void KolmogorovSmirnov_AllNaN_Throws()
    {
        Assert.Throws<ArgumentException>(() => DriftStatistics.KolmogorovSmirnov([1, 2], [double.NaN]));
    }

    [Theory]
    // Published quantiles of the Kolmogorov distribution: P(K > 1.2238) = 0.10, P(K > 1.3581) = 0.05,
    // P(K > 1.6276) = 0.01, and P(K <= 1) = 0.7300 (Smirnov 1948 tables).
    [InlineData(1.2238, 0.10)]
    [InlineData(1.3581, 0.05)]
    [InlineData(1.6276, 0.01)]
    [InlineData(1.0, 0.2700)]
    public void KolmogorovSurvival_TableValues_Match(double lambda, double expected)
    {
        Assert.Equal(expected, DriftStatistics.KolmogorovSurvival(lambda), 2e-4);
    }

    [Fact]
    public void KolmogorovSurvival_SmallLambda_IsOne()
    {
        Assert.Equal(1, DriftStatistics.KolmogorovSurvival(0));
        Assert.Equal(1, DriftStatistics.KolmogorovSurvival(0.1));
    }

    [Fact]
    public void KolmogorovSmirnovBinned_WorkedExample_IsLargestCumulativeGap()
    {
        // Cumulative reference .25 .5 .75 1; current .1 .3 .6 1 -> gaps .15 .2 .15 0.
        Assert.Equal(0.2, DriftStatistics.KolmogorovSmirnovBinned([25, 25, 25, 25], [10, 20, 30, 40]).Statistic, 1e-12);
    }

    [Fact]
    public void Wasserstein_ShiftedSample_IsTheShift()
    {
        // SciPy documentation example: wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5.0.
        Assert.Equal(5.0, DriftStatistics.WassersteinSorted([0, 1, 3], [5, 6, 8]), 1e-12);
    }

    [Fact]
    public void Wasserstein_DifferentSizes_MatchesAreaBetweenCdfs()
    {
        // F_ref steps 1/2 at 0 and 1; F_cur steps 1/3 at 0, 1, 2.
        // |F-G| on [0,1) = 1/2-1/3 = 1/6; on [1,2) = 1 - 2/3 = 1/3 -> W = 1/6 + 1/3 = 0.5.
        Assert.Equal(0.5, DriftStatistics.WassersteinSorted([0, 1], [0, 1, 2]), 1e-12);
    }

    [Fact]
    public void NormalizedWasserstein_DividesByPopulationStandardDeviation()
    {
        // Reference (0, 1, 3): mean 4/3, population variance 42/27 -> sd 1.2472191; W = 5 -> 4.0089186.
        Assert.Equal(5 / Math.Sqrt(42.0 / 27), DriftStatistics.NormalizedWassersteinSorted([0, 1, 3], [5, 6, 8]), 1e-12);
    }

    [Fact]
    public void NormalizedWasserstein_ConstantReference_IsZeroOrInfinity()
    {
        Assert.Equal(0, DriftStatistics.NormalizedWassersteinSorted([2, 2, 2], [2, 2]));
        Assert.True(double.IsPositiveInfinity(DriftStatistics.NormalizedWassersteinSorted([2, 2, 2], [3])));
    }
}
