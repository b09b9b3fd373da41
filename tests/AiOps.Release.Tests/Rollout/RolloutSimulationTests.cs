using AiOps.Release.Resilience;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiOps.Release.Tests.Rollout;

/// <summary>
/// Seeded simulations of a rollout under traffic, on fake time: requests through the keyed client (the default
/// resilience pipeline: timeouts, retries, breaker, fallback), runners monitored by AiOps.Monitoring (its per-version
/// figures feed the gates), the controller evaluating every minute. The figures are the field's: 20 requests/s,
/// canary at 10 %, default gates.
/// </summary>
public sealed class RolloutSimulationTests
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    public enum Fault
    {
        None,
        Failing,
        Hung,
    }

    /// <summary>
    /// Invariant: whatever minute of a step a 100 %-failing or hung canary starts, it is at weight 0 within two
    /// evaluation intervals of the fault and never advances after it (the breaker opening and timeouts hide nothing).
    /// Faults start 17 s past a minute, 1 h, 6 h and 20 h into a 24 h step.
    /// </summary>
    [Theory]
    [InlineData(1, Fault.Failing, 11)]
    [InlineData(6, Fault.Failing, 12)]
    [InlineData(20, Fault.Failing, 13)]
    [InlineData(1, Fault.Hung, 14)]
    [InlineData(6, Fault.Hung, 15)]
    [InlineData(20, Fault.Hung, 16)]
    public async Task FaultAnyTimeInAStep_CanaryAtWeightZeroWithinTwoIntervals(int hoursIntoStep, Fault fault, int seed)
    {
        await using var sim = new Simulation(seed, stableErrorRate: 0.01, canaryErrorRate: 0.01);
        await sim.StartAsync();

        var faultAt = sim.Now + TimeSpan.FromHours(hoursIntoStep) + TimeSpan.FromSeconds(17);
        await sim.RunUntilAsync(faultAt);
        var before = (await sim.H.Manager.GetStateAsync(Fraud))!;
        Assert.Equal((RolloutPhase.Progressing, 0, 10.0), (before.Phase, before.StepIndex, before.CanaryWeightPercent));

        sim.CanaryFault = fault;
        var rolledBackAt = await sim.RunUntilRollbackAsync(faultAt + TimeSpan.FromHours(1));

        Assert.True(rolledBackAt is not null, $"{fault} canary from {hoursIntoStep} h into the step was not rolled back within an hour");
        Assert.True(rolledBackAt - faultAt <= 2 * Interval, $"{fault} canary rolled back {rolledBackAt - faultAt} after the fault; expected at most {2 * Interval}");
        Assert.Equal(0, sim.H.Monitor.Get(Fraud).Router.Table.CanaryWeightPercent);
        var after = (await sim.H.Manager.GetStateAsync(Fraud))!;
        Assert.Equal(RolloutPhase.RolledBack, after.Phase);
        Assert.DoesNotContain(after.History, d => d.At >= faultAt && d.Action is RolloutAction.Advance or RolloutAction.Promote);
        Assert.Contains("error_rate", after.History[^1].Reasons[0], StringComparison.Ordinal);
    }

    /// <summary>
    /// Invariant: a canary identical to stable (both failing 0.5-2 % of calls at random) is rolled back in at most 1 of
    /// 60 seeded rollouts (three steps of 20 min, 60 evaluations each), and the others are promoted.
    /// </summary>
    [Fact]
    public async Task CanaryIdenticalToStable_AtMostOneFalseRollbackIn60Runs()
    {
        var outcomes = new RolloutPhase[60];
        await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (run, _) =>
        {
            var rate = 0.005 + (0.015 * new Random(1000 + run).NextDouble());
            await using var sim = new Simulation(2000 + run, rate, rate, o => o.StepHold = TimeSpan.FromMinutes(20));
            await sim.StartAsync();
            await sim.RunUntilDoneAsync(sim.Now + TimeSpan.FromHours(2));
            outcomes[run] = (await sim.H.Manager.GetStateAsync(Fraud, CancellationToken.None))!.Phase;
        });

        var rolledBack = outcomes.Count(p => p == RolloutPhase.RolledBack);
        Assert.True(rolledBack <= 1, $"{rolledBack} of 60 identical canaries were rolled back");
        Assert.Equal(60 - rolledBack, outcomes.Count(p => p == RolloutPhase.Promoted));
    }

    /// <summary>One replica under simulated traffic; time moves in 250 ms ticks, the controller evaluates every minute.</summary>
    private sealed class Simulation : IAsyncDisposable
    {
        private const int RequestsPerSecond = 20;
        private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
        private readonly Random _random;
        private readonly List<Task> _inFlight = [];
        private readonly TempDir _dir = new();
        private DateTimeOffset _nextEvaluation;

        public Simulation(int seed, double stableErrorRate, double canaryErrorRate, Action<ModelReleaseOptions>? model = null)
        {
            _random = new Random(seed);
            var catalog = ReleaseHarness.DefaultCatalog();
            H = new ReleaseHarness(
                _dir.Path,
                catalog: catalog,
                model: o =>
                {
                    o.Resilience = new ModelResilienceOptions(); // the default pipeline, retry delays included
                    model?.Invoke(o);
                },
                services: sc =>
                {
                    sc.RemoveAll<AiOps.Metrics.IVersionMetricsSource>();
                    sc.RemoveAll<IModelRunnerCatalog>();
                    sc.AddAiOpsMonitoring();
                    sc.AddSingleton<IModelRunnerCatalog>(sp => new DecoratedModelRunnerCatalog(catalog, sp.GetServices<IModelRunnerDecorator>()));
                    sc.Replace(ServiceDescriptor.Singleton<IRolloutStateStore>(sp => new MemoryStateStore(sp.GetRequiredService<TimeProvider>())));
                });
            H.Catalog.Get(ReleaseHarness.Model, "1").Behaviour = (_, ct) => Behave(stableErrorRate, Fault.None, ct);
            H.Catalog.Get(ReleaseHarness.Model, "2").Behaviour = (_, ct) => Behave(canaryErrorRate, CanaryFault, ct);
        }

        public ReleaseHarness H { get; }

        public Fault CanaryFault { get; set; }

        public DateTimeOffset Now => H.Time.GetUtcNow();

        public async Task StartAsync()
        {
            await H.Manager.StartAsync(Fraud, "2");
            _nextEvaluation = Now + Interval;
        }

        public async Task RunUntilAsync(DateTimeOffset until)
        {
            while (Now < until)
            {
                await StepAsync();
            }
        }

        /// <summary>Runs until a rollback decision; returns when it was made, or null when none came by <paramref name="until"/>.</summary>
        public async Task<DateTimeOffset?> RunUntilRollbackAsync(DateTimeOffset until)
        {
            while (Now < until)
            {
                if (await StepAsync() is { Action: RolloutAction.Rollback } d)
                {
                    return d.At;
                }
            }

            return null;
        }

        public async Task RunUntilDoneAsync(DateTimeOffset until)
        {
            while (Now < until)
            {
                if (await StepAsync() is { Action: RolloutAction.Rollback or RolloutAction.Promote })
                {
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            // Let hung calls time out so nothing outlives the simulation.
            for (var i = 0; i < 2_000 && _inFlight.Count > 0; i++)
            {
                H.Time.Advance(Tick);
                _inFlight.RemoveAll(t => t.IsCompleted);
            }

            // Polly's pipeline registry, when disposed, waits for executions still in flight by polling on the
            // pipeline's clock, which is the fake one here: keep it moving until the container is disposed (a hung
            // attempt whose fallback was still running made this wait forever otherwise).
            var disposal = H.DisposeAsync().AsTask();
            for (var i = 0; i < 100_000 && !disposal.IsCompleted; i++)
            {
                H.Time.Advance(Tick);
                await Task.Yield();
            }

            await disposal;
            _dir.Dispose();
        }

        private async Task<RolloutDecision?> StepAsync()
        {
            for (var i = 0; i < RequestsPerSecond * Tick.TotalSeconds; i++)
            {
                var call = H.Client.InferAsync(ReleaseHarness.Request("user-" + (int)(Draw() * 1_000_000)));
                if (!call.IsCompleted)
                {
                    _inFlight.Add(call.AsTask());
                }
                else if (call.IsFaulted)
                {
                    _ = call.AsTask().Exception; // an error the caller sees (stable failed too): observed
                }
            }

            H.Time.Advance(Tick);
            _inFlight.RemoveAll(t => t.IsCompleted);
            if (Now < _nextEvaluation)
            {
                return null;
            }

            _nextEvaluation += Interval;
            return await H.Manager.EvaluateAsync(Fraud);
        }

        private ValueTask Behave(double errorRate, Fault fault, CancellationToken cancellationToken) => fault switch
        {
            Fault.Failing => throw new InvalidOperationException("canary fault (simulation)"),
            Fault.Hung => new ValueTask(Task.Delay(Timeout.InfiniteTimeSpan, H.Time, cancellationToken)),
            _ => Draw() < errorRate ? throw new InvalidOperationException("random failure (simulation)") : ValueTask.CompletedTask,
        };

        private double Draw()
        {
            // Fallback calls after a timeout continue on timer threads: the seeded generator is shared safely.
            lock (_random)
            {
                return _random.NextDouble();
            }
        }
    }
}
