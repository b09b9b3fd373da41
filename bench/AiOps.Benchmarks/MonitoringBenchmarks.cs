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
