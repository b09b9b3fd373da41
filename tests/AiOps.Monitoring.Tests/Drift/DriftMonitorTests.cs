using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Drift;

public sealed class DriftMonitorTests
{
    private static readonly ModelKey s_key = new("fraud", "2");

    internal sealed class RecordingPublisher : IAlertPublisher
    {
        public List<AlertEvent> Alerts { get; } = [];

        public ValueTask PublishAsync(AlertEvent alert, CancellationToken cancellationToken = default)
        {
            lock (Alerts)
            {
                Alerts.Add(alert);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class RecordingSink : IDriftResultSink
    {
        public List<DriftResult> Results { get; } = [];

        public TaskCompletionSource<DriftResult> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask OnDriftResultAsync(DriftResult result, CancellationToken cancellationToken = default)
        {
            lock (Results)
            {
                Results.Add(result);
            }

            First.TrySetResult(result);
            return ValueTask.CompletedTask;
        }
    }

    private static ReferenceProfile Profile()
    {
        // Two features read from columns 0 and 1 of the "features" input, uniform on [0, 1).
        var rng = new Random(1);
        var matrix = new float[2000 * 2];
        for (var i = 0; i < matrix.Length; i++)
        {
            matrix[i] = (float)rng.NextDouble();
        }

        return ReferenceProfileBuilder.FromMatrix(matrix, 2, ["amount", "age"], "features");
    }

    private static ModelRequest Request(int rows, float shiftAmount, int seed, string? requestId = null)
    {
        var rng = new Random(seed);
        var data = new float[rows * 2];
        for (var r = 0; r < rows; r++)
        {
            data[r * 2] = (float)rng.NextDouble() + shiftAmount;
            data[(r * 2) + 1] = (float)rng.NextDouble();
        }

        return new ModelRequest(ModelTensor.Create("features", data.AsMemory(), rows, 2)) { RequestId = requestId };
    }

    private static ModelResponse Response() => new(s_key, [ModelTensor.Create("probabilities", new float[] { 0.2f, 0.8f }.AsMemory(), 1, 2)]);

    private static (ServiceProvider Provider, FakeTimeProvider Time, RecordingPublisher Alerts, RecordingSink Sink) Build(Action<DriftOptions>? configure = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var alerts = new RecordingPublisher();
        var sink = new RecordingSink();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IAlertPublisher>(alerts);
        services.AddSingleton<IDriftResultSink>(sink);
        services.AddAiOpsDrift(configure).AddProfile(s_key, Profile());
        return (services.BuildServiceProvider(), time, alerts, sink);
    }

    [Fact]
    public void AddAiOpsDrift_CalledTwice_RegistersOneObserverOneHostedServiceOneHealthCheck()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAiOpsDrift();
        services.AddAiOpsDrift(o => o.WindowSize = 10);
        using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<IInferenceObserver>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<IDriftMonitor>());
        Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations);
        Assert.Same(provider.GetRequiredService<IDriftMonitor>(), provider.GetRequiredService<IVersionDriftProvider>());
        Assert.Equal(10, provider.GetRequiredService<IOptions<DriftOptions>>().Value.WindowSize);
    }

    [Fact]
    public void AddAiOpsDrift_BadSettings_FailValidationNamingThem()
    {
        var services = new ServiceCollection();
        services.AddAiOpsDrift(o =>
        {
            o.Epsilon = 0;
            o.Psi = new DriftThresholds(0.3, 0.2);
            o.WindowDuration = TimeSpan.Zero;
        });
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DriftOptions>>().Value);
        Assert.Equal(
            ["AiOps:Monitoring:Drift:Epsilon is 0; expected a value strictly between 0 and 1 (default 1e-4).",
             "AiOps:Monitoring:Drift:Psi:Severe is 0.2; expected a finite value of at least AiOps:Monitoring:Drift:Psi:Moderate (0.3).",
             "AiOps:Monitoring:Drift:WindowDuration is 00:00:00; expected a positive duration (default 01:00:00)."],
            ex.Failures);
    }

    [Fact]
    public async Task TimeWindow_ShiftedTraffic_PublishesSevereResultGaugeAlertAndDegradedHealth()
    {
        var (provider, time, alerts, sink) = Build();
        await using var _ = provider;
        var hosted = provider.GetServices<IHostedService>().OfType<IDriftMonitor>().Cast<IHostedService>().Single();
        await hosted.StartAsync(CancellationToken.None);
        using var psi = new MetricCollector<double>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Monitoring", "aiops.drift.psi");
        using var bins = new MetricCollector<long>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Monitoring", "aiops.drift.bin.values");
        var observer = provider.GetRequiredService<IInferenceObserver>();
        var health = provider.GetRequiredService<HealthCheckService>();

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        for (var i = 0; i < 10; i++)
        {
            observer.OnInference(s_key, Request(50, shiftAmount: 0.5f, seed: i), Response());
        }

        time.Advance(TimeSpan.FromHours(1));
        var result = await sink.First.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(s_key, result.Key);
        Assert.Equal(time.GetUtcNow(), result.WindowEnd);
        Assert.Equal(time.GetUtcNow().AddHours(-1), result.WindowStart);
        Assert.Equal(DriftSeverity.Severe, result.Find("amount", "psi")!.Severity);
        Assert.Equal(DriftSeverity.Stable, result.Find("age", "psi")!.Severity);
        Assert.Equal(500, result.Find("amount", "psi")!.SampleCount);
        Assert.Equal(0.5, result.FeatureDriftShare());

        var amountGauge = psi.GetMeasurementSnapshot().Single(m => (string?)m.Tags["feature"] == "amount");
        Assert.Equal(result.Find("amount", "psi")!.Value, amountGauge.Value);
        Assert.Equal("fraud", amountGauge.Tags["model"]);
        Assert.Equal("2", amountGauge.Tags["version"]);
        Assert.Equal(1000, bins.GetMeasurementSnapshot().Sum(m => m.Value)); // 500 rows x 2 features

        var alert = Assert.Single(alerts.Alerts);
        Assert.Equal("drift_psi_severe", alert.Rule);
        Assert.Equal(AlertState.Firing, alert.State);
        Assert.Equal(s_key, alert.Key);
        Assert.Contains("amount", alert.Message, StringComparison.Ordinal);

        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("amount", report.Entries["aiops-drift-monitor"].Description, StringComparison.Ordinal);

        var provider2 = provider.GetRequiredService<IVersionDriftProvider>();
        Assert.Equal(DriftSeverity.Severe, provider2.GetWorstSeverity(s_key, time.GetUtcNow().AddHours(-2)));
        Assert.Null(provider2.GetWorstSeverity(s_key, time.GetUtcNow().AddMinutes(1)));
        Assert.Null(provider2.GetWorstSeverity(new ModelKey("fraud", "1"), DateTimeOffset.MinValue));
        await hosted.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task CloseWindows_DriftEnds_ResolvesAlert()
    {
        var (provider, _, alerts, _) = Build();
        await using var __ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(100, 0.5f, i));
        }

        await monitor.CloseWindowsAsync();
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(100, 0f, 100 + i));
        }

        var results = await monitor.CloseWindowsAsync();

        Assert.True(Assert.Single(results).Find("amount", "psi")!.Value < 0.1);
        Assert.Equal(["drift_psi_severe:Firing", "drift_psi_severe:Resolved"], alerts.Alerts.Select(a => $"{a.Rule}:{a.State}"));
        Assert.Equal(2, monitor.GetWindows(s_key).Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CloseWindows_SevereThenNoUsableData_IsInsufficientData_KeepsAlertFiring_AndIsNotHealthy(bool allNaN)
    {
        // Issue 16: an all-NaN window, or one below MinimumSampleCount, used to read Stable and resolve the severe alert.
        // The all-NaN window here has 40 rows, under the minimum of 100: too few to judge even its missing share (with
        // enough rows an all-missing window is a severe missing_share drift, see MissingShareDriftTests).
        var (provider, time, alerts, _) = Build();
        await using var __ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        var health = provider.GetRequiredService<HealthCheckService>();
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(100, 0.5f, i));
        }

        await monitor.CloseWindowsAsync();
        time.Advance(TimeSpan.FromHours(1));
        if (allNaN)
        {
            var data = Enumerable.Repeat(float.NaN, 80).ToArray();
            monitor.Observe(s_key, new ModelRequest(ModelTensor.Create("features", data.AsMemory(), 40, 2)));
        }
        else
        {
            monitor.Observe(s_key, Request(20, 0f, 99)); // 20 rows < MinimumSampleCount 100
        }

        var result = Assert.Single(await monitor.CloseWindowsAsync());

        Assert.NotEmpty(result.Features);
        Assert.All(result.Features, f => Assert.Equal(DriftSeverity.InsufficientData, f.Severity));
        Assert.Equal(DriftSeverity.InsufficientData, result.Severity);
        Assert.Equal(["drift_psi_severe:Firing"], alerts.Alerts.Select(a => $"{a.Rule}:{a.State}"));
        var entry = (await health.CheckHealthAsync()).Entries["aiops-drift-monitor"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("insufficient data", entry.Description, StringComparison.Ordinal);

        // Only the insufficient window in range: unknown, not stable; with the severe one too: severe.
        var drift = provider.GetRequiredService<IVersionDriftProvider>();
        Assert.Equal(DriftSeverity.InsufficientData, drift.GetWorstSeverity(s_key, time.GetUtcNow().AddMinutes(-1)));
        Assert.Equal(DriftSeverity.Severe, drift.GetWorstSeverity(s_key, time.GetUtcNow().AddHours(-2)));

        var html = new AiOps.Monitoring.Reports.DriftReportWriter().Render(result, null);
        Assert.Contains("sev unknown", html, StringComparison.Ordinal);
        Assert.DoesNotContain("sev stable", html, StringComparison.Ordinal);

        // Data comes back and is stable: now the alert resolves.
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(100, 0f, 200 + i));
        }

        await monitor.CloseWindowsAsync();
        Assert.Equal(["drift_psi_severe:Firing", "drift_psi_severe:Resolved"], alerts.Alerts.Select(a => $"{a.Rule}:{a.State}"));
    }

    [Fact]
    public async Task CloseWindows_ModerateThenSevere_ResolvesModerateAsEscalatedAndFiresSevere()
    {
        var (provider, _, alerts, _) = Build();
        await using var __ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(100, 0.07f, i));
        }

        var moderate = Assert.Single(await monitor.CloseWindowsAsync()).Find("amount", "psi")!;
        for (var i = 0; i < 5; i++)
        {
            monitor.Observe(s_key, Request(100, 0.5f, 100 + i));
        }

        var severe = Assert.Single(await monitor.CloseWindowsAsync()).Find("amount", "psi")!;

        Assert.Equal(DriftSeverity.Moderate, moderate.Severity);
        Assert.Equal(DriftSeverity.Severe, severe.Severity);
        Assert.Equal(
            ["drift_psi_moderate:Firing", "drift_psi_moderate:Resolved", "drift_psi_severe:Firing"],
            alerts.Alerts.Select(a => $"{a.Rule}:{a.State}"));
        Assert.Contains("escalated to severe", alerts.Alerts[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CloseWindows_NoTraffic_ProducesNoResult()
    {
        var (provider, _, alerts, sink) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.Observe(new ModelKey("other", "1"), Request(10, 0, 1)); // no profile: ignored
        Assert.Empty(await monitor.CloseWindowsAsync());
        Assert.Empty(sink.Results);
        Assert.Empty(alerts.Alerts);
        Assert.Empty(monitor.TrackedVersions);
    }

    [Fact]
    public async Task CountWindow_ReachesWindowSize_ClosesWithoutTimePassing()
    {
        var (provider, _, _, sink) = Build(o => o.WindowSize = 300);
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.Observe(s_key, Request(200, 0, 1));
        Assert.Empty(monitor.GetWindows(s_key));
        monitor.Observe(s_key, Request(200, 0, 2));

        var result = await sink.First.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(400, result.Find("amount", "psi")!.SampleCount);
        Assert.Equal(DriftSeverity.Stable, result.Find("amount", "psi")!.Severity);
        Assert.Single(monitor.GetWindows(s_key));
    }

    [Fact]
    public async Task Observe_NaNInputs_CountedAsMissingNotInBins()
    {
        var (provider, _, _, _) = Build(o => o.MinimumSampleCount = 1);
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        var data = new float[] { float.NaN, 0.5f, 0.25f, float.NaN, 2f, 0.75f };
        monitor.Observe(s_key, new ModelRequest(ModelTensor.Create("features", data.AsMemory(), 3, 2)));
        await monitor.CloseWindowsAsync();

        var window = Assert.Single(monitor.GetWindows(s_key));
        Assert.Equal(2, window.Histogram["amount"].Count);
        Assert.Equal(1, window.Histogram["amount"].NaNCount);
        Assert.Equal(2, window.Histogram["age"].Count);
        Assert.Equal(1, window.Histogram["age"].NaNCount);
        Assert.Equal(3, window.Histogram.Rows);
        Assert.Equal(1, window.Histogram["amount"].Counts[^1]); // 2.0 is beyond the reference range: last bin
    }

    [Fact]
    public async Task SetProfile_ModelWide_AppliesToEveryVersion()
    {
        var (provider, _, _, _) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        var canary = new ModelKey("fraud", "3");
        Assert.Null(monitor.GetProfile(canary));
        monitor.SetProfile(new ModelId("fraud"), Profile());
        monitor.Observe(canary, Request(150, 0, 1));
        var results = await monitor.CloseWindowsAsync();
        Assert.Equal(canary, Assert.Single(results).Key);
    }

    [Fact]
    public async Task CloseWindows_SeveralVersionsTracked_ClosesEachInVersionOrder()
    {
        var (provider, _, _, _) = Build();
        await using var _ = provider;
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.SetProfile(new ModelId("fraud"), Profile());
        ModelKey[] keys = [new("fraud", "10"), new("fraud", "2"), new("fraud", "1")];
        for (var i = 0; i < keys.Length; i++)
        {
            monitor.Observe(keys[i], Request(150, 0, i));
        }

        var results = await monitor.CloseWindowsAsync();

        ModelKey[] expected = [new("fraud", "1"), new("fraud", "2"), new("fraud", "10")];
        Assert.Equal(expected, monitor.TrackedVersions);
        Assert.Equal(expected, results.Select(r => r.Key));
        Assert.All(expected, k => Assert.Single(monitor.GetWindows(k)));
    }
}
