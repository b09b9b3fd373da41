using AiOps.Monitoring.Export;
using AiOps.Monitoring.Runners;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Benchmarks;

/// <summary>
/// Cost of recording one inference: a call through <see cref="MonitoredModelRunner"/> (latency histogram, outcome
/// counter, in-flight gauge, per-version sample, Prometheus export active) against the same runner called directly.
/// The inner runner returns a cached response synchronously so only the monitoring overhead is measured.
/// Target: at most 200 ns added (median), no allocation.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class MonitoringBenchmarks
{
    private ServiceProvider _provider = null!;
    private IModelRunner _raw = null!;
    private IModelRunner _monitored = null!;
    private ModelRequest _request = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        _provider = services.BuildServiceProvider();
        _ = _provider.GetRequiredService<AiOpsPrometheusExporter>(); // bridge listening, as in a host
        _raw = new CachedRunner();
        _monitored = _raw.WithMonitoring(_provider);
        _request = new ModelRequest(ModelTensor.Create<float>("features", new float[4], 1, 4));
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true, Description = "uninstrumented call")]
    public ModelResponse Uninstrumented() => Complete(_raw.RunAsync(_request));

    [Benchmark(Description = "monitored call")]
    public ModelResponse Monitored() => Complete(_monitored.RunAsync(_request));

    private static ModelResponse Complete(ValueTask<ModelResponse> pending) =>
        pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    private sealed class CachedRunner : IModelRunner
    {
        private readonly ModelResponse _response;

        public CachedRunner()
        {
            Key = new ModelKey("bench", "1");
            _response = new ModelResponse(Key, [ModelTensor.Create<float>("probabilities", new float[3], 1, 3)]);
        }

        public ModelKey Key { get; }

        public ModelMetadata Metadata { get; } = new([], []);

        public ModelRunnerStatus Status { get; } = new(ModelReadiness.Ready, "CPU", null);

        public ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default) => ValueTask.FromResult(_response);
    }
}

/// <summary>
/// Issue 16: the per-request cost of drift observation, a request of 10 numeric features (one float tensor, 10 columns)
/// counted into each feature's 10 quantile bins by <see cref="AiOps.Monitoring.Drift.IDriftMonitor.Observe(ModelKey, ModelRequest)"/>
/// (window lookup, lock, per-column strided counting), at 1 row and at 64 rows. Baseline: the loop a user would write for
/// one row, <c>Array.BinarySearch</c> of each of the 10 values in its feature's edges.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DriftObserveBenchmarks
{
    private const int Features = 10;
    private static readonly ModelKey s_key = new("bench", "1");
    private ServiceProvider _provider = null!;
    private AiOps.Monitoring.Drift.IDriftMonitor _monitor = null!;
    private ModelRequest _one = null!;
    private ModelRequest _batch = null!;
    private double[][] _edges = [];
    private long[][] _counts = [];
    private float[] _row = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(16);
        var reference = Enumerable.Range(0, 10_000 * Features).Select(_ => (float)rng.NextDouble()).ToArray();
        var profile = AiOps.Monitoring.Drift.ReferenceProfileBuilder.FromMatrix(reference, Features, null, "features");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAiOpsDrift(o => o.PublishAlerts = false);
        _provider = services.BuildServiceProvider();
        _monitor = _provider.GetRequiredService<AiOps.Monitoring.Drift.IDriftMonitor>();
        _monitor.SetProfile(s_key, profile);
        _row = Enumerable.Range(0, Features).Select(_ => (float)rng.NextDouble()).ToArray();
        _one = new ModelRequest(ModelTensor.Create<float>("features", _row, 1, Features));
        var batch = Enumerable.Range(0, 64 * Features).Select(_ => (float)rng.NextDouble()).ToArray();
        _batch = new ModelRequest(ModelTensor.Create<float>("features", batch, 64, Features));
        _edges = Enumerable.Range(0, Features).Select(j => Enumerable.Range(1, 9).Select(i => i / 10.0).ToArray()).ToArray();
        _counts = Enumerable.Range(0, Features).Select(_ => new long[10]).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true, Description = "binary search per value, 1 row x 10")]
    public void NaiveOneRow()
    {
        for (var j = 0; j < Features; j++)
        {
            var i = Array.BinarySearch(_edges[j], (double)_row[j]);
            _counts[j][i >= 0 ? i + 1 : ~i]++;
        }
    }

    [Benchmark(Description = "Observe, 1 row x 10 features")]
    public void ObserveOneRow() => _monitor.Observe(s_key, _one);

    [Benchmark(Description = "Observe, 64 rows x 10 features", OperationsPerInvoke = 64)]
    public void ObserveBatchPerRow() => _monitor.Observe(s_key, _batch);
}
