using System.Diagnostics.CodeAnalysis;
using AiOps.Metrics;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Runners;
using AiOps.Monitoring.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Monitoring.Tests.Runners;

public sealed class MonitoredModelRunnerTests
{
    private static readonly ModelKey Fraud1 = new("fraud", "1");

    [Fact]
    public async Task RunAsync_RealCalls_ScrapedMetricsShowLatencyAndOutcomes()
    {
        using var h = new MonitoringHarness();
        var inner = new FakeRunner(Fraud1, h.Time) { Latency = TimeSpan.FromMilliseconds(40) };
        var runner = inner.WithMonitoring(h.Provider);

        for (var i = 0; i < 3; i++)
        {
            await runner.RunAsync(FakeRunner.Request());
        }

        inner.Failure = new InvalidOperationException("boom");
        await Assert.ThrowsAsync<InvalidOperationException>(() => runner.RunAsync(FakeRunner.Request()).AsTask());
        inner.Failure = new ModelInputException("features", "bad shape");
        await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(FakeRunner.Request()).AsTask());

        var text = await h.Get<AiOpsPrometheusExporter>().ScrapeAsync();
        Assert.Contains("aiops_model_requests_total{model=\"fraud\",version=\"1\",outcome=\"ok\"} 3", text);
        Assert.Contains("aiops_model_requests_total{model=\"fraud\",version=\"1\",outcome=\"error\"} 1", text);
        Assert.Contains("aiops_model_requests_total{model=\"fraud\",version=\"1\",outcome=\"bad_input\"} 1", text);
        Assert.Contains("# TYPE aiops_model_request_duration_seconds histogram", text);
        Assert.Contains("aiops_model_request_duration_seconds_count{model=\"fraud\",version=\"1\",outcome=\"ok\"} 3", text);

        // 40 ms falls in the 0.05 s bucket, not in the 0.025 s one.
        Assert.Contains("aiops_model_request_duration_seconds_bucket{model=\"fraud\",version=\"1\",outcome=\"ok\",le=\"0.05\"} 3", text);
        Assert.Contains("aiops_model_request_duration_seconds_bucket{model=\"fraud\",version=\"1\",outcome=\"ok\",le=\"0.025\"} 0", text);
        Assert.Contains("aiops_model_in_flight{model=\"fraud\",version=\"1\"} 0", text);
    }

    [Fact]
    public async Task RunAsync_WithMetricCollector_RecordsSystemDiagnosticsMetrics()
    {
        using var h = new MonitoringHarness();
        using var collector = new MetricCollector<double>(h.Get<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Monitoring", "aiops.model.request.duration");
        var runner = new FakeRunner(Fraud1, h.Time) { Latency = TimeSpan.FromMilliseconds(250) }.WithMonitoring(h.Provider);

        await runner.RunAsync(FakeRunner.Request());

        var measurement = Assert.Single(collector.GetMeasurementSnapshot());
        Assert.Equal(0.25, measurement.Value, 6);
        Assert.Equal("fraud", measurement.Tags["model"]);
        Assert.Equal("ok", measurement.Tags["outcome"]);
    }

    [Fact]
    public async Task RunAsync_Successful_CallsEveryObserverAndIsolatesFailingOne()
    {
        var good = new CountingObserver();
        using var h = new MonitoringHarness(services: s =>
        {
            s.AddSingleton<IInferenceObserver>(new ThrowingObserver());
            s.AddSingleton<IInferenceObserver>(good);
        });
        var runner = new FakeRunner(Fraud1, h.Time).WithMonitoring(h.Provider);

        var response = await runner.RunAsync(FakeRunner.Request(rows: 2));

        Assert.Equal(Fraud1, response.Key);
        Assert.Equal(1, good.Calls);
        Assert.Equal(2, good.LastRows);
    }

    [Fact]
    public async Task RunAsync_Failed_DoesNotCallObservers()
    {
        var observer = new CountingObserver();
        using var h = new MonitoringHarness(services: s => s.AddSingleton<IInferenceObserver>(observer));
        var runner = new FakeRunner(Fraud1, h.Time) { Failure = new ModelRejectedException("queue full") }.WithMonitoring(h.Provider);

        await Assert.ThrowsAsync<ModelRejectedException>(() => runner.RunAsync(FakeRunner.Request()).AsTask());

        Assert.Equal(0, observer.Calls);
    }

    [Fact]
    public async Task GetSnapshotAsync_SinceFiltersByTime_CountsOnlyLaterCalls()
    {
        using var h = new MonitoringHarness();
        var inner = new FakeRunner(Fraud1, h.Time) { Latency = TimeSpan.FromMilliseconds(100) };
        var runner = inner.WithMonitoring(h.Provider);
        for (var i = 0; i < 5; i++)
        {
            await runner.RunAsync(FakeRunner.Request());
        }

        h.Time.Advance(TimeSpan.FromMinutes(10));
        var since = h.Time.GetUtcNow();
        inner.Latency = TimeSpan.FromMilliseconds(300);
        await runner.RunAsync(FakeRunner.Request());
        inner.Failure = new TimeoutException();
        await Assert.ThrowsAsync<TimeoutException>(() => runner.RunAsync(FakeRunner.Request()).AsTask());

        var source = h.Get<IVersionMetricsSource>();
        var recent = await source.GetSnapshotAsync(Fraud1, since);
        var all = await source.GetSnapshotAsync(Fraud1, since - TimeSpan.FromHours(1));

        Assert.Equal(2, recent.Requests);
        Assert.Equal(1, recent.Failures);
        Assert.Equal([300.0, 300.0], recent.LatencySamplesMs.Select(x => Math.Round(x)));
        Assert.Equal(7, all.Requests);
        Assert.Equal(100, all.Percentile(0.5)!.Value, 3);
    }

    [Fact]
    public async Task GetSnapshotAsync_WithProviders_FillsAccuracyAndDrift()
    {
        var accuracy = new FakeAccuracy { Accuracy = 0.91 };
        var drift = new FakeDrift { Severity = AiOps.Drift.DriftSeverity.Moderate };
        using var h = new MonitoringHarness(services: s =>
        {
            s.AddSingleton<IVersionAccuracyProvider>(accuracy);
            s.AddSingleton<IVersionDriftProvider>(drift);
        });

        var snapshot = await h.Get<IVersionMetricsSource>().GetSnapshotAsync(Fraud1, h.Time.GetUtcNow().AddHours(-1));

        Assert.Equal(0.91, snapshot.Accuracy);
        Assert.Equal(AiOps.Drift.DriftSeverity.Moderate, snapshot.Drift);
        Assert.Equal(0, snapshot.Requests);
    }

    [Fact]
    public async Task RunAsync_CallerCancelled_CountsCancelledButNotAsVersionFailure()
    {
        using var h = new MonitoringHarness();
        var runner = new FakeRunner(Fraud1, h.Time).WithMonitoring(h.Provider);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(FakeRunner.Request(), cts.Token).AsTask());

        var text = await h.Get<AiOpsPrometheusExporter>().ScrapeAsync();
        Assert.Contains("outcome=\"cancelled\"} 1", text);
        var snapshot = await h.Get<IVersionMetricsSource>().GetSnapshotAsync(Fraud1, h.Time.GetUtcNow().AddHours(-1));
        Assert.Equal(0, snapshot.Requests);
    }

    [Fact]
    public void Wrap_AlreadyMonitored_ReturnsSameInstance()
    {
        using var h = new MonitoringHarness();
        var monitor = h.Get<IModelRunnerMonitor>();
        var once = monitor.Wrap(new FakeRunner(Fraud1, h.Time));

        Assert.Same(once, monitor.Wrap(once));
    }

    [Fact]
    public async Task DecoratedCatalog_HostSuppliedCatalog_ReturnsMonitoredRunnersOnce()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var inner = new FakeRunner(Fraud1, time);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);

        // A host that supplies its own catalog wraps it the way the inference package wraps its own.
        services.AddSingleton<IModelRunnerCatalog>(sp => new DecoratedModelRunnerCatalog(new DictionaryCatalog(inner), sp.GetServices<IModelRunnerDecorator>()));
        services.AddAiOpsMonitoring();
        services.AddAiOpsMonitoring();
        await using var provider = services.BuildServiceProvider();

        var catalog = provider.GetRequiredService<IModelRunnerCatalog>();
        Assert.True(catalog.TryGetRunner(Fraud1, out var runner));
        var monitored = Assert.IsType<MonitoredModelRunner>(runner);
        Assert.Same(inner, monitored.InnerRunner);
        Assert.True(catalog.TryGetRunner(Fraud1, out var again));
        Assert.Same(runner, again);
        Assert.False(catalog.TryGetRunner(new ModelKey("fraud", "9"), out _));

        await runner.RunAsync(FakeRunner.Request());
        var text = await provider.GetRequiredService<AiOpsPrometheusExporter>().ScrapeAsync();
        Assert.Contains("aiops_model_requests_total{model=\"fraud\",version=\"1\",outcome=\"ok\"} 1", text);
    }

    private sealed class CountingObserver : IInferenceObserver
    {
        public int Calls { get; private set; }

        public long LastRows { get; private set; }

        public void OnInference(ModelKey key, ModelRequest request, ModelResponse response)
        {
            Calls++;
            LastRows = request["features"].Shape[0];
        }
    }

    private sealed class ThrowingObserver : IInferenceObserver
    {
        public void OnInference(ModelKey key, ModelRequest request, ModelResponse response) => throw new InvalidOperationException("observer bug");
    }

    private sealed class DictionaryCatalog(IModelRunner runner) : IModelRunnerCatalog
    {
        public IReadOnlyCollection<ModelKey> Keys => [runner.Key];

        public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? found)
        {
            found = key == runner.Key ? runner : null;
            return found is not null;
        }
    }
}
