using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Incidents;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Runners;
using AiOps.Monitoring.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Monitoring.Tests.Alerts;

public sealed class AlertEvaluatorTests
{
    private static readonly ModelKey Fraud2 = new("fraud", "2");

    private static async Task Traffic(MonitoringHarness h, FakeRunner inner, IModelRunner runner, int calls, TimeSpan latency, int failures = 0)
    {
        inner.Latency = latency;
        for (var i = 0; i < calls; i++)
        {
            inner.Failure = i < failures ? new InvalidOperationException("model error") : null;
            try
            {
                await runner.RunAsync(FakeRunner.Request());
            }
            catch (InvalidOperationException)
            {
            }
        }

        inner.Failure = null;
    }

    private static (FakeRunner Inner, IModelRunner Runner) Runner(MonitoringHarness h)
    {
        var inner = new FakeRunner(Fraud2, h.Time);
        return (inner, inner.WithMonitoring(h.Provider));
    }

    [Fact]
    public async Task EvaluateAsync_SlowP95_FiresAfterForDurationAndResolves()
    {
        using var h = new MonitoringHarness();
        var evaluator = h.Get<IAlertEvaluator>();
        var (inner, runner) = Runner(h);

        await Traffic(h, inner, runner, 40, TimeSpan.FromMilliseconds(800));
        Assert.Empty(await evaluator.EvaluateAsync());          // pending: condition just started
        h.Time.Advance(TimeSpan.FromMinutes(3));
        await Traffic(h, inner, runner, 40, TimeSpan.FromMilliseconds(800));
        Assert.Empty(await evaluator.EvaluateAsync());          // 3 min < 5 min "for"
        h.Time.Advance(TimeSpan.FromMinutes(2));
        await Traffic(h, inner, runner, 40, TimeSpan.FromMilliseconds(800));

        var fired = Assert.Single(await evaluator.EvaluateAsync());
        Assert.Equal(AlertRuleOptions.LatencyP95High, fired.Rule);
        Assert.Equal(AlertState.Firing, fired.State);
        Assert.Equal(AlertSeverity.Warning, fired.Severity);
        Assert.Equal(IncidentPriority.P3, fired.Priority);
        Assert.Equal(Fraud2, fired.Key);
        Assert.Equal(0.8, fired.Value!.Value, 2);
        Assert.Contains(fired, h.Alerts.Events);
        Assert.Single(evaluator.Firing);

        h.Time.Advance(TimeSpan.FromMinutes(6));                // the slow calls leave the 5 min window
        await Traffic(h, inner, runner, 40, TimeSpan.FromMilliseconds(50));
        var resolved = Assert.Single(await evaluator.EvaluateAsync());
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Equal(AlertRuleOptions.LatencyP95High, resolved.Rule);
        Assert.Empty(evaluator.Firing);
    }

    [Fact]
    public async Task EvaluateAsync_P95Above3Seconds_FiresP1CriticalAndOpensIncident()
    {
        using var h = new MonitoringHarness();
        var evaluator = h.Get<IAlertEvaluator>();
        var (inner, runner) = Runner(h);

        await Traffic(h, inner, runner, 30, TimeSpan.FromSeconds(4));
        await evaluator.EvaluateAsync();
        h.Time.Advance(TimeSpan.FromMinutes(1));
        var events = await evaluator.EvaluateAsync();

        var p1 = Assert.Single(events, e => e.Rule == AlertRuleOptions.LatencyP95Critical);
        Assert.Equal(IncidentPriority.P1, p1.Priority);
        Assert.Equal(AlertSeverity.Critical, p1.Severity);
        var incident = Assert.Single(h.Get<IIncidentLog>().Open);
        Assert.Equal(IncidentPriority.P1, incident.Priority);
        Assert.Equal("fraud:2", incident.Subject);
        Assert.Equal(p1.At + TimeSpan.FromMinutes(5), incident.RespondBy);
        Assert.StartsWith("Roll back", incident.RecommendedAction);
    }

    [Fact]
    public async Task EvaluateAsync_SuccessRateBelowTarget_FiresAndResolves()
    {
        using var h = new MonitoringHarness(o => o.Alerts.SuccessRateFor = TimeSpan.Zero);
        var evaluator = h.Get<IAlertEvaluator>();
        var (inner, runner) = Runner(h);

        await Traffic(h, inner, runner, 100, TimeSpan.FromMilliseconds(10), failures: 2);
        var fired = Assert.Single(await evaluator.EvaluateAsync());
        Assert.Equal(AlertRuleOptions.SuccessRateLow, fired.Rule);
        Assert.Equal(0.98, fired.Value!.Value, 6);

        h.Time.Advance(TimeSpan.FromMinutes(6));
        await Traffic(h, inner, runner, 100, TimeSpan.FromMilliseconds(10));
        Assert.Equal(AlertState.Resolved, Assert.Single(await evaluator.EvaluateAsync()).State);
    }

    [Fact]
    public async Task EvaluateAsync_TrafficStopsWhileFiring_ResolvesSayingTooFewCallsNotRecovered()
    {
        using var h = new MonitoringHarness(o => o.Alerts.SuccessRateFor = TimeSpan.Zero);
        var evaluator = h.Get<IAlertEvaluator>();
        var (inner, runner) = Runner(h);

        await Traffic(h, inner, runner, 100, TimeSpan.FromMilliseconds(10), failures: 2);
        Assert.Equal(AlertState.Firing, Assert.Single(await evaluator.EvaluateAsync()).State);

        h.Time.Advance(TimeSpan.FromMinutes(6)); // the window empties: no calls at all
        var resolved = Assert.Single(await evaluator.EvaluateAsync());

        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Contains("too few calls to judge (0 over the last", resolved.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("success rate is", resolved.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvaluateAsync_TooFewRequests_DoesNotJudge()
    {
        using var h = new MonitoringHarness(o => o.Alerts.SuccessRateFor = TimeSpan.Zero);
        var evaluator = h.Get<IAlertEvaluator>();
        var (inner, runner) = Runner(h);

        await Traffic(h, inner, runner, 5, TimeSpan.FromSeconds(5), failures: 5);

        Assert.Empty(await evaluator.EvaluateAsync());
    }

    [Fact]
    public async Task EvaluateAsync_RunnerNotServing_FiresModelUnavailableP1AndResolves()
    {
        using var h = new MonitoringHarness();
        var evaluator = h.Get<IAlertEvaluator>();
        var (inner, _) = Runner(h);
        inner.Status = new ModelRunnerStatus(ModelReadiness.Failed, null, "model file corrupt");

        await evaluator.EvaluateAsync();
        h.Time.Advance(TimeSpan.FromMinutes(1));
        var fired = Assert.Single(await evaluator.EvaluateAsync());
        Assert.Equal(AlertRuleOptions.ModelUnavailable, fired.Rule);
        Assert.Equal(IncidentPriority.P1, fired.Priority);
        Assert.Contains("model file corrupt", fired.Message);

        inner.Status = new ModelRunnerStatus(ModelReadiness.Ready, "CPU", null);
        h.Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(AlertState.Resolved, Assert.Single(await evaluator.EvaluateAsync()).State);
        var incident = Assert.Single(h.Get<IIncidentLog>().All);
        Assert.False(incident.IsOpen);
        Assert.Equal(["opened", "alert_firing", "alert_resolved", "resolved"], incident.Timeline.Select(t => t.Kind));
    }

    [Theory]
    [InlineData(0.86, IncidentPriority.P2, AlertSeverity.Warning)]
    [InlineData(0.80, IncidentPriority.P1, AlertSeverity.Critical)]
    public async Task EvaluateAsync_AccuracyMovedFromBaseline_GradesByChange(double accuracy, IncidentPriority expected, AlertSeverity severity)
    {
        var provider = new FakeAccuracy { Accuracy = accuracy };
        using var h = new MonitoringHarness(
            o =>
            {
                o.Alerts.AccuracyBaselines["fraud"] = 0.92;
                o.Alerts.AccuracyFor = TimeSpan.FromMinutes(15);
            },
            s => s.AddSingleton<IVersionAccuracyProvider>(provider));
        var evaluator = h.Get<IAlertEvaluator>();
        Runner(h);

        Assert.Empty(await evaluator.EvaluateAsync());
        h.Time.Advance(TimeSpan.FromMinutes(15));
        var fired = Assert.Single(await evaluator.EvaluateAsync());

        Assert.Equal(AlertRuleOptions.AccuracyChanged, fired.Rule);
        Assert.Equal(expected, fired.Priority);
        Assert.Equal(severity, fired.Severity);

        provider.Accuracy = 0.91;
        Assert.Equal(AlertState.Resolved, Assert.Single(await evaluator.EvaluateAsync()).State);
    }

    [Fact]
    public async Task EvaluateAsync_AccuracyWobblesAroundFivePoints_FiresOnceAndResolvesOnlyPastTheHysteresis()
    {
        var provider = new FakeAccuracy { Accuracy = 0.865 }; // 5.5 points below 0.92
        using var h = new MonitoringHarness(
            o =>
            {
                o.Alerts.AccuracyBaselines["fraud"] = 0.92;
                o.Alerts.AccuracyFor = TimeSpan.Zero;
            },
            s => s.AddSingleton<IVersionAccuracyProvider>(provider));
        var evaluator = h.Get<IAlertEvaluator>();
        Runner(h);
        var events = new List<AlertEvent>();
        foreach (var accuracy in new[] { 0.865, 0.875, 0.865, 0.875, 0.885 })
        {
            provider.Accuracy = accuracy; // 5.5, 4.5, 5.5, 4.5 points: holds; 3.5: still within 2 points of the threshold
            events.AddRange(await evaluator.EvaluateAsync());
            h.Time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal([AlertState.Firing], events.Select(e => e.State));
        provider.Accuracy = 0.895; // 2.5 points: past 5 - 2
        Assert.Equal(AlertState.Resolved, Assert.Single(await evaluator.EvaluateAsync()).State);
    }

    [Fact]
    public async Task EvaluateAsync_DriftSevereThenModerate_SwitchesRules()
    {
        var drift = new FakeDrift { Severity = DriftSeverity.Severe };
        using var h = new MonitoringHarness(services: s => s.AddSingleton<IVersionDriftProvider>(drift));
        var evaluator = h.Get<IAlertEvaluator>();
        Runner(h);

        var severe = Assert.Single(await evaluator.EvaluateAsync());
        Assert.Equal(AlertRuleOptions.DriftSevere, severe.Rule);
        Assert.Equal(AlertSeverity.Critical, severe.Severity);

        drift.Severity = DriftSeverity.Moderate;
        var events = await evaluator.EvaluateAsync();
        Assert.Contains(events, e => e.Rule == AlertRuleOptions.DriftSevere && e.State == AlertState.Resolved);
        Assert.Contains(events, e => e.Rule == AlertRuleOptions.DriftModerate && e.State == AlertState.Firing && e.Severity == AlertSeverity.Warning);
    }

    [Fact]
    public async Task EvaluateAsync_GpuHotForWindow_FiresAndResolves()
    {
        using var h = new MonitoringHarness();
        var evaluator = h.Get<IAlertEvaluator>();
        var gpu = h.Get<AiOps.Monitoring.Gpu.IGpuTelemetry>();
        h.Gpu.Next = FakeGpuSource.Device(0.95);
        for (var minute = 0; minute <= 5; minute++)
        {
            await gpu.PollAsync();
            var events = await evaluator.EvaluateAsync();
            if (minute < 5)
            {
                Assert.Empty(events);
                h.Time.Advance(TimeSpan.FromMinutes(1));
            }
            else
            {
                var hot = Assert.Single(events);
                Assert.Equal(AlertRuleOptions.GpuHot, hot.Rule);
                Assert.Equal(0.95, hot.Value!.Value, 6);
            }
        }

        // Load drops: the 10 min average falls under 85 % only once enough cool samples arrive.
        h.Gpu.Next = FakeGpuSource.Device(0.5);
        h.Time.Advance(TimeSpan.FromMinutes(11));
        await gpu.PollAsync();
        Assert.Equal(AlertState.Resolved, Assert.Single(await evaluator.EvaluateAsync()).State);
    }

    [Fact]
    public async Task EvaluateAsync_GpuIdleForAnHour_FiresInfoWithoutIncident()
    {
        using var h = new MonitoringHarness();
        var evaluator = h.Get<IAlertEvaluator>();
        var gpu = h.Get<AiOps.Monitoring.Gpu.IGpuTelemetry>();
        h.Gpu.Next = FakeGpuSource.Device(0.1);
        List<AlertEvent> all = [];
        for (var minute = 0; minute <= 60; minute += 5)
        {
            await gpu.PollAsync();
            all.AddRange(await evaluator.EvaluateAsync());
            h.Time.Advance(TimeSpan.FromMinutes(5));
        }

        var idle = Assert.Single(all);
        Assert.Equal(AlertRuleOptions.GpuIdle, idle.Rule);
        Assert.Equal(AlertSeverity.Info, idle.Severity);
        Assert.Null(idle.Priority);
        Assert.Empty(h.Get<IIncidentLog>().All);
    }

    [Fact]
    public async Task EvaluateAsync_GpuMemoryHigh_FiresAfterForDuration()
    {
        using var h = new MonitoringHarness(o => o.Alerts.GpuMemoryFor = TimeSpan.FromMinutes(2));
        var evaluator = h.Get<IAlertEvaluator>();
        var gpu = h.Get<AiOps.Monitoring.Gpu.IGpuTelemetry>();
        h.Gpu.Next = FakeGpuSource.Device(0.6, memoryRatio: 0.95);

        await gpu.PollAsync();
        Assert.Empty(await evaluator.EvaluateAsync());
        h.Time.Advance(TimeSpan.FromMinutes(2));
        await gpu.PollAsync();

        var fired = Assert.Single(await evaluator.EvaluateAsync());
        Assert.Equal(AlertRuleOptions.GpuMemoryHigh, fired.Rule);
        Assert.Equal(0.95, fired.Value!.Value, 6);

        h.Gpu.Next = FakeGpuSource.Device(0.6, memoryRatio: 0.5);
        await gpu.PollAsync();
        Assert.Equal(AlertState.Resolved, Assert.Single(await evaluator.EvaluateAsync()).State);
    }

    [Fact]
    public async Task PublishAsync_HandlerThrows_OtherHandlersStillReceive()
    {
        var after = new RecordingAlertHandler();
        using var h = new MonitoringHarness(services: s =>
        {
            s.AddSingleton<IAlertHandler>(new ThrowingHandler());
            s.AddSingleton<IAlertHandler>(after);
        });
        var alert = new AlertEvent("custom", AlertState.Firing, AlertSeverity.Warning, h.Time.GetUtcNow(), "test");

        await h.Get<IAlertPublisher>().PublishAsync(alert);

        Assert.Same(alert, Assert.Single(after.Events));
        Assert.Same(alert, Assert.Single(h.Alerts.Events));
    }

    [Fact]
    public async Task IncidentLog_MoreUrgentAlertJoins_EscalatesAndNotifiesSinks()
    {
        var sink = new RecordingSink();
        using var h = new MonitoringHarness(services: s => s.AddSingleton<IIncidentSink>(sink));
        var publisher = h.Get<IAlertPublisher>();
        var at = h.Time.GetUtcNow();
        await publisher.PublishAsync(new AlertEvent(AlertRuleOptions.AccuracyChanged, AlertState.Firing, AlertSeverity.Warning, at, "accuracy -6 points") { Key = Fraud2, Priority = IncidentPriority.P2 });
        await publisher.PublishAsync(new AlertEvent(AlertRuleOptions.ModelUnavailable, AlertState.Firing, AlertSeverity.Critical, at.AddMinutes(3), "down") { Key = Fraud2, Priority = IncidentPriority.P1 });

        var log = h.Get<IIncidentLog>();
        var incident = Assert.Single(log.Open);
        Assert.Equal(IncidentPriority.P1, incident.Priority);
        Assert.Equal(at.AddMinutes(8), incident.RespondBy);
        Assert.Contains(incident.Timeline, t => t.Kind == "escalated");
        var noted = await log.AddNoteAsync(incident.Id, "rolled back to v1");
        Assert.Equal("note", noted.Timeline[^1].Kind);
        Assert.Equal(3, sink.Records.Count);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(noted), System.Text.Json.JsonSerializer.Serialize(sink.Records[^1]));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => log.AddNoteAsync("INC-nope", "x").AsTask());
    }

    private sealed class ThrowingHandler : IAlertHandler
    {
        public ValueTask HandleAsync(AlertEvent alert, CancellationToken cancellationToken = default) => throw new InvalidOperationException("pager down");
    }

    private sealed class RecordingSink : IIncidentSink
    {
        public List<IncidentRecord> Records { get; } = [];

        public ValueTask OnIncidentChangedAsync(IncidentRecord incident, CancellationToken cancellationToken = default)
        {
            Records.Add(incident);
            return ValueTask.CompletedTask;
        }
    }
}
