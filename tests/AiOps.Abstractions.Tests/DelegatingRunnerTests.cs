using AiOps.Metrics;

namespace AiOps.Abstractions.Tests;

public sealed class DelegatingRunnerTests
{
    private sealed class EchoRunner : IModelRunner
    {
        public ModelKey Key { get; } = new("echo", "1");

        public ModelMetadata Metadata { get; } = new([new TensorSpec("x", TensorElementType.Float32, [-1])], [new TensorSpec("x", TensorElementType.Float32, [-1])]);

        public ModelRunnerStatus Status { get; } = new(ModelReadiness.Degraded, "CPU", "CUDA unavailable");

        public ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new ModelResponse(Key, request.Inputs));
    }

    private sealed class CountingRunner(IModelRunner inner) : DelegatingModelRunner(inner)
    {
        public int Calls { get; private set; }

        public override ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
        {
            Calls++;
            return base.RunAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task DelegatingRunner_ForwardsIdentityStatusAndCalls()
    {
        var inner = new EchoRunner();
        var runner = new CountingRunner(inner);
        var input = ModelTensor.Create<float>("x", new float[] { 1, 2 }, 2);

        var response = await runner.RunAsync(new ModelRequest(input));

        Assert.Equal(1, runner.Calls);
        Assert.Equal(inner.Key, runner.Key);
        Assert.Same(inner.Metadata, runner.Metadata);
        Assert.Equal(ModelReadiness.Degraded, runner.Status.Readiness);
        Assert.True(runner.Status.IsServing);
        Assert.Same(input, response["x"]);
    }

    [Fact]
    public void VersionMetricsSnapshot_Percentiles_UseNearestRank()
    {
        var samples = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToArray();
        var snapshot = new VersionMetricsSnapshot(new ModelKey("m", "1"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 200, 3, samples);
        Assert.Equal(95, snapshot.P95LatencyMs);
        Assert.Equal(50, snapshot.Percentile(0.5));
        Assert.Equal(0.015, snapshot.ErrorRate, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => snapshot.Percentile(1.5));
    }

    [Fact]
    public void VersionMetricsSnapshot_NoData_HasNoPercentileAndZeroErrorRate()
    {
        var snapshot = new VersionMetricsSnapshot(new ModelKey("m", "1"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0, 0, []);
        Assert.Null(snapshot.P95LatencyMs);
        Assert.Equal(0, snapshot.ErrorRate);
    }
}
