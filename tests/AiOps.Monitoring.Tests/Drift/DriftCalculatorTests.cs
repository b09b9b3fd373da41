using AiOps.Drift;
using AiOps.Monitoring.Drift;

namespace AiOps.Monitoring.Tests.Drift;

public sealed class DriftCalculatorTests
{
    private static double[] Normal(int n, double mean, double sd, int seed)
    {
        var rng = new Random(seed);
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            // Box–Muller.
            var u1 = 1 - rng.NextDouble();
            var u2 = rng.NextDouble();
            values[i] = mean + (sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    [Fact]
    public void CompareSamples_OneStandardDeviationShift_IsSevereOnEveryStatistic()
    {
        var rows = new DriftCalculator().CompareSamples("x", Normal(5000, 0, 1, 1), Normal(5000, 1, 1, 2));
        Assert.Equal(["psi", "jensen_shannon", "ks", "wasserstein", "missing_share"], rows.Select(r => r.Statistic));
        Assert.All(rows.SkipLast(1), r => Assert.Equal(DriftSeverity.Severe, r.Severity));
        Assert.Equal(DriftSeverity.Stable, rows[^1].Severity); // no NaN on either side: share 0 − 0

        // A unit mean shift of unit normals: W1 = 1 sd exactly, KS D = 2·Φ(0.5) - 1 = 0.3829.
        Assert.Equal(1.0, rows.Single(r => r.Statistic == "wasserstein").Value, 0.08);
        Assert.Equal(0.3829, rows.Single(r => r.Statistic == "ks").Value, 0.03);
        Assert.True(rows.Single(r => r.Statistic == "ks").PValue < 1e-10);
    }

    [Fact]
    public void CompareSamples_TinyShiftOnHugeSample_IsStableThoughPValueIsSignificant()
    {
        // 0.03 sd: KS flags it at p < 0.05 with 200 000 values per side, yet it is no drift worth acting on.
        var rows = new DriftCalculator().CompareSamples("x", Normal(200_000, 0, 1, 3), Normal(200_000, 0.03, 1, 4));
        var ks = rows.Single(r => r.Statistic == "ks");
        Assert.True(ks.PValue < 0.05, $"p = {ks.PValue}");
        Assert.All(rows, r => Assert.Equal(DriftSeverity.Stable, r.Severity));
    }

    [Fact]
    public void CompareSamples_AllCurrentValuesAboveReferenceRange_CountedInLastBin()
    {
        var reference = Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray();
        var current = Enumerable.Repeat(50.0, 300).ToArray();
        var rows = new DriftCalculator().CompareSamples("x", reference, current);
        var psi = rows.Single(r => r.Statistic == "psi");

        // Nine bins with r = 0.1, c = 1e-4 (floored) and one with r = 0.1, c = 1:
        // PSI = 9·(1e-4 - 0.1)·ln(1e-4/0.1) + (1 - 0.1)·ln(1/0.1) = 6.2082 + 2.0723 = 8.2805.
        Assert.Equal((9 * (1e-4 - 0.1) * Math.Log(1e-4 / 0.1)) + (0.9 * Math.Log(10)), psi.Value, 1e-9);
        Assert.Equal(300, psi.SampleCount);
        Assert.Equal(1.0, rows.Single(r => r.Statistic == "ks").Value, 1e-12);
    }

    [Fact]
    public void CompareSamples_EmptyCurrent_ThrowsNamingSample()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DriftCalculator().CompareSamples("x", [1, 2, 3], []));
        Assert.Equal("current", ex.ParamName);
    }

    [Fact]
    public void Evaluate_WindowBelowMinimumSampleCount_FeatureIsInsufficientDataNotSkipped()
    {
        var profile = new ReferenceProfile(
        [
            ReferenceProfileBuilder.Numeric("a", Normal(1000, 0, 1, 5)),
            ReferenceProfileBuilder.Numeric("b", Normal(1000, 0, 1, 6)),
        ]);
        var window = new ProfileHistogram(profile);
        window["a"].Add(Normal(150, 0, 1, 7));
        window["b"].Add(Normal(50, 0, 1, 8));
        var result = new DriftCalculator(new DriftOptions { MinimumSampleCount = 100 })
            .Evaluate(new ModelKey("fraud", "1"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), window);

        Assert.Equal(["psi", "ks", "jensen_shannon", "missing_share"], result.Features.Where(f => f.Feature == "a").Select(f => f.Statistic)); // no wasserstein from bins
        Assert.All(result.Features.Where(f => f.Feature == "a"), f => Assert.NotEqual(DriftSeverity.InsufficientData, f.Severity));
        Assert.Equal(["psi", "ks", "jensen_shannon", "missing_share"], result.Features.Where(f => f.Feature == "b").Select(f => f.Statistic));
        Assert.All(result.Features.Where(f => f.Feature == "b"), f => Assert.Equal(DriftSeverity.InsufficientData, f.Severity));
    }

    [Fact]
    public void Evaluate_CategoricalShift_UsesChiSquareEffectSize()
    {
        var reference = ReferenceProfileBuilder.Categorical("c", Enumerable.Repeat("a", 500).Concat(Enumerable.Repeat("b", 500)));
        var current = new FeatureHistogram(reference);
        for (var i = 0; i < 1000; i++)
        {
            current.AddCategory(i < 800 ? "a" : "b");
        }

        var rows = new DriftCalculator().Evaluate(current);
        var chi = rows.Single(r => r.Statistic == "chi_square");

        // Expected 500/500, observed 800/200: chi2 = 2·300²/500 = 360; w = sqrt(360/1000) = 0.6 > 0.3 -> severe.
        Assert.Equal(360, chi.Value, 1e-9);
        Assert.Equal(DriftSeverity.Severe, chi.Severity);
        Assert.Equal(["psi", "jensen_shannon", "chi_square", "missing_share"], rows.Select(r => r.Statistic));
    }

    [Theory]
    [InlineData(0.05, DriftSeverity.Stable)]
    [InlineData(0.1, DriftSeverity.Moderate)]
    [InlineData(0.2, DriftSeverity.Moderate)]
    [InlineData(0.2001, DriftSeverity.Severe)]
    public void Classify_DefaultPsiThresholds_FollowTheField(double psi, DriftSeverity expected)
    {
        Assert.Equal(expected, new DriftOptions().Psi.Classify(psi));
    }

    [Fact]
    public void ThresholdsFor_UnknownStatistic_Throws()
    {
        Assert.Throws<ArgumentException>(() => new DriftOptions().ThresholdsFor("energy"));
    }
}
