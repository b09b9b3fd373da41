using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Tests;

public sealed class CancellationTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public CancellationTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task RunAsync_AlreadyCancelled_ThrowsWithoutRunning()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        var ran = false;
        runner.BeforeRun = () => ran = true;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(Requests.Features(Kit.Features(1)), new CancellationToken(true)).AsTask());

        Assert.False(ran);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileRunning_TerminatesTheNativeRunAndTheNextCallSucceeds()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        using var cts = new CancellationTokenSource();
        runner.BeforeRun = cts.Cancel; // cancels once the call is committed to the native run: RunOptions.Terminate stops it

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(Requests.Features(Kit.Features(1)), cts.Token).AsTask());

        Assert.IsType<OnnxRuntimeException>(error.InnerException);
        Assert.Equal(cts.Token, error.CancellationToken);
        runner.BeforeRun = null;

        // The pooled RunOptions had its terminate flag reset: a cancellable call runs normally.
        using var fresh = new CancellationTokenSource();
        var response = await runner.RunAsync(Requests.Features(Kit.Features(1)), fresh.Token);
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1)), response.Probabilities());
        Assert.Equal(["cancelled", "ok"], requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!));
    }

    [Fact]
    public async Task RunAsync_CallTimeoutElapsesDuringRun_ThrowsTimeoutCancellation()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o => o.CallTimeout = TimeSpan.FromMilliseconds(100)), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        runner.BeforeRun = () => time.Advance(TimeSpan.FromMilliseconds(100));

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask());

        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.Contains("CallTimeout", error.Message, StringComparison.Ordinal);
        Assert.Equal("timeout", (string)Assert.Single(requests.GetMeasurementSnapshot()).Tags["outcome"]!);
    }

    [Fact]
    public async Task RunAsync_CallTimeoutNotReached_Succeeds()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o => o.CallTimeout = TimeSpan.FromMilliseconds(100)), time);
        runner.BeforeRun = () => time.Advance(TimeSpan.FromMilliseconds(99));

        var response = await runner.RunAsync(Requests.Features(Kit.Features(1)));

        Assert.Equal(3, response.Probabilities().Length);
    }

    [Fact]
    public async Task RunAsync_UnbatchedOverMaxQueueLength_RejectsWhileAnotherCallRuns()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o => o.MaxQueueLength = 1));
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        runner.BeforeRun = () =>
        {
            entered.Release();
            release.Wait();
        };

        var running = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask());
        await entered.WaitAsync();
        runner.BeforeRun = null;

        await Assert.ThrowsAsync<ModelRejectedException>(() => runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask());
        release.Release();
        await running;
        await runner.RunAsync(Requests.Features(Kit.Features(1)));
    }
}

/// <summary>A timeout on a model with one slow operator (ONNX Runtime checks the terminate flag only between operators).</summary>
public sealed class SlowOperatorTimeoutTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public SlowOperatorTimeoutTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task RunAsync_TimeoutWhileTheLastOperatorRuns_FailsAsTimedOutNamingTheModelNotWithTheLateResult()
    {
        var path = _files.NewPath($"slow-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Kit.MatMulChain(384));
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o => o.CallTimeout = TimeSpan.FromMilliseconds(50)), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        var x = Kit.Features(384, inputSize: 384);

        // The deadline passes while ONNX Runtime is inside its one MatMul: the terminate flag is set too late to stop
        // it (checked only between operators), so the run completes, but its answer comes after CallTimeout.
        runner.AfterRun = () => time.Advance(TimeSpan.FromMilliseconds(51));
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 384, 384))).AsTask());

        Assert.Contains(runner.Key.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.Contains("CallTimeout", error.Message, StringComparison.Ordinal);
        Assert.Equal("timeout", (string)Assert.Single(requests.GetMeasurementSnapshot()).Tags["outcome"]!);

        // The runner is not poisoned: the next call (with time to finish) answers.
        runner.AfterRun = null;
        var answered = await runner.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 384, 384)));
        Assert.Equal([384L, 384L], answered["y"].Shape.ToArray());
    }
}
