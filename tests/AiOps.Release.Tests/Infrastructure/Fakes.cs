using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AiOps.Drift;
using AiOps.Metrics;
using AiOps.State;

namespace AiOps.Release.Tests.Infrastructure;

/// <summary>A runner whose answer is one float output "score" holding <see cref="Value"/>, so callers can tell versions apart.</summary>
public sealed class FakeRunner : IModelRunner
{
    private int _calls;

    public FakeRunner(ModelKey key, float value)
    {
        Key = key;
        Value = value;
    }

    public ModelKey Key { get; }

    public float Value { get; set; }

    public ModelMetadata Metadata { get; } = new(
        [new TensorSpec("x", TensorElementType.Float32, [-1, 2])],
        [new TensorSpec("score", TensorElementType.Float32, [1])]);

    public ModelRunnerStatus Status { get; } = new(ModelReadiness.Ready, "CPU", null);

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The request of the latest call.</summary>
    public ModelRequest? LastRequest { get; private set; }

    /// <summary>Runs before the answer: throw to fail the call, await to delay it.</summary>
    public Func<int, CancellationToken, ValueTask>? Behaviour { get; set; }

    public async ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
    {
        var call = Interlocked.Increment(ref _calls);
        LastRequest = request;
        if (Behaviour is { } b)
        {
            await b(call, cancellationToken);
        }

        return new ModelResponse(Key, [ModelTensor.Create<float>("score", new float[] { Value }, 1)]);
    }
}

public sealed class FakeCatalog : IModelRunnerCatalog
{
    private readonly ConcurrentDictionary<ModelKey, IModelRunner> _runners = new();

    public IReadOnlyCollection<ModelKey> Keys => [.. _runners.Keys];

    public FakeRunner Add(string model, string version, float value)
    {
        var runner = new FakeRunner(new ModelKey(model, version), value);
        _runners[runner.Key] = runner;
        return runner;
    }

    public FakeRunner Get(string model, string version) => (FakeRunner)_runners[new ModelKey(model, version)];

    public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner) => _runners.TryGetValue(key, out runner);
}

/// <summary>What a version "did" in the fake metrics source: request count, failures, latency distribution, accuracy, drift.</summary>
public sealed record FakeBehaviour(long Requests, long Failures, double LatencyMeanMs, double LatencySpreadMs = 5, double? Accuracy = null, DriftSeverity? Drift = null);

public sealed class FakeMetricsSource : IVersionMetricsSource
{
    private readonly ConcurrentDictionary<ModelKey, FakeBehaviour> _behaviour = new();

    public List<(ModelKey Key, DateTimeOffset Since)> Calls { get; } = [];

    public void Set(string model, string version, FakeBehaviour behaviour) => _behaviour[new ModelKey(model, version)] = behaviour;

    public ValueTask<VersionMetricsSnapshot> GetSnapshotAsync(ModelKey key, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        lock (Calls)
        {
            Calls.Add((key, since));
        }

        if (!_behaviour.TryGetValue(key, out var b))
        {
            return ValueTask.FromResult(new VersionMetricsSnapshot(key, since, since, 0, 0, []));
        }

        // Deterministic samples: the same behaviour always gives the same figures.
        var random = new Random(key.GetHashCode() & 0x7fff);
        var samples = new double[Math.Min(b.Requests, 500)];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = Math.Max(0.1, b.LatencyMeanMs + ((random.NextDouble() - 0.5) * 2 * b.LatencySpreadMs));
        }

        return ValueTask.FromResult(new VersionMetricsSnapshot(key, since, since, b.Requests, b.Failures, samples) { Accuracy = b.Accuracy, Drift = b.Drift });
    }
}

/// <summary>Wraps a store and fails every call while <see cref="Down"/> is set, as an unreachable Redis would.</summary>
public sealed class FlakyStore(IRolloutStateStore inner) : IRolloutStateStore
{
    public bool Down { get; set; }

    public event EventHandler<ModelId>? Changed
    {
        add => inner.Changed += value;
        remove => inner.Changed -= value;
    }

    public ValueTask<RolloutState?> GetAsync(ModelId model, CancellationToken cancellationToken = default) =>
        Down ? throw new IOException("store unreachable (test)") : inner.GetAsync(model, cancellationToken);

    public ValueTask<bool> TrySaveAsync(RolloutState state, long expectedRevision, CancellationToken cancellationToken = default) =>
        Down ? throw new IOException("store unreachable (test)") : inner.TrySaveAsync(state, expectedRevision, cancellationToken);

    public ValueTask<bool> TryAcquireLeaseAsync(ModelId model, string owner, TimeSpan duration, CancellationToken cancellationToken = default) =>
        Down ? throw new IOException("store unreachable (test)") : inner.TryAcquireLeaseAsync(model, owner, duration, cancellationToken);
}

public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "aiops-release-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// An in-memory rollout state store with the file store's semantics (revision check, lease by owner and expiry);
/// <see cref="Reset"/> loses everything, as a Redis restarted without its data does.
/// </summary>
public sealed class MemoryStateStore(TimeProvider time) : IRolloutStateStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ModelId, RolloutState> _states = [];
    private readonly Dictionary<ModelId, (string Owner, DateTimeOffset Until)> _leases = [];

    public event EventHandler<ModelId>? Changed;

    public int Writes { get; private set; }

    /// <summary>Forgets every state and lease.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _states.Clear();
            _leases.Clear();
        }
    }

    public ValueTask<RolloutState?> GetAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_states.TryGetValue(model, out var s) ? s : null);
        }
    }

    public ValueTask<bool> TrySaveAsync(RolloutState state, long expectedRevision, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var current = _states.TryGetValue(state.Model, out var s) ? s.Revision : 0;
            if (current != expectedRevision)
            {
                return ValueTask.FromResult(false);
            }

            _states[state.Model] = state with { Revision = expectedRevision + 1 };
            Writes++;
        }

        Changed?.Invoke(this, state.Model);
        return ValueTask.FromResult(true);
    }

    public ValueTask<bool> TryAcquireLeaseAsync(ModelId model, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_leases.TryGetValue(model, out var lease) && lease.Until > now && lease.Owner != owner)
            {
                return ValueTask.FromResult(false);
            }

            _leases[model] = (owner, now + duration);
            return ValueTask.FromResult(true);
        }
    }
}
