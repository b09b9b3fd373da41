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
        Assert.All(rows, r => Assert.Equal(DriftSeverity.Severe, r.Severity));
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
        Assert.All(rows, r => Assert.Equal(DriftSeverity.Severe, r.Severity));
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
