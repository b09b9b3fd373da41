using System.Diagnostics.Metrics;
using System.Globalization;
using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Reports;
using AiOps.Monitoring.Tests.Support;
using MathNet.Numerics.Distributions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>
/// Issue 16: the missing-value share per feature is tracked and drift-alerts by itself (<c>missing_share</c>): an
/// upstream that starts sending nulls for 30 % of rows drifts even when the values that remain do not shift.
/// </summary>
public sealed class MissingShareDriftTests(ITestOutputHelper output)
{
    private static readonly ModelKey s_key = new("fraud", "2");

    /// <summary>Uniform [0, 1) reference values for "amount" and "age" (columns 0 and 1 of "features"), none missing.</summary>
    private static ReferenceProfile Profile()
    {
        var rng = new Random(1);
        var matrix = new float[4000 * 2];
        for (var i = 0; i < matrix.Length; i++)
        {
            matrix[i] = (float)rng.NextDouble();
        }

        return ReferenceProfileBuilder.FromMatrix(matrix, 2, ["amount", "age"], "features");
    }

    /// <summary>Rows of uniform values where "amount" is missing (NaN) in <paramref name="missingShare"/> of the rows.</summary>
    private static ModelRequest Request(int rows, double missingShare, int seed)
    {
        var rng = new Random(seed);
        var data = new float[rows * 2];
        for (var r = 0; r < rows; r++)
        {
            var amount = (float)rng.NextDouble();
            data[r * 2] = rng.NextDouble() < missingShare ? float.NaN : amount;
            data[(r * 2) + 1] = (float)rng.NextDouble();
        }

        return new ModelRequest(ModelTensor.Create("features", data.AsMemory(), rows, 2));
    }

    /// <summary>A numeric reference of 10,000 standard-normal values with every 50th missing (2 %).</summary>
    private static FeatureProfile TwoPercentMissingReference(out Random rng)
    {
        rng = new Random(11);
        var values = new double[10_000];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = i % 50 == 0 ? double.NaN : Normal(rng);
        }

        return ReferenceProfileBuilder.Numeric("x", values);
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double[] Window(Random rng, int rows, int missing)
    {
        var values = Enumerable.Range(0, rows).Select(_ => Normal(rng)).ToArray();
        for (var i = 0; i < missing; i++)
        {
            values[i * (rows / missing)] = double.NaN;
        }

        return values;
    }

    private static (ServiceProvider Provider, DriftMonitorTests.RecordingPublisher Alerts) Build()
    {
        var alerts = new DriftMonitorTests.RecordingPublisher();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch));
        services.AddSingleton<AiOps.Monitoring.Alerts.IAlertPublisher>(alerts);
        services.AddAiOpsDrift().AddProfile(s_key, Profile());
        return (services.BuildServiceProvider(), alerts);
    }

    /// <summary>The one-sided Fisher exact p-values, checked against SciPy 1.10 <c>fisher_exact([[k, m − k], [K, n − K]], alternative='greater')</c> (and exact rationals).</summary>
    [Theory]
    [InlineData(30, 100, 0, 10_000, 6.035043508904129e-63)] // 0 % -> 30 %: C(100, 30) / C(10100, 30)
    [InlineData(1, 100, 0, 10_000, 0.009900990099009901)] // one missing of 100 against none of 10,000
    [InlineData(8, 100, 200, 10_000, 0.0010393246723950289)] // 2 % -> 8 %
    [InlineData(20, 200, 50, 1_000, 0.007153961988198439)] // 5 % -> 10 %
    [InlineData(5, 200, 200, 10_000, 0.3750190088294127)] // 2 % -> 2.5 %
    [InlineData(5200, 100_000, 50_000, 1_000_000, 0.0030492619806667958, 1e-7)] // 5 % -> 5.2 % on large counts (ln Γ of 1e6)
    [InlineData(2100, 100_000, 200_000, 10_000_000, 0.013149603625544104, 1e-7)] // 2 % -> 2.1 % against 10 M reference rows
    public void MissingShare_PValue_IsFishersExactOneSidedTest_AsSciPy(long currentMissing, long currentRows, long referenceMissing, long referenceRows, double expected, double relative = 1e-9)
    {
        var (value, p) = DriftStatistics.MissingShare(referenceMissing, referenceRows, currentMissing, currentRows);
        Assert.Equal(((double)currentMissing / currentRows) - ((double)referenceMissing / referenceRows), value, 15);
        Assert.Equal(expected, p, expected * relative);
    }

    [Fact]
    public void MissingShare_AtOrBelowTheReference_IsNeverSignificant_AndBadCountsNameWhatIsExpected()
    {
        Assert.Equal(1, DriftStatistics.MissingShare(200, 10_000, 0, 100).PValue);
        Assert.Equal(1, DriftStatistics.MissingShare(200, 10_000, 2, 100).PValue);
        Assert.Equal(-0.02, DriftStatistics.MissingShare(200, 10_000, 0, 100).Value, 15);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => DriftStatistics.MissingShare(0, 100, 101, 100));
        Assert.Contains("Expected missing counts between 0 and the rows", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => DriftStatistics.MissingShare(0, 0, 0, 100));
    }

    [Fact]
    public async Task ZeroToThirtyPercentMissing_IsSevereMissingShare_AlertsNamingIt_AndRecordsTheGauge()
    {
        var (provider, alerts) = Build();
        await using var _ = provider;
        using var gauge = new MetricCollector<double>(provider.GetRequiredService<IMeterFactory>(), "AiOps.Monitoring", "aiops.drift.missing.share");
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(200, 0.3, i));
        }

        var result = Assert.Single(await monitor.CloseWindowsAsync());
        var missing = result.Find("amount", DriftStatisticNames.MissingShare)!;
        var rows = monitor.GetWindows(s_key)[0].Histogram["amount"];
        Assert.Equal(1000, missing.SampleCount); // every row, missing ones included
        Assert.Equal(rows.NaNCount / 1000.0, missing.Value, 15);
        Assert.InRange(missing.Value, 0.26, 0.34);
        Assert.Equal(DriftSeverity.Severe, missing.Severity);
        Assert.True(missing.PValue < 1e-50);

        // The values that remain are the reference's distribution: only the missing share drifted.
        Assert.Equal(DriftSeverity.Stable, result.Find("amount", DriftStatisticNames.Psi)!.Severity);
        Assert.Equal(DriftSeverity.Stable, result.Find("amount", DriftStatisticNames.KolmogorovSmirnov)!.Severity);
        Assert.Equal(DriftSeverity.Stable, result.Find("age", DriftStatisticNames.MissingShare)!.Severity);
        Assert.Equal(DriftSeverity.Severe, result.Severity);

        var alert = Assert.Single(alerts.Alerts);
        Assert.Equal("drift_psi_severe", alert.Rule);
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"amount missing_share={missing.Value:F3}"), alert.Message, StringComparison.Ordinal);
        Assert.Contains("missing_share threshold 0.20", alert.Message, StringComparison.Ordinal);
        Assert.Equal(missing.Value, alert.Value);

        var amount = gauge.GetMeasurementSnapshot().Single(m => (string?)m.Tags["feature"] == "amount");
        Assert.Equal(missing.Value, amount.Value);
        Assert.Equal("fraud", amount.Tags["model"]);
        Assert.Equal(0, gauge.GetMeasurementSnapshot().Single(m => (string?)m.Tags["feature"] == "age").Value);
    }

    [Fact]
    public async Task ThirtyPercentMissingThenBackToNone_ResolvesTheAlert()
    {
        var (provider, alerts) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.Observe(s_key, Request(500, 0.3, 1));
        await monitor.CloseWindowsAsync();
        monitor.Observe(s_key, Request(500, 0, 2));
        await monitor.CloseWindowsAsync();

        Assert.Equal(["drift_psi_severe:Firing", "drift_psi_severe:Resolved"], alerts.Alerts.Select(a => $"{a.Rule}:{a.State}"));
    }

    [Fact]
    public async Task AllMissingWindow_WithEnoughRows_IsSevereMissingShare_NotInsufficientData()
    {
        // An upstream outage: 200 rows, every value missing, after a reference with none missing. The distribution
        // cannot be judged (no values), but the missing share can: it rose by 100 points.
        var (provider, alerts) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.Observe(s_key, new ModelRequest(ModelTensor.Create("features", Enumerable.Repeat(float.NaN, 400).ToArray().AsMemory(), 200, 2)));

        var result = Assert.Single(await monitor.CloseWindowsAsync());

        foreach (var feature in new[] { "amount", "age" })
        {
            var missing = result.Find(feature, DriftStatisticNames.MissingShare)!;
            Assert.Equal(1.0, missing.Value);
            Assert.Equal(DriftSeverity.Severe, missing.Severity);
            Assert.Equal(200, missing.SampleCount);
            Assert.All(result.Features.Where(f => f.Feature == feature && f.Statistic != DriftStatisticNames.MissingShare),
                f => Assert.True(f.Severity == DriftSeverity.InsufficientData && double.IsNaN(f.Value)));
        }

        Assert.Equal(DriftSeverity.Severe, result.Severity);
        Assert.Equal(1.0, result.FeatureDriftShare());
        var alert = Assert.Single(alerts.Alerts);
        Assert.Equal("drift_psi_severe", alert.Rule);
        Assert.Contains("missing_share=1.000", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TooFewRows_AllMissing_StaysInsufficientData()
    {
        // 40 rows, all missing, under MinimumSampleCount (100): too few rows to judge even the missing share.
        var profile = Profile();
        var window = new ProfileHistogram(profile);
        window["amount"].Add(Enumerable.Repeat(double.NaN, 40).ToArray());
        window["age"].Add(Enumerable.Repeat(double.NaN, 40).ToArray());
        var result = new DriftCalculator().Evaluate(s_key, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), window);

        Assert.All(result.Features, f => Assert.Equal(DriftSeverity.InsufficientData, f.Severity));
        Assert.Equal(1.0, result.Find("amount", DriftStatisticNames.MissingShare)!.Value);
        Assert.Equal(DriftSeverity.InsufficientData, result.Severity);
    }

    [Fact]
    public void FewValuesButEnoughRows_DistributionIsInsufficient_MissingShareIsJudged()
    {
        // 150 rows of which 90 are missing: 60 values are too few for the distribution, 150 rows enough for the share.
        var profile = Profile();
        var window = new ProfileHistogram(profile);
        var rng = new Random(4);
        window["amount"].Add(Enumerable.Range(0, 150).Select(i => i < 90 ? double.NaN : rng.NextDouble()).ToArray());
        var result = new DriftCalculator().Evaluate(s_key, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), window);

        var missing = result.Find("amount", DriftStatisticNames.MissingShare)!;
        Assert.Equal(0.6, missing.Value, 15);
        Assert.Equal(DriftSeverity.Severe, missing.Severity);
        Assert.Equal(DriftSeverity.InsufficientData, result.Find("amount", DriftStatisticNames.Psi)!.Severity);
        Assert.Equal(60, result.Find("amount", DriftStatisticNames.Psi)!.SampleCount);
    }

    [Theory]
    [InlineData(100, 2)] // 2 % -> 2 %
    [InlineData(100, 3)] // 2 % -> 3 %
    [InlineData(200, 5)] // 2 % -> 2.5 %
    public void TwoPercentReference_SmallRise_IsNotFlagged(int rows, int missing)
    {
        var profile = TwoPercentMissingReference(out var rng);
        Assert.Equal(200, profile.MissingCount);
        var window = new FeatureHistogram(profile);
        window.Add(Window(rng, rows, missing));

        var row = new DriftCalculator().Evaluate(window).Single(r => r.Statistic == DriftStatisticNames.MissingShare);

        Assert.Equal(((double)missing / rows) - 0.02, row.Value, 15);
        Assert.Equal(DriftSeverity.Stable, row.Severity);
    }

    [Fact]
    public void TwoToTwoAndAHalfPercent_100RowWindows_FlagAtMost1Percent_ThirtyPercentAlwaysSevere()
    {
        // 4,000 seeded 100-row windows whose values go missing at 2.5 % against a 2 % reference: 7 missing of 100 (a
        // 5-point rise) is moderate by size but not significant (p = 0.0044 > 0.005 / 3), so it is not flagged; the
        // one-sided 95 % upper bound of the flagged share stays at most 1 %. At 30 % missing every window is flagged,
        // and severe (more than 22 of 100 missing) in about 95 % of them.
        var profile = TwoPercentMissingReference(out var rng);
        var calculator = new DriftCalculator();
        int flagged = 0, severe = 0, outages = 0;
        const int windows = 4_000;
        for (var w = 0; w < windows; w++)
        {
            var small = new FeatureHistogram(profile);
            small.Add(Enumerable.Range(0, 100).Select(_ => rng.NextDouble() < 0.025 ? double.NaN : Normal(rng)).ToArray());
            flagged += calculator.Evaluate(small).Single(r => r.Statistic == DriftStatisticNames.MissingShare).Severity >= DriftSeverity.Moderate ? 1 : 0;

            if (w % 10 == 0)
            {
                var outage = new FeatureHistogram(profile);
                outage.Add(Enumerable.Range(0, 100).Select(_ => rng.NextDouble() < 0.3 ? double.NaN : Normal(rng)).ToArray());
                var grade = calculator.Evaluate(outage).Single(r => r.Statistic == DriftStatisticNames.MissingShare).Severity;
                severe += grade == DriftSeverity.Severe ? 1 : 0;
                outages += grade >= DriftSeverity.Moderate ? 1 : 0;
            }
        }

        var bound = Beta.InvCDF(flagged + 1, windows - flagged, 0.95);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"2 % -> 2.5 %: {flagged} of {windows} flagged (95 % bound {100 * bound:F2} %); 30 %: {severe} of {windows / 10} severe"));
        Assert.True(bound <= 0.01, $"{flagged} of {windows} flagged");
        Assert.Equal(windows / 10, outages);
        Assert.True(severe >= windows / 10 * 0.9, $"{severe} of {windows / 10} severe");
    }

    [Fact]
    public void Thresholds_AreConfigurable_AndValidated()
    {
        var profile = TwoPercentMissingReference(out var rng);
        var window = new FeatureHistogram(profile);
        window.Add(Window(rng, 1000, 100)); // 2 % -> 10 %: moderate by default

        Assert.Equal(DriftSeverity.Moderate, new DriftCalculator().Evaluate(window).Single(r => r.Statistic == DriftStatisticNames.MissingShare).Severity);
        var strict = new DriftCalculator(new DriftOptions { MissingShare = new DriftThresholds(0.02, 0.05) });
        Assert.Equal(DriftSeverity.Severe, strict.Evaluate(window).Single(r => r.Statistic == DriftStatisticNames.MissingShare).Severity);
        var off = new DriftCalculator(new DriftOptions { NumericStatistics = DriftStatisticKinds.Psi });
        Assert.DoesNotContain(off.Evaluate(window), r => r.Statistic == DriftStatisticNames.MissingShare);
        Assert.Equal(0.05, new DriftOptions().ThresholdsFor(DriftStatisticNames.MissingShare).Moderate);

        var services = new ServiceCollection();
        services.AddAiOpsDrift(o => o.MissingShare = new DriftThresholds(0.3, 0.2));
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DriftOptions>>().Value);
        Assert.Equal(["AiOps:Monitoring:Drift:MissingShare:Severe is 0.2; expected a finite value of at least AiOps:Monitoring:Drift:MissingShare:Moderate (0.3)."], ex.Failures);
    }

    [Fact]
    public void CompareSamples_NaNShareOfRawSamples_IsTheMissingShare()
    {
        var rng = new Random(9);
        var reference = Enumerable.Range(0, 2000).Select(_ => Normal(rng)).ToArray();
        var current = Enumerable.Range(0, 2000).Select(i => i % 4 == 0 ? double.NaN : Normal(rng)).ToArray();

        var rows = new DriftCalculator().CompareSamples("x", reference, current);
        var missing = rows.Single(r => r.Statistic == DriftStatisticNames.MissingShare);
        Assert.Equal(0.25, missing.Value, 15);
        Assert.Equal(DriftSeverity.Severe, missing.Severity);
        Assert.Equal(DriftSeverity.Stable, rows.Single(r => r.Statistic == DriftStatisticNames.KolmogorovSmirnov).Severity);

        // Sorted samples carry no missing values, so there is no missing-share row.
        Assert.DoesNotContain(new DriftCalculator().CompareSorted("x", [.. reference.Order()], [.. current.Where(v => !double.IsNaN(v)).Order()]), r => r.Statistic == DriftStatisticNames.MissingShare);
    }

    [Fact]
    public async Task CompareVersions_CanaryMissingThirtyPercent_AgainstStable_IsSevere()
    {
        var (provider, _) = Build();
        await using var _p = provider;
        var canary = new ModelKey("fraud", "3");
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.SetProfile(canary, Profile());
        monitor.Observe(s_key, Request(1000, 0.02, 1));
        monitor.Observe(canary, Request(1000, 0.3, 2));
        await monitor.CloseWindowsAsync();

        var relative = monitor.CompareVersions(canary, s_key, DateTimeOffset.MinValue)!;
        var missing = relative.Find("amount", DriftStatisticNames.MissingShare)!;
        Assert.InRange(missing.Value, 0.22, 0.34);
        Assert.Equal(DriftSeverity.Severe, missing.Severity);
        Assert.Equal(DriftSeverity.Stable, relative.Find("age", DriftStatisticNames.MissingShare)!.Severity);
    }

    [Fact]
    public async Task CompareVersions_CanaryWithEveryValueMissing_IsComparedAndSevere()
    {
        var (provider, _) = Build();
        await using var _p = provider;
        var canary = new ModelKey("fraud", "3");
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.SetProfile(canary, Profile());
        monitor.Observe(s_key, Request(1000, 0, 1));
        monitor.Observe(canary, Request(500, 1, 2));
        await monitor.CloseWindowsAsync();

        var relative = monitor.CompareVersions(canary, s_key, DateTimeOffset.MinValue)!;
        var missing = relative.Find("amount", DriftStatisticNames.MissingShare)!;
        Assert.Equal(1.0, missing.Value);
        Assert.Equal(DriftSeverity.Severe, missing.Severity);
        Assert.Equal(DriftSeverity.InsufficientData, relative.Find("amount", DriftStatisticNames.Psi)!.Severity);
        Assert.Equal(DriftSeverity.Severe, relative.Severity);
    }

    [Fact]
    public void EvaluateHistogram_OnlyMissingValues_ReportsTheDistributionAsUnknown_AndJudgesTheShare()
    {
        var window = new FeatureHistogram(Profile().Find("amount")!);
        window.Add(Enumerable.Repeat(double.NaN, 50).ToArray());

        var rows = new DriftCalculator().Evaluate(window);

        Assert.Equal(["psi", "ks", "jensen_shannon", "missing_share"], rows.Select(r => r.Statistic));
        Assert.All(rows.SkipLast(1), r => Assert.True(r.Severity == DriftSeverity.InsufficientData && double.IsNaN(r.Value) && r.SampleCount == 0));
        Assert.Equal(DriftSeverity.Severe, rows[^1].Severity); // the feature-level call applies no minimum; the window-level one does
        Assert.Equal(50, rows[^1].SampleCount);
        var empty = Assert.Throws<ArgumentException>(() => new DriftCalculator().Evaluate(new FeatureHistogram(Profile().Find("amount")!)));
        Assert.Contains("expected at least one", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_RendersTheMissingShareRow_AndItsThresholds()
    {
        var (provider, _) = Build();
        await using var _p = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.Observe(s_key, Request(1000, 0.3, 3));
        await monitor.CloseWindowsAsync();
        var window = monitor.GetWindows(s_key)[0];
        var missing = window.Result.Find("amount", DriftStatisticNames.MissingShare)!;

        var html = new DriftReportWriter().Render(window);

        Assert.Contains(
            string.Create(CultureInfo.InvariantCulture, $"<tr><td class=\"name\">amount</td><td class=\"name\">missing_share</td><td>{missing.Value:F4}</td>"),
            html,
            StringComparison.Ordinal);
        Assert.Contains("<td>1000</td><td><span class=\"sev severe\">", html, StringComparison.Ordinal);
        Assert.Contains("missing share (current − reference, all rows) 0.05 / 0.2;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrometheusExport_HasTheMissingShareSeriesPerFeature()
    {
        using var h = new MonitoringHarness(o => o.Models.Add("fraud"), s => s.AddAiOpsDrift().AddProfile(s_key, Profile()));
        var exporter = h.Get<AiOpsPrometheusExporter>(); // listening from now on, as in a host
        var monitor = h.Get<IDriftMonitor>();
        monitor.Observe(s_key, Request(1000, 0.3, 5));
        var result = Assert.Single(await monitor.CloseWindowsAsync());
        var value = result.Find("amount", DriftStatisticNames.MissingShare)!.Value;

        var text = await exporter.ScrapeAsync();

        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"aiops_drift_missing_share{{feature=\"amount\",model=\"fraud\",version=\"2\"}} {value.ToString("R", CultureInfo.InvariantCulture)}"), text, StringComparison.Ordinal);
        Assert.Contains("aiops_drift_missing_share{feature=\"age\",model=\"fraud\",version=\"2\"} 0", text, StringComparison.Ordinal);
    }
}
