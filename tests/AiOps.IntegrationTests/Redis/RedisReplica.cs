using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AiOps.Metrics;
using AiOps.Release.Rollout;
using AiOps.Release.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.IntegrationTests.Redis;

internal sealed class ReplicaRunner(ModelKey key, float value) : IModelRunner
{
    public ModelKey Key { get; } = key;

    public ModelMetadata Metadata { get; } = new([new TensorSpec("x", TensorElementType.Float32, [-1, 1])], [new TensorSpec("y", TensorElementType.Float32, [1])]);

    public ModelRunnerStatus Status { get; } = new(ModelReadiness.Ready, "CPU", null);

    public ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new ModelResponse(Key, [ModelTensor.Create<float>("y", new[] { value }, 1)]));
}

internal sealed class ReplicaCatalog : IModelRunnerCatalog
{
    private readonly Dictionary<ModelKey, IModelRunner> _runners = new()
    {
        [new ModelKey("fraud", "1")] = new ReplicaRunner(new ModelKey("fraud", "1"), 1),
        [new ModelKey("fraud", "2")] = new ReplicaRunner(new ModelKey("fraud", "2"), 2),
    };

    public IReadOnlyCollection<ModelKey> Keys => _runners.Keys;

    public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner) => _runners.TryGetValue(key, out runner);
}

/// <summary>Per-version figures the test sets: healthy (equal to stable) or failing.</summary>
internal sealed class ReplicaMetrics : IVersionMetricsSource
{
    private readonly ConcurrentDictionary<ModelKey, long> _failures = new();

    public void SetFailures(string version, long failures) => _failures[new ModelKey("fraud", version)] = failures;

    public ValueTask<VersionMetricsSnapshot> GetSnapshotAsync(ModelKey key, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var samples = Enumerable.Range(0, 200).Select(i => 40.0 + (i % 10)).ToArray();
        return ValueTask.FromResult(new VersionMetricsSnapshot(key, since, since, 1000, _failures.GetValueOrDefault(key), samples));
    }
}

/// <summary>One replica: its own service provider over the shared Redis store, with its own routers and controller.</summary>
internal sealed class RedisReplica : IAsyncDisposable
{
    public RedisReplica(string connectionString, string keyPrefix, string instanceId, FakeTimeProvider time, ReplicaMetrics metrics)
    {
        Time = time;
        var services = new ServiceCollection();
        services.AddLogging().AddMetrics();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IModelRunnerCatalog>(new ReplicaCatalog());
        services.AddSingleton<IVersionMetricsSource>(metrics);
        services.AddAiOpsRelease(o =>
            {
                o.InstanceId = instanceId;
                o.StateDirectory = Path.Combine(Path.GetTempPath(), "aiops-unused-" + instanceId);
            })
            .AddModel("fraud", o =>
            {
                o.StableVersion = "1";
                o.Steps = [10, 50, 100];
                o.StepHold = TimeSpan.FromHours(1);
                o.Gates.MinSamples = 50;
            })
            .UseRedisStateStore(connectionString, keyPrefix);
        Services = services.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; }

    public ServiceProvider Services { get; }

    public RolloutManager Manager => Services.GetRequiredService<RolloutManager>();

    public RolloutStateMonitor Monitor => Services.GetRequiredService<RolloutStateMonitor>();

    public IModelClient Client => Services.GetRequiredKeyedService<IModelClient>("fraud");

    public double CanaryWeight => Monitor.Get(new ModelId("fraud")).Router.Table.CanaryWeightPercent;

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}
