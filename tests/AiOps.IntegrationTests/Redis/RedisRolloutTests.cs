using System.Diagnostics;
using System.Text.Json;
using AiOps.Release.State;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace AiOps.IntegrationTests.Redis;

public sealed class RedisRolloutTests
{
    private static readonly ModelId Fraud = new("fraud");

    private static FakeTimeProvider NewTime() => new(new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Waits (real time: a real server is involved) until <paramref name="condition"/> holds; returns the time it took.</summary>
    private static async Task<TimeSpan> EventuallyAsync(Func<bool> condition, TimeSpan limit, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > limit)
            {
                throw new TimeoutException($"Not within {limit}: {what}");
            }

            await Task.Delay(5);
        }

        return sw.Elapsed;
    }

    [RedisFact]
    public async Task ThreeReplicas_ControllerRollsBack_EveryRouterSeesItWithinASecond()
    {
        await using var redis = await RedisServer.StartAsync();
        var time = NewTime(); // never advanced here: the routers' polling timers do not fire, so only pub/sub can deliver
        var metrics = new ReplicaMetrics();
        var prefix = $"t{Guid.NewGuid():N}:";
        await using var a = new RedisReplica(redis.ConnectionString, prefix, "a", time, metrics);
        await using var b = new RedisReplica(redis.ConnectionString, prefix, "b", time, metrics);
        await using var c = new RedisReplica(redis.ConnectionString, prefix, "c", time, metrics);
        RedisReplica[] replicas = [a, b, c];
        foreach (var r in replicas)
        {
            Assert.Equal(new ModelVersion("1"), (await r.Client.InferAsync(new ModelRequest(ModelTensor.Create<float>("x", new[] { 1f }, 1, 1)))).Key.Version);
        }

        await a.Manager.StartAsync(Fraud, "2");
        await EventuallyAsync(() => replicas.All(r => r.CanaryWeight == 10), TimeSpan.FromSeconds(10), "all routers at 10 %");

        // Only the lease holder decides.
        Assert.Equal(RolloutAction.Hold, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        Assert.Null(await b.Manager.EvaluateAsync(Fraud));
        Assert.Null(await c.Manager.EvaluateAsync(Fraud));

        metrics.SetFailures("2", 300);
        var decision = await a.Manager.EvaluateAsync(Fraud);
        var sw = Stopwatch.StartNew();
        Assert.Equal(RolloutAction.Rollback, decision!.Action);
        await EventuallyAsync(() => replicas.All(r => r.CanaryWeight == 0), TimeSpan.FromSeconds(10), "all routers back on stable");

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"routers saw the rollback after {sw.Elapsed}; expected within a second");
        var state = (await b.Manager.GetStateAsync(Fraud))!;
        Assert.Equal(RolloutPhase.RolledBack, state.Phase);
        Assert.StartsWith("error_rate", state.History[^1].Reasons[0], StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task Router_ChangeNotificationLost_PollingPicksItUpWithinASecondOfFakeTime()
    {
        await using var redis = await RedisServer.StartAsync();
        var time = NewTime();
        var prefix = $"t{Guid.NewGuid():N}:";
        await using var replica = new RedisReplica(redis.ConnectionString, prefix, "a", time, new ReplicaMetrics());
        await replica.Client.InferAsync(new ModelRequest(ModelTensor.Create<float>("x", new[] { 1f }, 1, 1)));

        // Write the state behind the store's back: no publish, as if the notification were lost.
        var state = new RolloutState(Fraud, "1", "2", RolloutPhase.Progressing, 1, 50, time.GetUtcNow()) { Revision = 7 };
        await using (var raw = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            await raw.GetDatabase().HashSetAsync(prefix + "fraud:state", [new("rev", 7), new("json", JsonSerializer.Serialize(state, ReleaseJson.Options))]);
        }

        Assert.Equal(0, replica.CanaryWeight);
        time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => replica.CanaryWeight == 50, TimeSpan.FromSeconds(10), "the poll to pick up 50 %");
    }

    [RedisFact]
    public async Task KillingRedisMidRollout_RoutersKeepWeightsAndNoDecisionIsLost()
    {
        await using var redis = await RedisServer.StartAsync(persistent: true);
        var time = NewTime();
        var metrics = new ReplicaMetrics();
        var prefix = $"t{Guid.NewGuid():N}:";
        await using var a = new RedisReplica(redis.ConnectionString, prefix, "a", time, metrics);
        await using var b = new RedisReplica(redis.ConnectionString, prefix, "b", time, metrics);
        var request = new ModelRequest(ModelTensor.Create<float>("x", new[] { 1f }, 1, 1)) { RoutingKey = "user-7" };
        await b.Client.InferAsync(request);

        await a.Manager.StartAsync(Fraud, "2");
        Assert.Equal(RolloutAction.Hold, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(RolloutAction.Advance, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        await EventuallyAsync(() => b.CanaryWeight == 50, TimeSpan.FromSeconds(10), "replica b at 50 %");

        redis.Kill();

        // Routers keep serving the last known weights and say so in health.
        var before = (await b.Client.InferAsync(request)).Key.Version;
        await b.Monitor.RefreshAllAsync();
        Assert.Equal(50, b.CanaryWeight);
        Assert.Equal(before, (await b.Client.InferAsync(request)).Key.Version);
        var health = await b.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("serving the last known weights", health.Entries["aiops-release"].Description, StringComparison.Ordinal);

        // The controller still decides (the canary starts failing) and keeps the decision; its own routers follow it.
        metrics.SetFailures("2", 300);
        var rollback = await a.Manager.EvaluateAsync(Fraud);
        Assert.Equal(RolloutAction.Rollback, rollback!.Action);
        Assert.Equal(1, a.Manager.PendingWrites);
        Assert.Equal(0, a.CanaryWeight);

        await redis.StartProcessAsync();
        var reconnect = Stopwatch.StartNew();
        while (a.Manager.PendingWrites > 0)
        {
            Assert.True(reconnect.Elapsed < TimeSpan.FromSeconds(30), "the kept decision was not written within 30 s of Redis coming back");
            await a.Manager.EvaluateAsync(Fraud); // the controller's next interval: writes the kept decision once connected
            await Task.Delay(50);
        }

        await using var check = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var json = (string?)await check.GetDatabase().HashGetAsync(prefix + "fraud:state", "json");
        var stored = JsonSerializer.Deserialize<RolloutState>(json!, ReleaseJson.Options)!;
        Assert.Equal(RolloutPhase.RolledBack, stored.Phase);
        Assert.Equal(
            [RolloutAction.Start, RolloutAction.Hold, RolloutAction.Advance, RolloutAction.Rollback],
            stored.History.Select(d => d.Action));

        // Replica b catches up (notification or poll) and its health recovers.
        time.Advance(TimeSpan.FromSeconds(1));
        await EventuallyAsync(() => b.CanaryWeight == 0, TimeSpan.FromSeconds(15), "replica b to see the rollback");
        await b.Monitor.RefreshAllAsync();
        Assert.Equal(HealthStatus.Healthy, (await b.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Status);
    }

    /// <summary>
    /// Redis restarts without its data mid-rollout (at 50 %, revision 3): every replica notices (health Degraded, last
    /// known weights kept), the next operator action re-seeds the store as a new generation, and every replica follows
    /// it within 5 s although its revision is lower than the ones they saw.
    /// </summary>
    [RedisFact]
    public async Task RedisRestartsEmptyMidRollout_EveryReplicaFollowsTheNextOperatorActionWithinFiveSeconds()
    {
        await using var redis = await RedisServer.StartAsync(persistent: false);
        var time = NewTime();
        var metrics = new ReplicaMetrics();
        var prefix = $"t{Guid.NewGuid():N}:";
        await using var a = new RedisReplica(redis.ConnectionString, prefix, "a", time, metrics);
        await using var b = new RedisReplica(redis.ConnectionString, prefix, "b", time, metrics);
        await using var c = new RedisReplica(redis.ConnectionString, prefix, "c", time, metrics);
        RedisReplica[] replicas = [a, b, c];
        var request = new ModelRequest(ModelTensor.Create<float>("x", new[] { 1f }, 1, 1)) { RoutingKey = "user-7" };
        foreach (var r in replicas)
        {
            await r.Client.InferAsync(request);
        }

        await a.Manager.StartAsync(Fraud, "2");
        Assert.Equal(RolloutAction.Hold, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(RolloutAction.Advance, (await a.Manager.EvaluateAsync(Fraud))!.Action);
        await EventuallyAsync(() => replicas.All(r => r.CanaryWeight == 50), TimeSpan.FromSeconds(10), "all routers at 50 %");
        var before = (await a.Manager.GetStateAsync(Fraud))!;

        redis.Kill();
        await redis.StartProcessAsync(); // not persistent: the restarted server is empty
        await EventuallyAsync(
            () => replicas.All(r => ((RedisRolloutStateStore)r.Services.GetRequiredService<IRolloutStateStore>()).IsConnected),
            TimeSpan.FromSeconds(30),
            "every replica reconnected to the restarted Redis");

        // Every replica recognises the reset, says so, and keeps serving the last known weights.
        foreach (var r in replicas)
        {
            var deadline = Stopwatch.StartNew();
            while (r.Monitor.Get(Fraud).ResetSince is null)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "a replica did not notice the empty store within 30 s");
                await r.Monitor.RefreshAllAsync();
                await Task.Delay(20);
            }

            Assert.Equal(50, r.CanaryWeight);
            var health = await r.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.Contains("found reset", health.Entries["aiops-release"].Description, StringComparison.Ordinal);
        }

        // The next operator action, from a replica that is not the controller.
        await b.Manager.AbortAsync(Fraud, "ops", "redis lost its data; abort and investigate");
        var sw = Stopwatch.StartNew();
        while (!replicas.All(r => r.CanaryWeight == 0))
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"routers did not follow the abort within 30 s: {string.Join(", ", replicas.Select(r => r.CanaryWeight))}");
            time.Advance(TimeSpan.FromMilliseconds(200)); // the routers' poll runs on the shared fake clock
            await Task.Delay(20);
        }

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"every replica followed the abort after {sw.Elapsed}; expected within 5 s");
        Assert.Equal(0, b.Manager.PendingWrites);
        await using var check = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var stored = JsonSerializer.Deserialize<RolloutState>((string)(await check.GetDatabase().HashGetAsync(prefix + "fraud:state", "json"))!, ReleaseJson.Options)!;
        Assert.Equal(RolloutPhase.RolledBack, stored.Phase);
        Assert.NotEqual(before.Epoch, stored.Epoch);
        Assert.True(stored.Revision < before.Revision, $"stored revision {stored.Revision}, before the reset {before.Revision}");
        Assert.Equal([RolloutAction.Reseed, RolloutAction.Abort], stored.History.TakeLast(2).Select(d => d.Action));
        Assert.Equal("ops", stored.History[^1].Actor);
        foreach (var r in replicas)
        {
            await r.Monitor.RefreshAllAsync();
            Assert.Equal(HealthStatus.Healthy, (await r.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Status);
        }
    }
}
