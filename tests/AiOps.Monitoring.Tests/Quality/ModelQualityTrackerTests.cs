using AiOps.Alerts;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Quality;
using AiOps.Monitoring.Tests.Drift;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Quality;

public sealed class ModelQualityTrackerTests
{
    private static readonly ModelKey s_key = new("churn", "1");

    private static (ServiceProvider Provider, FakeTimeProvider Time, DriftMonitorTests.RecordingPublisher Alerts) Build(Action<ModelQualityOptions>? configure = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var alerts = new DriftMonitorTests.RecordingPublisher();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IAlertPublisher>(alerts);
        services.AddAiOpsModelQuality(configure);
        return (services.BuildServiceProvider(), time, alerts);
    }

    private static ModelResponse Probabilities(params float[][] rows) =>
        new(s_key, [ModelTensor.Create("probabilities", rows.SelectMany(r => r).ToArray().AsMemory(), rows.Length, rows[0].Length)]);

    private static ModelRequest Request(string id) =>
        new(ModelTensor.Create("features", new float[4].AsMemory(), 1, 4)) { RequestId = id };

    /// <summary>Records <paramref name="count"/> predictions of which <paramref name="correct"/> get the right label.</summary>
    private static void Feed(IModelQualityTracker tracker, string prefix, int count, int correct)
    {
        for (var i = 0; i < count; i++)
        {
            var id = $"{prefix}-{i}";
            tracker.RecordPrediction(s_key, id, predictedClass: 1, score: 0.9);
            Assert.True(tracker.RecordLabel(id, i < correct ? 1 : 0));
        }
    }

    [Fact]
    public async Task OnInference_BatchedProbabilities_JoinsLabelsPerRow()
    {
        var (provider, _, _) = Build();
        await using var _ = provider;
        var observer = provider.GetServices<IInferenceObserver>().Single();
        var tracker = provider.GetRequiredService<IModelQualityTracker>();

        observer.OnInference(s_key, Request("r1"), Probabilities([0.1f, 0.7f, 0.2f], [0.8f, 0.1f, 0.1f]));
        observer.OnInference(s_key, new ModelRequest(ModelTensor.Create("features", new float[4].AsMemory(), 1, 4)), Probabilities([0.1f, 0.9f, 0f]));
        Assert.Equal(2, tracker.PendingCount); // the request without an id is not tracked

        Assert.True(tracker.RecordLabel("r1", 1, row: 0)); // predicted 1: correct
        Assert.True(tracker.RecordLabel("r1", 2, row: 1)); // predicted 0: wrong
        Assert.False(tracker.RecordLabel("r1", 1, row: 0)); // already joined
        Assert.False(tracker.RecordLabel("unknown", 1));

        var accuracy = provider.GetRequiredService<IVersionAccuracyProvider>();
        Assert.Equal(0.5, accuracy.GetAccuracy(s_key, DateTimeOffset.MinValue));
        Assert.Null(accuracy.GetAccuracy(new ModelKey("churn", "9"), DateTimeOffset.MinValue));
        var m = tracker.GetMetrics(s_key, DateTimeOffset.MinValue)!;
        Assert.Equal(1.0, m.Precision); // row 0 predicted 1 with label 1
    }

    [Fact]
    public async Task RecordLabel_AfterTimeToLive_IsRejectedAndPredictionDropped()
    {
        var (provider, time, _) = Build(o => o.PredictionTimeToLive = TimeSpan.FromMinutes(30));
        await using var _ = provider;
        var tracker = provider.GetRequiredService<IModelQualityTracker>();
        tracker.RecordPrediction(s_key, "late", 1);
        tracker.RecordPrediction(s_key, "early", 1);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(tracker.RecordLabel("early", 1));
        time.Advance(TimeSpan.FromMinutes(25));
        Assert.False(tracker.RecordLabel("late", 1));
        Assert.Equal(0, tracker.PendingCount);
    }

    [Fact]
    public async Task RecordPrediction_OverPendingLimit_DropsOldest()
    {
        var (provider, _, _) = Build(o => o.MaxPendingPredictions = 3);
        await using var _ = provider;
        var tracker = provider.GetRequiredService<IModelQualityTracker>();
        for (var i = 0; i < 5; i++)
        {
            tracker.RecordPrediction(s_key, $"r{i}", 1);
        }

        Assert.Equal(3, tracker.PendingCount);
        Assert.False(tracker.RecordLabel("r0", 1));
        Assert.False(tracker.RecordLabel("r1", 1));
        Assert.True(tracker.RecordLabel("r4", 1));
    }

    [Fact]
    public async Task CloseWindows_AccuracyFallsSixThenTwelvePointsThenRecovers_RaisesP2ThenP1ThenResolves()
    {
        var (provider, time, alerts) = Build(o => o.BaselineMinimumLabels = 100);
        await using var _ = provider;
        var tracker = provider.GetRequiredService<IModelQualityTracker>();

        Feed(tracker, "w1", 100, 90);
        time.Advance(TimeSpan.FromMinutes(1));
        var first = Assert.Single(await tracker.CloseWindowsAsync());
        Assert.Equal(0.9, first.Baseline!.Accuracy, 1e-12); // the first 100 labels become the baseline
        Assert.Equal(0.9, tracker.GetBaseline(s_key)!.Accuracy, 1e-12);
        Assert.Empty(alerts.Alerts);

        Feed(tracker, "w2", 100, 84);
        time.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single(await tracker.CloseWindowsAsync());
        Assert.Equal(0.06, second.AccuracyDrop!.Value, 1e-12);
        var p2 = Assert.Single(alerts.Alerts);
        Assert.Equal(("accuracy_drop", AlertState.Firing, AlertSeverity.Warning, IncidentPriority.P2), (p2.Rule, p2.State, p2.Severity, p2.Priority!.Value));
        Assert.Equal(0.84, p2.Value!.Value, 1e-12);

        Feed(tracker, "w3", 100, 78);
        time.Advance(TimeSpan.FromMinutes(1));
        await tracker.CloseWindowsAsync();
        Assert.Equal((AlertState.Firing, AlertSeverity.Critical, IncidentPriority.P1), (alerts.Alerts[^1].State, alerts.Alerts[^1].Severity, alerts.Alerts[^1].Priority!.Value));

        Feed(tracker, "w4", 100, 89);
        time.Advance(TimeSpan.FromMinutes(1));
        await tracker.CloseWindowsAsync();
        Assert.Equal(AlertState.Resolved, alerts.Alerts[^1].State);
        Assert.Equal(3, alerts.Alerts.Count);
    }

    [Fact]
    public async Task CloseWindows_TooFewLabels_NeitherBaselineNorAlert()
    {
        var (provider, _, alerts) = Build(o => o.MinimumLabels = 50);
        await using var _ = provider;
        var tracker = provider.GetRequiredService<IModelQualityTracker>();
        tracker.SetBaseline(s_key, new QualityMetrics(1000, 0.95, null, null, null));
        Feed(tracker, "few", 10, 1);
        await tracker.CloseWindowsAsync();
        Assert.Empty(alerts.Alerts);
    }

    [Fact]
    public async Task HostedTimer_WindowDurationPasses_ClosesWindow()
    {
        var (provider, time, alerts) = Build(o => o.WindowDuration = TimeSpan.FromMinutes(10));
        await using var _ = provider;
        var tracker = provider.GetRequiredService<IModelQualityTracker>();
        foreach (var h in provider.GetServices<IHostedService>())
        {
            await h.StartAsync(CancellationToken.None);
        }

        tracker.SetBaseline(s_key, new QualityMetrics(1000, 0.95, null, null, null));
        Feed(tracker, "t", 100, 50);
        time.Advance(TimeSpan.FromMinutes(10));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (alerts.Alerts.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Yield();
        }

        Assert.Equal(AlertSeverity.Critical, Assert.Single(alerts.Alerts).Severity);
    }

    [Fact]
    public void AddAiOpsModelQuality_BadSettings_FailValidationNamingThem()
    {
        var services = new ServiceCollection();
        services.AddAiOpsModelQuality(o =>
        {
            o.AccuracyDropWarning = 0.2;
            o.AccuracyDropCritical = 0.1;
            o.MaxPendingPredictions = 0;
        });
        services.AddAiOpsModelQuality();
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ModelQualityOptions>>().Value);
        Assert.Equal(
            ["AiOps:Monitoring:Quality:MaxPendingPredictions is 0; expected 1 or more (default 100000).",
             "AiOps:Monitoring:Quality:AccuracyDropCritical is 0.1; expected at least AiOps:Monitoring:Quality:AccuracyDropWarning (0.2) and at most 1 (default 0.1)."],
            ex.Failures);
        Assert.Single(services, d => d.ServiceType == typeof(IInferenceObserver));
    }
}
