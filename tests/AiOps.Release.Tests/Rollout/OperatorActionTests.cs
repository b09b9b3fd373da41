using AiOps.Alerts;
using AiOps.Release.Rollout;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Release.Tests.Rollout;

/// <summary>Operators in control: every action changes what routers do at once and is recorded with who and why.</summary>
public sealed class OperatorActionTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertRecorded(RolloutState state, RolloutAction action, string actor, string reason)
    {
        var last = state.History[^1];
        Assert.Equal(action, last.Action);
        Assert.Equal(actor, last.Actor);
        Assert.Contains($"by {actor}: {reason}", last.Reasons[0], StringComparison.Ordinal);
    }

    private static double CanaryShare(ReleaseHarness h) =>
        Enumerable.Range(0, 2000).Count(i => h.Monitor.Get(Fraud).Router.Route("user-" + i).Version == new ModelVersion("2")) / 2000.0;

    [Fact]
    public async Task PromoteAsync_SkipsTheRemainingStepsAndRecordsWhoAndWhy()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await h.Manager.StartAsync(Fraud, "2");

        var state = await h.Manager.PromoteAsync(Fraud, "alice", "fixes the fraud spike");

        Assert.Equal((RolloutPhase.Promoted, new ModelVersion("2"), new ModelVersion("1")), (state.Phase, state.Stable, state.PreviousStable!.Value));
        AssertRecorded(state, RolloutAction.Promote, "alice", "fixes the fraud spike");
        Assert.Equal(1.0, CanaryShare(h));
        Assert.Equal(state.Revision, (await h.Store.GetAsync(Fraud))!.Revision);
    }

    [Fact]
    public async Task PauseAsync_HoldsPastTheHoldTimeUntilResumed()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");
        AssertRecorded(await h.Manager.PauseAsync(Fraud, "bob", "waiting for the marketing push"), RolloutAction.Pause, "bob", "waiting for the marketing push");

        h.Time.Advance(TimeSpan.FromHours(25));
        var held = await h.Manager.EvaluateAsync(Fraud);
        Assert.Equal(RolloutAction.Hold, held!.Action);
        Assert.StartsWith("paused:", held.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(0, (await h.Manager.GetStateAsync(Fraud))!.StepIndex);
        Assert.InRange(CanaryShare(h), 0.07, 0.13); // paused keeps the weights

        var resumed = await h.Manager.ResumeAsync(Fraud, "bob", "push is over");
        Assert.False(resumed.Paused);
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutAction.Advance, (await h.Manager.EvaluateAsync(Fraud))!.Action);
    }

    [Fact]
    public async Task PausedRollout_FailingGatesStillRollBack()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");
        await h.Manager.PauseAsync(Fraud, "bob", "looking");
        h.Metrics.Set(ReleaseHarness.Model, "2", new FakeBehaviour(1000, 400, 40));

        h.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(RolloutAction.Rollback, (await h.Manager.EvaluateAsync(Fraud))!.Action);
    }

    [Fact]
    public async Task AbortAsync_CanaryOutOfTrafficStableKept()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await h.Manager.StartAsync(Fraud, "2");

        var state = await h.Manager.AbortAsync(Fraud, "carol", "wrong build");

        Assert.Equal((RolloutPhase.RolledBack, new ModelVersion("1"), 0.0), (state.Phase, state.Stable, state.CanaryWeightPercent));
        AssertRecorded(state, RolloutAction.Abort, "carol", "wrong build");
        Assert.Equal(0.0, CanaryShare(h));
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Manager.AbortAsync(Fraud, "carol", "again").AsTask());
        Assert.Contains("expected a progressing rollout", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkipStepAsync_MovesToTheNextWeightAndAtTheLastStepPromotes()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await h.Manager.StartAsync(Fraud, "2");

        var s1 = await h.Manager.SkipStepAsync(Fraud, "dan", "confident");
        Assert.Equal((1, 50.0, RolloutAction.SkipStep), (s1.StepIndex, s1.CanaryWeightPercent, s1.History[^1].Action));
        Assert.InRange(CanaryShare(h), 0.45, 0.55);
        var s2 = await h.Manager.SkipStepAsync(Fraud, "dan", "confident");
        Assert.Equal(100.0, s2.CanaryWeightPercent);
        var s3 = await h.Manager.SkipStepAsync(Fraud, "dan", "confident");
        Assert.Equal((RolloutPhase.Promoted, RolloutAction.Promote, "dan"), (s3.Phase, s3.History[^1].Action, s3.History[^1].Actor));
    }

    [Fact]
    public async Task UndoAsync_AfterPromotion_PreviousStableServesAgain()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Manager.UndoAsync(Fraud, "erin", "nothing to undo").AsTask());
        await h.Manager.StartAsync(Fraud, "2");
        await h.Manager.PromoteAsync(Fraud, "erin", "ship it");
        Assert.Equal(new ModelVersion("2"), (await h.Client.InferAsync(ReleaseHarness.Request("user-1"))).Key.Version);

        var undone = await h.Manager.UndoAsync(Fraud, "erin", "conversion dropped");

        Assert.Equal((RolloutPhase.RolledBack, new ModelVersion("1")), (undone.Phase, undone.Stable));
        AssertRecorded(undone, RolloutAction.Undo, "erin", "conversion dropped");
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(new ModelVersion("1"), (await h.Client.InferAsync(ReleaseHarness.Request("user-" + i))).Key.Version);
        }

        // The next rollout starts from the restored stable.
        Assert.Equal(new ModelVersion("1"), (await h.Manager.StartAsync(Fraud, "2")).Stable);
    }

    [Theory]
    [InlineData(30, true)]
    [InlineData(25 * 60, false)]
    public async Task P1AlertOnTheNewStable_WithinTheWatchPeriod_UndoesThePromotion(int minutesAfterPromotion, bool undone)
    {
        await using var h = new ReleaseHarness(_dir.Path); // UndoWatchPeriod: 24 h (default)
        await h.Manager.StartAsync(Fraud, "2");
        await h.Manager.PromoteAsync(Fraud, "erin", "ship it");
        h.Time.Advance(TimeSpan.FromMinutes(minutesAfterPromotion));
        var handler = h.Services.GetServices<IAlertHandler>().Single();

        await handler.HandleAsync(new AlertEvent("model_down", AlertState.Firing, AlertSeverity.Critical, h.Time.GetUtcNow(), "no successful call for 5m")
        {
            Key = new ModelKey(Fraud, "2"),
            Priority = IncidentPriority.P1,
        });

        var state = (await h.Manager.GetStateAsync(Fraud))!;
        Assert.Equal(undone ? new ModelVersion("1") : new ModelVersion("2"), state.Stable);
        if (undone)
        {
            Assert.Equal((RolloutAction.Undo, ReleaseAlertHandler.Actor), (state.History[^1].Action, state.History[^1].Actor));
            Assert.Contains("model_down", state.History[^1].Reasons[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ApprovalStep_WaitsForAPersonThenAdvances()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.ApprovalSteps = [0]);
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");

        h.Time.Advance(TimeSpan.FromHours(25));
        var waiting = await h.Manager.EvaluateAsync(Fraud);
        Assert.Equal(RolloutAction.Hold, waiting!.Action);
        Assert.StartsWith("approval:", waiting.Reasons[0], StringComparison.Ordinal);
        h.Time.Advance(TimeSpan.FromHours(5));
        Assert.Equal(RolloutAction.Hold, (await h.Manager.EvaluateAsync(Fraud))!.Action);

        AssertRecorded(await h.Manager.ApproveAsync(Fraud, "frank", "reviewed the dashboards"), RolloutAction.Approve, "frank", "reviewed the dashboards");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(RolloutAction.Advance, (await h.Manager.EvaluateAsync(Fraud))!.Action);

        // The next step is not an approval step: it advances on its own.
        h.Time.Advance(TimeSpan.FromHours(25));
        Assert.Equal(RolloutAction.Advance, (await h.Manager.EvaluateAsync(Fraud))!.Action);
    }

    [Theory]
    [InlineData(MarginalTimeoutAction.Rollback)]
    [InlineData(MarginalTimeoutAction.Pause)]
    public async Task MarginalVerdicts_AfterTheTimeout_RollBackOrPause(MarginalTimeoutAction whenOver)
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            o.Gates.MarginalTimeout = TimeSpan.FromMinutes(30);
            o.Gates.MarginalAction = whenOver;
            o.Gates.CustomGates.Add(_ => new GateResult("custom", GateOutcome.Marginal, "15 % slower, not significant yet"));
        });
        h.HealthyMetrics();
        await h.Manager.StartAsync(Fraud, "2");

        var actions = new List<RolloutAction>();
        for (var minute = 1; minute <= 31; minute++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
            actions.Add((await h.Manager.EvaluateAsync(Fraud))?.Action ?? RolloutAction.Hold);
        }

        Assert.All(actions.Take(30), a => Assert.Equal(RolloutAction.Hold, a));
        var state = (await h.Manager.GetStateAsync(Fraud))!;
        Assert.StartsWith("marginal_timeout:", state.History[^1].Reasons[0], StringComparison.Ordinal);
        if (whenOver == MarginalTimeoutAction.Rollback)
        {
            Assert.Equal((RolloutAction.Rollback, RolloutPhase.RolledBack), (actions[^1], state.Phase));
        }
        else
        {
            Assert.Equal((RolloutAction.Pause, RolloutPhase.Progressing, true), (actions[^1], state.Phase, state.Paused));
        }
    }
}
