using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Registry;
using AiOps.Release.Registry;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Release.Tests.Rollout;

public sealed class RolloutManagerTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task EvaluateAsync_HealthyCanary_WalksEveryStepToPromotionAndMovesAliases()
    {
        var registryDir = Path.Combine(_dir.Path, "registry");
        await using var h = new ReleaseHarness(Path.Combine(_dir.Path, "state"), builder: b => b.UseFileRegistry(registryDir));
        var registry = h.Services.GetRequiredService<IModelRegistry>();
        foreach (var v in new[] { "1", "2" })
        {
            var file = Path.Combine(_dir.Path, $"model_fraud_v{v}_20240801.onnx");
            await File.WriteAllTextAsync(file, "model " + v);
            await registry.RegisterFileAsync(new ModelKey(Fraud, v), file, h.Time.GetUtcNow());
        }

        await registry.SetAliasAsync(Fraud, "stable", "1");
        h.HealthyMetrics();
        using var decisions = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Release", "aiops.release.decisions");

        var started = await h.Manager.StartAsync(Fraud, "2");
        Assert.Equal((RolloutPhase.Progressing, 0, 10.0), (started.Phase, started.StepIndex, started.CanaryWeightPercent));
        Assert.Equal(new ModelVersion("2"), await registry.ResolveAliasAsync(Fraud, "canary"));

        // Within the hold time the gates pass but the step holds.
        h.Time.Advance(TimeSpan.FromHours(1));
        var hold = await h.Manager.EvaluateAsync(Fraud);
        Assert.Equal(RolloutAction.Hold, hold!.Action);
        Assert.StartsWith("hold_time:", hold.Reasons[0], StringComparison.Ordinal);

        var weights = new List<double>();
        foreach (var expected in new[] { RolloutAction.Advance, RolloutAction.Advance, RolloutAction.Promote })
        {
            h.Time.Advance(TimeSpan.FromHours(24));
            var d = await h.Manager.EvaluateAsync(Fraud);
            Assert.Equal(expected, d!.Action);
            weights.Add(d.CanaryWeightPercent);
        }

        Assert.Equal([50.0, 100.0, 0.0], weights);
        var final = (await h.Manager.GetStateAsync(Fraud))!;
        Assert.Equal(RolloutPhase.Promoted, final.Phase);
        Assert.Equal(new ModelVersion("2"), final.Stable);
        Assert.Null(final.Canary);
        Assert.Equal(
            [RolloutAction.Start, RolloutAction.Hold, RolloutAction.Advance, RolloutAction.Advance, RolloutAction.Promote],
            final.History.Select(d => d.Action));
        Assert.Contains(final.History, d => d.Figures.ContainsKey("mw_p") && d.Figures.ContainsKey("canary_p95_ms"));
        Assert.Equal(new ModelVersion("2"), await registry.ResolveAliasAsync(Fraud, "stable"));
        Assert.Equal(new ModelVersion("1"), await registry.ResolveAliasAsync(Fraud, "previous"));
        Assert.Null(await registry.ResolveAliasAsync(Fraud, "canary"));

        // After promotion every request goes to the new stable version.
        var response = await h.Client.InferAsync(ReleaseHarness.Request("user-1"));
        Assert.Equal(new ModelVersion("2"), response.Key.Version);
        Assert.Equal(3, decisions.GetMeasurementSnapshot().Count(m => (string?)m.Tags["action"] is "advance" or "promote"));
    }

    [Fact]
    public async Task ControllerService_TimerTicksUnderFakeTime_AdvancesWithoutManualEvaluation()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.StepHold = TimeSpan.FromMinutes(30));
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");
        await h.StartHostedAsync();
        await h.Decisions.Reader.ReadAsync(); // the start decision

        RolloutDecision? advance = null;
        for (var minute = 1; minute <= 31 && advance is null; minute++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
            var d = await h.Decisions.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (d.Action != RolloutAction.Hold)
            {
                advance = d;
            }
        }

        Assert.Equal(RolloutAction.Advance, advance!.Action);
        Assert.Equal(50, (await h.Manager.GetStateAsync(Fraud))!.CanaryWeightPercent);
    }

    [Theory]
    [InlineData("slower", "latency", false)]
    [InlineData("failing", "error_rate", true)]
    [InlineData("drifting", "drift", false)]
    [InlineData("less-accurate", "accuracy", false)]
    public async Task EvaluateAsync_BadCandidate_RollsBackAfterTheFailureLimitOrAtOnceAboveTheCeiling(string kind, string gate, bool immediate)
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.Metrics.Set(ReleaseHarness.Model, "1", new FakeBehaviour(1000, 2, 40, Accuracy: 0.95, Drift: DriftSeverity.Stable));
        h.Metrics.Set(ReleaseHarness.Model, "2", kind switch
        {
            "slower" => new FakeBehaviour(1000, 2, 70, Accuracy: 0.95, Drift: DriftSeverity.Stable),
            "failing" => new FakeBehaviour(1000, 80, 40, Accuracy: 0.95, Drift: DriftSeverity.Stable),
            "drifting" => new FakeBehaviour(1000, 2, 40, Accuracy: 0.95, Drift: DriftSeverity.Severe),
            _ => new FakeBehaviour(1000, 2, 40, Accuracy: 0.85, Drift: DriftSeverity.Stable),
        });
        await h.Manager.StartAsync(Fraud, "2");

        h.Time.Advance(TimeSpan.FromMinutes(1)); // one evaluation interval, far inside the 24 h hold
        var decision = await h.Manager.EvaluateAsync(Fraud);
        if (!immediate)
        {
            // The first failing evaluation of the default limit of 2 holds and says so; the second rolls back.
            Assert.Equal(RolloutAction.Hold, decision!.Action);
            Assert.StartsWith("gate_failed: evaluation 1 of 2", decision.Reasons[0], StringComparison.Ordinal);
            Assert.StartsWith(gate, decision.Reasons[1], StringComparison.Ordinal);
            h.Time.Advance(TimeSpan.FromMinutes(1));
            decision = await h.Manager.EvaluateAsync(Fraud);
        }

        Assert.Equal(RolloutAction.Rollback, decision!.Action);
        Assert.StartsWith(gate, decision.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(0, decision.CanaryWeightPercent);
        Assert.True(decision.Figures.ContainsKey("canary_error_rate"));
        var state = (await h.Manager.GetStateAsync(Fraud))!;
        Assert.Equal(RolloutPhase.RolledBack, state.Phase);
        Assert.Equal(new ModelVersion("1"), state.Stable);
        Assert.Equal(RolloutAction.Rollback, state.History[^1].Action);

        // Routers of this replica stop sending traffic to the canary at once.
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(new ModelVersion("1"), h.Monitor.Get(Fraud).Router.Route("user-" + i).Version);
        }
    }

    [Theory]
    [InlineData(DriftSeverity.Severe, RolloutAction.Advance)]   // the inputs moved for both: not the canary's fault
    [InlineData(DriftSeverity.Moderate, RolloutAction.Hold)]    // the canary's traffic drifted further: first failing evaluation
    [InlineData(DriftSeverity.Stable, RolloutAction.Hold)]
    public async Task EvaluateAsync_CanaryDriftSevere_JudgedAgainstStablesDrift(DriftSeverity stableDrift, RolloutAction expected)
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.Metrics.Set(ReleaseHarness.Model, "1", new FakeBehaviour(1000, 2, 40, Accuracy: 0.95, Drift: stableDrift));
        h.Metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 2, 40, Accuracy: 0.95, Drift: DriftSeverity.Severe));
        await h.Manager.StartAsync(Fraud, "2");

        h.Time.Advance(TimeSpan.FromHours(25)); // past the step's hold: a passing canary advances
        var decision = (await h.Manager.EvaluateAsync(Fraud))!;

        Assert.Equal(expected, decision.Action);
        Assert.Equal((int)stableDrift, decision.Figures["stable_drift_severity"]);
        if (expected == RolloutAction.Hold)
        {
            Assert.Contains(decision.Reasons, r => r.StartsWith("drift", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task EvaluateAsync_NoData_HoldsPastTheHoldTimeAndRollsBackAfterTheLimit()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Gates.NoDataRollbackAfter = TimeSpan.FromHours(48));
        h.Metrics.Set(ReleaseHarness.Model, "1", new FakeBehaviour(1000, 0, 40));
        h.Metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(12, 0, 40));
        await h.Manager.StartAsync(Fraud, "2");

        h.Time.Advance(TimeSpan.FromHours(25)); // past the 24 h hold: without data this must not advance
        var held = await h.Manager.EvaluateAsync(Fraud);
        Assert.Equal(RolloutAction.Hold, held!.Action);
        Assert.Contains("too little data", held.Reasons[0], StringComparison.Ordinal);
        Assert.Contains("12 requests", held.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(10, (await h.Manager.GetStateAsync(Fraud))!.CanaryWeightPercent);

        h.Time.Advance(TimeSpan.FromHours(24));
        var rolledBack = await h.Manager.EvaluateAsync(Fraud);
        Assert.Equal(RolloutAction.Rollback, rolledBack!.Action);
        Assert.StartsWith("no_data:", rolledBack.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvaluateAsync_NoMetricsSourceRegistered_HoldsNeverPasses()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Gates.NoDataRollbackAfter = null,
            services: s => s.RemoveAll<AiOps.Metrics.IVersionMetricsSource>());
        await h.Manager.StartAsync(Fraud, "2");
        h.Time.Advance(TimeSpan.FromDays(10));

        var d = await h.Manager.EvaluateAsync(Fraud);

        Assert.Equal(RolloutAction.Hold, d!.Action);
        Assert.StartsWith("metrics:", d.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvaluateAsync_SlightlySlowerCanary_MarginalScoreHolds()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            o.Gates.MaxP95LatencyRatio = 2;
            o.Gates.MaxP95LatencyMs = null;
        });
        h.Metrics.Set(ReleaseHarness.Model, "1", new FakeBehaviour(1000, 0, 40, LatencySpreadMs: 10));
        h.Metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 0, 44, LatencySpreadMs: 10));
        await h.Manager.StartAsync(Fraud, "2");
        h.Time.Advance(TimeSpan.FromHours(25));

        var d = await h.Manager.EvaluateAsync(Fraud);

        Assert.Equal(RolloutAction.Hold, d!.Action);
        Assert.StartsWith("latency_judge:", d.Reasons[0], StringComparison.Ordinal);
        Assert.InRange(d.Figures["latency_score"], 50, 80);
    }

    [Fact]
    public async Task EvaluateAsync_RepeatedSameHold_IsWrittenToHistoryOnce()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");
        for (var i = 0; i < 10; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(RolloutAction.Hold, (await h.Manager.EvaluateAsync(Fraud))!.Action);
        }

        var state = (await h.Manager.GetStateAsync(Fraud))!;
        Assert.Equal([RolloutAction.Start, RolloutAction.Hold], state.History.Select(d => d.Action));
    }

    [Fact]
    public async Task EvaluateAsync_RestartMidRollout_ResumesAtTheSameStepFromTheFileStore()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero));
        await using (var first = new ReleaseHarness(_dir.Path, time: time))
        {
            first.HealthyMetrics();
            await first.Manager.StartAsync(Fraud, "2");
            time.Advance(TimeSpan.FromHours(24));
            Assert.Equal(RolloutAction.Advance, (await first.Manager.EvaluateAsync(Fraud))!.Action);
            time.Advance(TimeSpan.FromHours(3)); // part way through step 2 when the process stops
        }

        await using var second = new ReleaseHarness(_dir.Path, time: time);
        second.HealthyMetrics();
        var resumed = (await second.Manager.GetStateAsync(Fraud))!;
        Assert.Equal((RolloutPhase.Progressing, 1, 50.0), (resumed.Phase, resumed.StepIndex, resumed.CanaryWeightPercent));

        // The routers of the new process serve the resumed weights.
        var response = await second.Client.InferAsync(ReleaseHarness.Request(pinned: null));
        Assert.NotNull(response);
        Assert.Equal(50, second.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);

        // The step's hold time counts from when it began, not from the restart.
        time.Advance(TimeSpan.FromHours(21));
        Assert.Equal(RolloutAction.Advance, (await second.Manager.EvaluateAsync(Fraud))!.Action);
        Assert.Equal(100, (await second.Manager.GetStateAsync(Fraud))!.CanaryWeightPercent);
    }

    [Fact]
    public async Task HandleAsync_P1AlertForTheModel_RollsBackImmediately()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");
        var handler = h.Services.GetServices<IAlertHandler>().Single();

        await handler.HandleAsync(new AlertEvent("latency_p95_high", AlertState.Firing, AlertSeverity.Warning, h.Time.GetUtcNow(), "p95 2s")
        {
            Key = new ModelKey(Fraud, "2"),
            Priority = IncidentPriority.P2,
        });
        Assert.Equal(RolloutPhase.Progressing, (await h.Manager.GetStateAsync(Fraud))!.Phase);

        await handler.HandleAsync(new AlertEvent("model_down", AlertState.Firing, AlertSeverity.Critical, h.Time.GetUtcNow(), "no successful call for 5m")
        {
            Key = new ModelKey(Fraud, "2"),
            Priority = IncidentPriority.P1,
        });

        var state = (await h.Manager.GetStateAsync(Fraud))!;
        Assert.Equal(RolloutPhase.RolledBack, state.Phase);
        Assert.StartsWith("p1_alert: model_down", state.History[^1].Reasons[0], StringComparison.Ordinal);
        Assert.Null(h.Monitor.Get(Fraud).Router.Table.Canary);
    }

    [Fact]
    public async Task EvaluateAsync_TwoReplicasShareTheStore_OnlyTheLeaseHolderDecides()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero));
        await using var a = new ReleaseHarness(_dir.Path, time: time, release: o => o.InstanceId = "replica-a");
        await using var b = new ReleaseHarness(_dir.Path, time: time, release: o => o.InstanceId = "replica-b");
        a.HealthyMetrics();
        b.HealthyMetrics();
        await a.Manager.StartAsync(Fraud, "2");

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull(await a.Manager.EvaluateAsync(Fraud));
        Assert.Null(await b.Manager.EvaluateAsync(Fraud));

        // Replica A stops renewing; once its lease expires B takes over.
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.NotNull(await b.Manager.EvaluateAsync(Fraud));
        Assert.Null(await a.Manager.EvaluateAsync(Fraud));
    }

    [Fact]
    public async Task EvaluateAsync_StoreUnreachable_KeepsTheDecisionAndWritesItWhenBack()
    {
        FlakyStore? flaky = null;
        await using var h = new ReleaseHarness(_dir.Path, services: s =>
        {
            var inner = new AiOps.Release.State.FileRolloutStateStore(_dir.Path, TimeProvider.System);
            flaky = new FlakyStore(inner);
            s.Replace(ServiceDescriptor.Singleton<IRolloutStateStore>(flaky));
        });
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutAction.Hold, (await h.Manager.EvaluateAsync(Fraud))!.Action); // this replica holds the lease
        await h.Monitor.RefreshAllAsync();
        h.Metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 200, 40));

        flaky!.Down = true;
        h.Time.Advance(TimeSpan.FromMinutes(1));
        var decision = await h.Manager.EvaluateAsync(Fraud);
        await h.Monitor.RefreshAllAsync();

        Assert.Equal(RolloutAction.Rollback, decision!.Action);
        Assert.Equal(1, h.Manager.PendingWrites);
        Assert.Null(h.Monitor.Get(Fraud).Router.Table.Canary); // this replica already follows the rollback
        var health = await h.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("unreachable", health.Entries["aiops-release"].Description, StringComparison.Ordinal);

        flaky.Down = false;
        h.Time.Advance(TimeSpan.FromMinutes(1));
        var flushed = await h.Manager.EvaluateAsync(Fraud);
        Assert.Same(decision, flushed);
        Assert.Equal(0, h.Manager.PendingWrites);
        var stored = (await new AiOps.Release.State.FileRolloutStateStore(_dir.Path, TimeProvider.System).GetAsync(Fraud))!;
        Assert.Equal(RolloutPhase.RolledBack, stored.Phase);
        Assert.Equal([RolloutAction.Start, RolloutAction.Hold, RolloutAction.Rollback], stored.History.Select(d => d.Action));
    }

    [Fact]
    public async Task StartAsync_InvalidRequests_ThrowSpecificExceptions()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await Assert.ThrowsAsync<ModelNotFoundException>(() => h.Manager.StartAsync(Fraud, "9").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => h.Manager.StartAsync(Fraud, "1").AsTask());
        await Assert.ThrowsAsync<ModelNotFoundException>(() => h.Manager.StartAsync(new ModelId("other"), "2").AsTask());
        await h.Manager.StartAsync(Fraud, "2");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Manager.StartAsync(Fraud, "2").AsTask());
        Assert.Contains("already progressing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RollbackAsync_NoRolloutProgressing_ReturnsNull()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        Assert.Null(await h.Manager.RollbackAsync(Fraud, "manual"));
        Assert.Null(await h.Store.GetAsync(Fraud));
    }
}
