using AiOps.Drift;
using AiOps.Monitoring.Drift;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>Issue 16, item 2: unseen categories without the epsilon blow-up, alerts from the type's test, insufficient features.</summary>
public sealed class CategoricalDriftTests
{
    private static readonly ModelKey s_key = new("churn", "1");

    private static FeatureProfile Colours(long red = 5_000, long blue = 5_000) =>
        FeatureProfile.CreateCategorical("colour", ["0", "1"], [red, blue]);

    [Fact]
    public void UnseenCategory_TenPercent_IsModerateByItsShare_WithAFiniteChiSquare()
    {
        var window = new FeatureHistogram(Colours());
        window.AddCategories([.. Enumerable.Repeat(0L, 45), .. Enumerable.Repeat(1L, 45), .. Enumerable.Repeat(7L, 10)]);
        var chi = new DriftCalculator().Evaluate(window).Single(r => r.Statistic == DriftStatisticNames.ChiSquare);

        Assert.True(chi.Value < 1, $"chi2 = {chi.Value}");
        Assert.Equal(DriftSeverity.Moderate, chi.Severity);

        // 40 % unseen is severe; 2 % is not drift.
        var severe = new FeatureHistogram(Colours());
        severe.AddCategories([.. Enumerable.Repeat(0L, 30), .. Enumerable.Repeat(1L, 30), .. Enumerable.Repeat(9L, 40)]);
        Assert.Equal(DriftSeverity.Severe, new DriftCalculator().Evaluate(severe).Single(r => r.Statistic == DriftStatisticNames.ChiSquare).Severity);
        var few = new FeatureHistogram(Colours());
        few.AddCategories([.. Enumerable.Repeat(0L, 49), .. Enumerable.Repeat(1L, 49), .. Enumerable.Repeat(9L, 2)]);
        Assert.Equal(DriftSeverity.Stable, new DriftCalculator().Evaluate(few).Single(r => r.Statistic == DriftStatisticNames.ChiSquare).Severity);
    }

    [Fact]
    public async Task ChiSquareModerate_PsiStable_FiresTheDriftAlert()
    {
        // 50/50 -> 60/40 over 2,000 rows: Cohen's w = 0.2 (moderate), PSI = 0.041 (stable), significant at p << 0.01.
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var alerts = new DriftMonitorTests.RecordingPublisher();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<AiOps.Monitoring.Alerts.IAlertPublisher>(alerts);
        services.AddAiOpsDrift().AddProfile(s_key, new ReferenceProfile([Colours() with { Input = "colour" }]));
        await using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        var codes = Enumerable.Range(0, 2_000).Select(i => i % 10 < 6 ? 0L : 1L).ToArray();
        monitor.Observe(s_key, new ModelRequest(ModelTensor.Create("colour", codes.AsMemory(), codes.Length, 1)));

        var result = Assert.Single(await monitor.CloseWindowsAsync());

        Assert.Equal(DriftSeverity.Stable, result.Find("colour", DriftStatisticNames.Psi)!.Severity);
        Assert.Equal(DriftSeverity.Moderate, result.Find("colour", DriftStatisticNames.ChiSquare)!.Severity);
        var alert = Assert.Single(alerts.Alerts);
        Assert.Equal("drift_psi_moderate", alert.Rule);
        Assert.Contains("colour chi_square=", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_OneFeatureBelowMinimum_IsInsufficientData_OthersJudged()
    {
        var rng = new Random(3);
        var x = ReferenceProfileBuilder.Numeric("x", Enumerable.Range(0, 5_000).Select(_ => rng.NextDouble()).ToArray());
        var empty = ReferenceProfileBuilder.Numeric("empty", Enumerable.Range(0, 5_000).Select(_ => rng.NextDouble()).ToArray());
        var window = new ProfileHistogram(new ReferenceProfile([x, Colours(), empty]));
        window["x"].Add(Enumerable.Range(0, 500).Select(_ => rng.NextDouble()).ToArray());
        window["colour"].AddCategories([0, 1, 1, 0, 7]);
        window["empty"].Add([double.NaN, double.NaN]);

        var result = new DriftCalculator().Evaluate(s_key, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), window);

        Assert.All(result.Features.Where(f => f.Feature == "x"), f => Assert.Equal(DriftSeverity.Stable, f.Severity));
        var colour = result.Features.Where(f => f.Feature == "colour").ToList();
        Assert.Equal(4, colour.Count); // psi, chi_square, jensen_shannon, missing_share: reported, not judged (5 rows)
        Assert.All(colour, f => Assert.Equal(DriftSeverity.InsufficientData, f.Severity));
        Assert.All(colour, f => Assert.Equal(5, f.SampleCount));
        var missing = result.Features.Where(f => f.Feature == "empty").ToList();
        Assert.NotEmpty(missing);
        Assert.All(missing, f => Assert.Equal(DriftSeverity.InsufficientData, f.Severity));
        Assert.All(missing.Where(f => f.Statistic != DriftStatisticNames.MissingShare), f => Assert.True(double.IsNaN(f.Value)));

        // Two rows, both missing: the share rose by 100 points, but two rows are too few to judge (minimum 100 rows).
        Assert.Equal(1.0, missing.Single(f => f.Statistic == DriftStatisticNames.MissingShare).Value);
        Assert.Equal(DriftSeverity.Stable, result.Severity);
        Assert.Equal(
            [new("x", DriftSeverity.Stable), new("colour", DriftSeverity.InsufficientData), new("empty", DriftSeverity.InsufficientData)],
            result.FeatureSeverities());
        Assert.Equal(0, result.FeatureDriftShare());
    }
}
