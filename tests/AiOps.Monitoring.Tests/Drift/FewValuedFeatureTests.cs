using AiOps.Drift;
using AiOps.Monitoring.Drift;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>Issue 16, item 1: features with few distinct values get one bin per value, so their changes are seen.</summary>
public sealed class FewValuedFeatureTests
{
    private static double[] Flag(int n, int ones)
    {
        var v = new double[n];
        for (var i = 0; i < ones; i++)
        {
            v[i] = 1;
        }

        return v;
    }

    [Fact]
    public void Flag_From5To50PercentOnes_HasThePsiOfTheFormula()
    {
        var profile = ReferenceProfileBuilder.Numeric("flag", Flag(1000, 50));
        Assert.Equal(BinningMethod.PerValue, profile.Binning);

        var window = new FeatureHistogram(profile);
        window.Add(Flag(1000, 500));
        var rows = new DriftCalculator().Evaluate(window);

        // Bins: (-inf, 0), {0}, (0, 1), {1}, (1, +inf). The "other" bins are empty on both sides, both floored at ε,
        // so their PSI terms are (ε − ε)·ln(ε/ε) = 0. The rest, by the formula Σ (c − r)·ln(c/r):
        // (0.50 − 0.95)·ln(0.50/0.95) + (0.50 − 0.05)·ln(0.50/0.05) = 0.45·(ln 1.9 + ln 10) = 0.45·ln 19.
        var expected = 0.45 * Math.Log(19);
        Assert.Equal(expected, rows.Single(r => r.Statistic == DriftStatisticNames.Psi).Value, 12);
        Assert.Equal(1.3249975406248981, expected, 12);
        Assert.Equal(0.45, rows.Single(r => r.Statistic == DriftStatisticNames.KolmogorovSmirnov).Value, 12);
        Assert.All(rows.Where(r => r.Statistic != DriftStatisticNames.MissingShare), r => Assert.Equal(DriftSeverity.Severe, r.Severity));
        Assert.Equal(DriftSeverity.Stable, rows.Single(r => r.Statistic == DriftStatisticNames.MissingShare).Severity); // nothing missing
    }

    [Theory]
    [InlineData(4.0)]
    [InlineData(2.0)]
    [InlineData(3.5)]
    public void ConstantColumn_ThatChangesValue_IsSevere(double newValue)
    {
        var profile = ReferenceProfileBuilder.Numeric("c", Enumerable.Repeat(3.0, 500).ToArray());
        var window = new FeatureHistogram(profile);
        window.Add(Enumerable.Repeat(newValue, 500).ToArray());
        var rows = new DriftCalculator().Evaluate(window);
        Assert.All(rows.Where(r => r.Statistic != DriftStatisticNames.MissingShare), r => Assert.Equal(DriftSeverity.Severe, r.Severity));
        Assert.Equal(0, rows.Single(r => r.Statistic == DriftStatisticNames.MissingShare).Value);
        Assert.Equal(1.0, rows.Single(r => r.Statistic == DriftStatisticNames.KolmogorovSmirnov).Value, 12);
    }

    [Fact]
    public void ConstantColumn_Unchanged_IsStable()
    {
        var profile = ReferenceProfileBuilder.Numeric("c", Enumerable.Repeat(3.0, 500).ToArray());
        var window = new FeatureHistogram(profile);
        window.Add(Enumerable.Repeat(3.0, 500).ToArray());
        Assert.All(new DriftCalculator().Evaluate(window), r => Assert.Equal(DriftSeverity.Stable, r.Severity));
    }

    [Fact]
    public void PerValueProfile_LabelsValues_AndRoundTripsThroughJson()
    {
        var profile = ReferenceProfileBuilder.Numeric("flag", Flag(100, 10)) with { Input = "x" };
        Assert.Equal("0", profile.BinLabel(1));
        Assert.Equal("1", profile.BinLabel(3));
        Assert.Equal([0L, 90, 0, 10, 0], profile.Counts);
        var back = ReferenceProfile.FromJson(new ReferenceProfile([profile]).ToJson()).Features[0];
        Assert.Equal(profile, back);
    }

    [Fact]
    public void ManyDistinctValues_KeepQuantileBins_AndThresholdZeroTurnsPerValueOff()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (double)i).ToArray();
        Assert.Equal(BinningMethod.Quantile, ReferenceProfileBuilder.Numeric("x", values).Binning);
        Assert.Equal(BinningMethod.Quantile, ReferenceProfileBuilder.Numeric("f", Flag(100, 10), new ReferenceProfileOptions { PerValueThreshold = 0 }).Binning);
    }
}

/// <summary>Issue 16, item 4: infinities and values near the double range in Wasserstein.</summary>
public sealed class InfiniteAndHugeValueTests
{
    private static double[] Normal(int n, double mean, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => mean + (Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
    }

    [Fact]
    public void Wasserstein_PlusInfinityInCurrentOnly_IsInfinite_AndSevere()
    {
        var reference = Normal(1000, 0, 1);
        var current = Normal(1000, 0, 2);
        for (var i = 0; i < 100; i++)
        {
            current[i] = double.PositiveInfinity;
        }

        var r = reference.Order().ToArray();
        var c = current.Order().ToArray();
        Assert.Equal(double.PositiveInfinity, DriftStatistics.WassersteinSorted(r, c));
        var row = new DriftCalculator().CompareSamples("x", reference, current).Single(f => f.Statistic == DriftStatisticNames.Wasserstein);
        Assert.Equal(double.PositiveInfinity, row.Value);
        Assert.Equal(DriftSeverity.Severe, row.Severity);
    }

    [Fact]
    public void Wasserstein_SameShareOfInfinities_CancelsAndFiniteValuesDecide()
    {
        // Both samples: 1 of 4 values is +inf; the finite parts {0,1,2} vs {1,2,3}: W = 3/4 · 1 (each step of 1/4 over length 1, three steps).
        double[] r = [0, 1, 2, double.PositiveInfinity];
        double[] c = [1, 2, 3, double.PositiveInfinity];
        Assert.Equal(0.75, DriftStatistics.WassersteinSorted(r, c), 12);
        double[] lowR = [double.NegativeInfinity, 0, 1, 2];
        double[] lowC = [double.NegativeInfinity, 1, 2, 3];
        Assert.Equal(0.75, DriftStatistics.WassersteinSorted(lowR, lowC), 12);
    }

    [Fact]
    public void NormalizedWasserstein_ValuesNear1e306_DoesNotOverflow()
    {
        // Scaling both samples by 1e306 must not change W / sd (it used to overflow the variance to +inf and give 0).
        var reference = Normal(2000, 0, 3);
        var current = Normal(2000, 1, 4);
        var expected = DriftStatistics.NormalizedWassersteinSorted(reference.Order().ToArray(), current.Order().ToArray());
        var huge = DriftStatistics.NormalizedWassersteinSorted(reference.Select(v => v * 1e306).Order().ToArray(), current.Select(v => v * 1e306).Order().ToArray());
        Assert.InRange(expected, 0.8, 1.2);
        Assert.Equal(expected, huge, 1e-9 * expected);
        var row = new DriftCalculator().CompareSamples("x", reference.Select(v => v * 1e306).ToArray(), current.Select(v => v * 1e306).ToArray())
            .Single(f => f.Statistic == DriftStatisticNames.Wasserstein);
        Assert.Equal(DriftSeverity.Severe, row.Severity);
    }
}
