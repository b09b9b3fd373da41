using AiOps.Release.State;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.State;

/// <summary>
/// A store that loses its data (the state file deleted; Redis restarted empty is the integration test) is recognised,
/// reported, re-seeded from the newest known state, and every replica follows the next action whatever revisions it
/// saw before.
/// </summary>
public sealed class StoreResetTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeCatalog _catalog = ReleaseHarness.DefaultCatalog();
    private readonly FakeMetricsSource _metrics = new();

    public void Dispose() => _dir.Dispose();

    private ReleaseHarness Replica(string id, Action<IServiceCollection>? services = null) =>
        new(_dir.Path, release: o => o.InstanceId = id, time: _time, catalog: _catalog, metrics: _metrics, services: services);

    private static async Task<HealthReport> HealthAsync(ReleaseHarness h) =>
        await h.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    private string StateFile => Path.Combine(_dir.Path, "fraud.rollout.json");

    /// <summary>Starts and advances to 50 % (revision 3 and more) so a re-seeded store's revision 1 is lower than what routers saw.</summary>
    private async Task AdvancedRolloutAsync(ReleaseHarness a, params ReleaseHarness[] others)
    {
        _metrics.Set(ReleaseHarness.Model, "1", new FakeBehaviour(1000, 2, 40));
        _metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 2, 40));
        await a.Manager.StartAsync(Fraud, "2");
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutAction.Hold, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        _time.Advance(TimeSpan.FromHours(25));
        Assert.Equal(RolloutAction.Advance, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        foreach (var h in others.Append(a))
        {
            await h.Monitor.RefreshAllAsync();
            Assert.Equal(50, h.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
        }
    }

    [Fact]
    public async Task StateFileDeleted_ReportedDegradedThenReseededByTheControllerAndFollowedByEveryReplica()
    {
        await using var a = Replica("a");
        await using var b = Replica("b");
        await AdvancedRolloutAsync(a, b);
        var before = (await a.Store.GetAsync(Fraud))!;

        File.Delete(StateFile);
        await b.Monitor.RefreshAllAsync();

        // Recognised and reported; the last known weights stay in force.
        Assert.Equal(50, b.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
        var health = await HealthAsync(b);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("found reset", health.Entries["aiops-release"].Description, StringComparison.Ordinal);

        // The controller re-seeds the store from the newest known state, as a new generation.
        _time.Advance(TimeSpan.FromMinutes(1));
        await a.Manager.EvaluateAsync(Fraud);
        var seeded = (await a.Store.GetAsync(Fraud))!;
        Assert.NotEqual(before.Epoch, seeded.Epoch);
        Assert.Equal((RolloutPhase.Progressing, 1, 50.0), (seeded.Phase, seeded.StepIndex, seeded.CanaryWeightPercent));
        Assert.Contains(seeded.History, d => d.Action == RolloutAction.Reseed);
        Assert.True(seeded.Revision < before.Revision, $"re-seeded at revision {seeded.Revision}, was {before.Revision}");

        // Every replica accepts the new generation, and follows the next operator action.
        await b.Monitor.RefreshAllAsync();
        Assert.Equal(seeded.Epoch, b.Monitor.Get(Fraud).Router.Table.Epoch); // a lower revision, of the new generation
        Assert.Equal(seeded.Revision, b.Monitor.Get(Fraud).Router.Table.Revision);
        Assert.Equal(HealthStatus.Healthy, (await HealthAsync(b)).Status);
        await b.Manager.AbortAsync(Fraud, "ops", "store was reset; abort");
        foreach (var h in new[] { a, b })
        {
            await h.Monitor.RefreshAllAsync();
            Assert.Equal(0, h.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
        }
    }

    [Fact]
    public async Task StateFileDeleted_OperatorActsFirst_ReseedsThenActsAndEveryReplicaFollows()
    {
        await using var a = Replica("a");
        await using var b = Replica("b");
        await AdvancedRolloutAsync(a, b);
        File.Delete(StateFile);

        // Start is refused (the rollout is still progressing, as the newest known state says), not silently restarted.
        await Assert.ThrowsAsync<InvalidOperationException>(() => b.Manager.StartAsync(Fraud, "2").AsTask());
        var promoted = await b.Manager.PromoteAsync(Fraud, "ops", "finish it");

        Assert.Equal(RolloutPhase.Promoted, promoted.Phase);
        Assert.Equal(
            [RolloutAction.Start, RolloutAction.Advance, RolloutAction.Reseed, RolloutAction.Promote],
            promoted.History.Select(d => d.Action).Where(x => x != RolloutAction.Hold));
        foreach (var h in new[] { a, b })
        {
            await h.Monitor.RefreshAllAsync();
            Assert.Equal(new ModelVersion("2"), h.Monitor.Get(Fraud).Router.Route("user-1").Version);
            Assert.Equal(0, h.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
        }
    }

    [Fact]
    public async Task DecisionKeptWhileTheStoreWasDown_StoreComesBackEmpty_SeedsTheNewGenerationAndEveryReplicaFollows()
    {
        FlakyStore? flaky = null;
        await using var a = Replica("a", sc => sc.Replace(ServiceDescriptor.Singleton<IRolloutStateStore>(_ => flaky = new FlakyStore(new FileRolloutStateStore(_dir.Path, _time)))));
        await using var b = Replica("b");
        await AdvancedRolloutAsync(a, b);

        flaky!.Down = true;
        _metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 400, 40));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutAction.Rollback, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        Assert.Equal(1, a.Manager.PendingWrites);
        Assert.Equal(0, a.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
        await b.Monitor.RefreshAllAsync();
        Assert.Equal(50, b.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent); // b cannot know yet

        File.Delete(StateFile);
        File.Delete(Path.Combine(_dir.Path, "fraud.lease.json"));
        flaky.Down = false;
        _time.Advance(TimeSpan.FromMinutes(1));
        await a.Manager.EvaluateAsync(Fraud);

        Assert.Equal(0, a.Manager.PendingWrites);
        var stored = (await b.Store.GetAsync(Fraud))!;
        Assert.Equal(RolloutPhase.RolledBack, stored.Phase);
        await b.Monitor.RefreshAllAsync();
        Assert.Equal(0, b.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
    }

    [Fact]
    public async Task KeptDecisionOfAReplicaThatLostTheLease_Dropped_AndItsRoutersFollowTheStore()
    {
        FlakyStore? flaky = null;
        await using var a = Replica("a", sc => sc.Replace(ServiceDescriptor.Singleton<IRolloutStateStore>(_ => flaky = new FlakyStore(new FileRolloutStateStore(_dir.Path, _time)))));
        await using var b = Replica("b");
        await AdvancedRolloutAsync(a, b);

        flaky!.Down = true;
        _metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 400, 40));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutAction.Rollback, (await a.Manager.EvaluateAsync(Fraud))!.Action);

        // a's lease runs out; b takes over and, with the canary healthy again, holds it at 50 %.
        _metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 2, 40));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.NotNull(await b.Manager.EvaluateAsync(Fraud));
        flaky.Down = false;
        await a.Manager.EvaluateAsync(Fraud);

        Assert.Equal(0, a.Manager.PendingWrites);
        Assert.Equal(RolloutPhase.Progressing, (await a.Store.GetAsync(Fraud))!.Phase);
        Assert.Equal(50, a.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent); // no longer its own provisional 0 %
    }
}
