using AiOps.Release.Shadow;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Polly.CircuitBreaker;

namespace AiOps.Release.Tests.Canary;

public sealed class ModelClientTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task InferAsync_NoRollout_ServesConfiguredStableAndMetersRoute()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        using var routed = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Release", "aiops.release.routed");

        var response = await h.Client.InferAsync(ReleaseHarness.Request("user-1"));

        Assert.Equal(new ModelKey(Fraud, "1"), response.Key);
        Assert.Equal(1f, response["score"].As<float>().Span[0]);
        var m = Assert.Single(routed.GetMeasurementSnapshot());
        Assert.Equal(("fraud", "1", "stable"), ((string?)m.Tags["model"], (string?)m.Tags["version"], (string?)m.Tags["reason"]));
    }

    [Fact]
    public async Task InferAsync_CanaryAtHalf_SplitsStickyByRoutingKey()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Steps = [50, 100]);
        await h.Manager.StartAsync(Fraud, "2");
        var first = new Dictionary<string, ModelVersion>();
        for (var i = 0; i < 400; i++)
        {
            first["u" + i] = (await h.Client.InferAsync(ReleaseHarness.Request("u" + i))).Key.Version;
        }

        Assert.InRange(first.Values.Count(v => v == new ModelVersion("2")), 140, 260);
        for (var i = 0; i < 400; i++)
        {
            Assert.Equal(first["u" + i], (await h.Client.InferAsync(ReleaseHarness.Request("u" + i))).Key.Version);
        }
    }

    [Fact]
    public async Task InferAsync_CanaryFailsTheCall_StableAnswersWithFallbackReason()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Steps = [100]);
        using var routed = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Release", "aiops.release.routed");
        await h.Manager.StartAsync(Fraud, "2");
        h.Catalog.Get(ReleaseHarness.Model, "2").Behaviour = (_, _) => throw new InvalidOperationException("native crash");

        var response = await h.Client.InferAsync(ReleaseHarness.Request("user-1"));

        Assert.Equal(new ModelVersion("1"), response.Key.Version);
        Assert.Equal("fallback", (string?)Assert.Single(routed.GetMeasurementSnapshot()).Tags["reason"]);
    }

    [Fact]
    public async Task InferAsync_BadInputBothVersionsRefuse_NotRetriedAndTheCanaryErrorThrown()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Steps = [100]);
        await h.Manager.StartAsync(Fraud, "2");
        var canary = h.Catalog.Get(ReleaseHarness.Model, "2");
        var stable = h.Catalog.Get(ReleaseHarness.Model, "1");
        canary.Behaviour = (_, _) => throw new ModelInputException("x", "canary: Input 'x' has shape [1, 3]; expected [-1, 2].");
        stable.Behaviour = (_, _) => throw new ModelInputException("x", "stable: Input 'x' has shape [1, 3]; expected [-1, 2].");

        var error = await Assert.ThrowsAsync<ModelInputException>(() => h.Client.InferAsync(ReleaseHarness.Request("user-1")).AsTask());

        Assert.StartsWith("canary:", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, canary.Calls);
        Assert.Equal(1, stable.Calls);

        // The caller's bad input is not the canary's failure: nothing is counted against it.
        var ledger = h.Services.GetRequiredService<AiOps.Release.Rollout.AttemptLedger>();
        Assert.Equal(0, ledger.Read(new ModelKey(Fraud, "2"), h.Time.GetUtcNow().AddMinutes(-1)).Failures);
    }

    [Fact]
    public async Task InferAsync_CanaryRefusesInputStableAccepts_AnsweredByStableAndCountedAgainstTheCanary()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Steps = [100]);
        await h.Manager.StartAsync(Fraud, "2");
        var canary = h.Catalog.Get(ReleaseHarness.Model, "2");
        canary.Behaviour = (_, _) => throw new ModelInputException("x", "Input 'x' has shape [1, 2]; expected [-1, 3].");

        var response = await h.Client.InferAsync(ReleaseHarness.Request("user-1"));

        Assert.Equal(new ModelVersion("1"), response.Key.Version);
        Assert.Equal(1, canary.Calls);
        var ledger = h.Services.GetRequiredService<AiOps.Release.Rollout.AttemptLedger>();
        Assert.Equal(1, ledger.Read(new ModelKey(Fraud, "2"), h.Time.GetUtcNow().AddMinutes(-1)).Failures);
    }

    [Fact]
    public async Task InferAsync_TransientRejection_RetriedOnTheSameVersion()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        var stable = h.Catalog.Get(ReleaseHarness.Model, "1");
        stable.Behaviour = (call, _) => call == 1 ? throw new ModelRejectedException("queue full") : ValueTask.CompletedTask;

        var response = await h.Client.InferAsync(ReleaseHarness.Request("user-1"));

        Assert.Equal(new ModelVersion("1"), response.Key.Version);
        Assert.Equal(2, stable.Calls);
    }

    [Fact]
    public async Task InferAsync_NonTransientFailureOnStable_NotRetried()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        var stable = h.Catalog.Get(ReleaseHarness.Model, "1");
        stable.Behaviour = (_, _) => throw new InvalidOperationException("bug");

        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Client.InferAsync(ReleaseHarness.Request("u")).AsTask());
        Assert.Equal(1, stable.Calls);
    }

    [Fact]
    public async Task InferAsync_CanaryKeepsFailing_ItsBreakerOpensAndStableKeepsServing()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            o.Steps = [100];
            o.Resilience.BreakerMinimumThroughput = 5;
            o.Resilience.MaxRetryAttempts = 0;
        });
        await h.Manager.StartAsync(Fraud, "2");
        var canary = h.Catalog.Get(ReleaseHarness.Model, "2");
        canary.Behaviour = (_, _) => throw new InvalidOperationException("broken");

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(new ModelVersion("1"), (await h.Client.InferAsync(ReleaseHarness.Request("u" + i))).Key.Version);
        }

        // Once open, the canary's breaker stops calling it at all; stable is unaffected.
        Assert.InRange(canary.Calls, 5, 6);
        Assert.Equal(20, h.Catalog.Get(ReleaseHarness.Model, "1").Calls);
    }

    [Fact]
    public async Task InferAsync_StableBreakerOpen_CallerGetsBrokenCircuit()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            o.Resilience.BreakerMinimumThroughput = 2;
            o.Resilience.MaxRetryAttempts = 0;
        });
        h.Catalog.Get(ReleaseHarness.Model, "1").Behaviour = (_, _) => throw new InvalidOperationException("down");
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => h.Client.InferAsync(ReleaseHarness.Request()).AsTask());
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => h.Client.InferAsync(ReleaseHarness.Request()).AsTask());
    }

    [Fact]
    public async Task InferAsync_AttemptTimesOut_RetriedThenTimeoutRejected()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            o.Resilience.AttemptTimeout = TimeSpan.FromMilliseconds(100);
            o.Resilience.MaxRetryAttempts = 1;
        });
        var stable = h.Catalog.Get(ReleaseHarness.Model, "1");
        stable.Behaviour = async (_, ct) => await Task.Delay(Timeout.InfiniteTimeSpan, h.Time, ct);

        var call = h.Client.InferAsync(ReleaseHarness.Request()).AsTask();
        for (var i = 0; i < 200 && !call.IsCompleted; i++)
        {
            h.Time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Yield();
            SpinWait.SpinUntil(() => call.IsCompleted, 5);
        }

        await Assert.ThrowsAsync<Polly.Timeout.TimeoutRejectedException>(() => call);
        Assert.Equal(2, stable.Calls);
    }

    [Fact]
    public async Task InferAsync_ShadowVersion_CallerNeverGetsOrWaitsForTheShadowAnswer()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Shadow.Version = "2");
        await h.StartHostedAsync();
        var release = new TaskCompletionSource();
        var shadow = h.Catalog.Get(ReleaseHarness.Model, "2");
        shadow.Behaviour = async (_, ct) => await release.Task.WaitAsync(ct);

        // The shadow call is blocked: the caller still gets stable's answer at once.
        for (var i = 0; i < 5; i++)
        {
            var response = await h.Client.InferAsync(ReleaseHarness.Request("user-" + i)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(new ModelVersion("1"), response.Key.Version);
            Assert.Equal(1f, response["score"].As<float>().Span[0]);
        }

        release.SetResult();
        await h.Shadow.WhenComparedAsync(Fraud, 5, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var log = h.Services.GetRequiredService<IShadowComparisonLog>();
        Assert.Equal(new ShadowStatistics(5, 0, 0, 5, 0), log.GetStatistics(Fraud));
        var entry = log.GetRecent(Fraud)[0];
        Assert.Equal((ShadowOutcome.Mismatch, 1.0), (entry.Outcome, entry.MaxAbsDifference));
        Assert.Equal("user-0", entry.RequestId);
    }

    [Fact]
    public async Task InferAsync_ShadowQueueFull_CopiesDroppedAndCounted()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            o.Shadow.Version = "2";
            o.Shadow.QueueCapacity = 2;
        });
        using var dropped = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Release", "aiops.release.shadow.dropped");

        // Hosted services not started: nothing drains the queue.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(new ModelVersion("1"), (await h.Client.InferAsync(ReleaseHarness.Request("u" + i))).Key.Version);
        }

        var stats = h.Services.GetRequiredService<IShadowComparisonLog>().GetStatistics(Fraud);
        Assert.Equal((2L, 3L), (stats.Queued, stats.Dropped));
        Assert.Equal(3, dropped.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task InferAsync_ShadowOfAStatefulCall_CopyCarriesTheSequence()
    {
        // A stateful shadow version keeps its own state per sequence: without the sequence fields every copy would be
        // refused ("no SequenceId") and the shadow would compare nothing.
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Shadow.Version = "2");
        await h.StartHostedAsync();
        var request = new ModelRequest(ModelTensor.Create<float>("x", new float[] { 0.5f, 1.5f }, 1, 2))
        {
            RoutingKey = "u",
            SequenceId = "call-42",
            SequenceStart = true,
            SequenceEnd = true,
        };

        await h.Client.InferAsync(request);
        await h.Shadow.WhenComparedAsync(Fraud, 1, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var copy = h.Catalog.Get(ReleaseHarness.Model, "2").LastRequest!;
        Assert.NotSame(request, copy);
        Assert.Equal(("call-42", true, true), (copy.SequenceId, copy.SequenceStart, copy.SequenceEnd));
    }

    [Fact]
    public async Task InferAsync_ShadowMatchingAnswer_CountedAsMatchNotLogged()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.Shadow.Version = "2");
        h.Catalog.Get(ReleaseHarness.Model, "2").Value = 1f;
        await h.StartHostedAsync();

        await h.Client.InferAsync(ReleaseHarness.Request("u"));
        await h.Shadow.WhenComparedAsync(Fraud, 1, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var log = h.Services.GetRequiredService<IShadowComparisonLog>();
        Assert.Equal(1, log.GetStatistics(Fraud).Matched);
        Assert.Empty(log.GetRecent(Fraud));
    }

    [Fact]
    public async Task Monitor_StateWrittenByAnotherReplica_PickedUpByPolling()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await h.Client.InferAsync(ReleaseHarness.Request("u"));
        var other = new AiOps.Release.State.FileRolloutStateStore(_dir.Path, h.Time); // another process: no in-process event
        var now = h.Time.GetUtcNow();
        Assert.True(await other.TrySaveAsync(new RolloutState(Fraud, "1", "2", RolloutPhase.Progressing, 0, 100, now), 0));

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(SpinWait.SpinUntil(() => h.Monitor.Get(Fraud).Router.Table.Canary is not null, TimeSpan.FromSeconds(30)));

        Assert.Equal(new ModelVersion("2"), (await h.Client.InferAsync(ReleaseHarness.Request("u"))).Key.Version);
    }
}
