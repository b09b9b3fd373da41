using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Inference.Tests;

public sealed class BatchingTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public BatchingTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private static OnnxRunnerOptions Batched(int maxBatch, TimeSpan delay, Action<OnnxRunnerOptions>? configure = null) =>
        ModelFiles.CpuOptions(o =>
        {
            o.Batching.Enabled = true;
            o.Batching.MaxBatchSize = maxBatch;
            o.Batching.MaxQueueDelay = delay;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task RunAsync_ConcurrentCallsFillingTheBatch_RunAsOneRunAndSplitBack()
    {
        var time = Requests.FakeTime(); // never advanced: only a full batch can run
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(6, TimeSpan.FromSeconds(1)), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        var inputs = new[] { Kit.Features(1, seed: 1), Kit.Features(2, seed: 2), Kit.Features(3, seed: 3) };

        var calls = inputs.Select(f => runner.RunAsync(Requests.Features(f)).AsTask()).ToArray();
        var responses = await Task.WhenAll(calls);

        Assert.True(runner.IsBatching);
        Assert.Equal(6, Assert.Single(batchSizes.GetMeasurementSnapshot()).Value);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal([i + 1L, 3L], responses[i]["probabilities"].Shape.ToArray());
            Requests.AssertClose(Kit.Classifier(1).Predict(inputs[i]), responses[i].Probabilities());
        }
    }

    /// <summary>A tf2onnx-style export: each tensor's batch has its own symbol (unk__314 in, unk__315 out).</summary>
    private string Tf2OnnxStyle()
    {
        var path = _files.NewPath($"tf2onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new AiOps.TestModels.OnnxModelBuilder("tf2onnx")
            .AddInput("x", AiOps.TestModels.OnnxDataType.Float, "unk__314", 4)
            .AddInput("w", AiOps.TestModels.OnnxDataType.Float, "unk__316", 4)
            .AddOutput("y", AiOps.TestModels.OnnxDataType.Float, "unk__315", 4)
            .AddNode("Mul", ["x", "w"], ["y"])
            .Build());
        return path;
    }

    private static ModelRequest XW(float[] x, float[] w) =>
        new([ModelTensor.Create("x", x.AsMemory(), x.Length / 4, 4), ModelTensor.Create("w", w.AsMemory(), w.Length / 4, 4)]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_BatchSymbolsDifferPerTensor_BatchedOnlyWhenDeclared(bool declared)
    {
        var time = Requests.FakeTime(); // never advanced: a partial batch could only run by deadline, so 2 full rows = one run
        await using var runner = await _files.CreateAsync(Tf2OnnxStyle(), Batched(2, TimeSpan.FromSeconds(1), o => o.Batching.AssumeFirstDimensionIsBatch = declared), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        float[] x1 = [1, 2, 3, 4], x2 = [5, 6, 7, 8], w = [2, 2, 2, 2];

        var responses = await Task.WhenAll(runner.RunAsync(XW(x1, w)).AsTask(), runner.RunAsync(XW(x2, w)).AsTask());

        Assert.Equal(declared, runner.IsBatching);
        Assert.Equal(declared ? [2L] : [1L, 1L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Assert.Equal(new float[] { 2, 4, 6, 8 }, responses[0].Outputs[0].As<float>().Data.ToArray());
        Assert.Equal(new float[] { 10, 12, 14, 16 }, responses[1].Outputs[0].As<float>().Data.ToArray());
        if (declared)
        {
            // The differing symbols no longer tie the inputs' rows: the declared batch does.
            var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(XW(x1, [.. w, .. w])).AsTask());
            Assert.Contains("AssumeFirstDimensionIsBatch", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RunAsync_PartialBatch_RunsWhenMaxQueueDelayElapses()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromMilliseconds(5)), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var queueTimes = new MetricCollector<double>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.queue_time");

        var first = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 5))).AsTask();
        var second = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 6))).AsTask();
        Assert.False(first.IsCompleted);
        Assert.Equal(2, runner.PendingCalls);

        time.Advance(TimeSpan.FromMilliseconds(5));
        var responses = await Task.WhenAll(first, second);

        Assert.Equal(2, Assert.Single(batchSizes.GetMeasurementSnapshot()).Value);
        Assert.All(queueTimes.GetMeasurementSnapshot(), m => Assert.Equal(0.005, m.Value, 6));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 6)), responses[1].Probabilities());
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_OneCallerCancels_OthersInTheBatchSucceed()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromMilliseconds(5)), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        using var cts = new CancellationTokenSource();

        var a = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1))).AsTask();
        var b = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 2)), cts.Token).AsTask();
        var c = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 3))).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        time.Advance(TimeSpan.FromMilliseconds(5));

        var responses = await Task.WhenAll(a, c);
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 1)), responses[0].Probabilities());
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 3)), responses[1].Probabilities());
        var outcomes = requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!).Order().ToArray();
        Assert.Equal(["cancelled", "ok", "ok"], outcomes);
    }

    [Fact]
    public async Task RunAsync_QueueFull_RejectsAtOnceWithModelRejectedException()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1), o => o.MaxQueueLength = 2), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        var queued = new[]
        {
            runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask(),
            runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask(),
        };

        var error = await Assert.ThrowsAsync<ModelRejectedException>(() => runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask());

        Assert.Contains("MaxQueueLength", error.Message, StringComparison.Ordinal);
        Assert.Equal(runner.Key, error.Key);
        time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(queued);
        Assert.Equal(1, requests.GetMeasurementSnapshot().Count(m => (string)m.Tags["outcome"]! == "rejected"));

        // Room again once the queue drained.
        var next = runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        await next;
    }

    [Fact]
    public async Task RunAsync_BatchedCallTimesOut_FailsWithTimeoutWhileQueued()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1), o => o.CallTimeout = TimeSpan.FromMilliseconds(10)), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");

        var call = runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(10));

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.Equal("timeout", (string)Assert.Single(requests.GetMeasurementSnapshot()).Tags["outcome"]!);
    }

    [Fact]
    public async Task RunAsync_FixedShapeModelWithBatchingEnabled_RunsCallsOneByOne()
    {
        await using var runner = await _files.CreateAsync(_files.FixedShape, Batched(8, TimeSpan.FromSeconds(1)), Requests.FakeTime());

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("x", new float[6].AsMemory(), 2, 3)));

        Assert.False(runner.IsBatching);
        Assert.Equal([2L, 2L], response["y"].Shape.ToArray());
    }

    [Fact]
    public async Task RunAsync_ManyConcurrentCallersRealTime_AllAnswerCorrectly()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(16, TimeSpan.FromMilliseconds(1)));
        var model = Kit.Classifier(1);

        var callers = Enumerable.Range(0, 32).Select(async c =>
        {
            for (var i = 0; i < 20; i++)
            {
                var features = Kit.Features(1 + (i % 3), seed: (ulong)((c * 100) + i));
                var response = await runner.RunAsync(Requests.Features(features));
                Requests.AssertClose(model.Predict(features), response.Probabilities());
            }
        });

        await Task.WhenAll(callers);
        Assert.Equal(0, runner.PendingCalls);
    }
    [Fact]
    public async Task DisposeAsync_CallsInAFormingBatch_RunBeforeTheWorkerStops()
    {
        var time = Requests.FakeTime(); // never advanced: the batch of two would wait a whole second
        var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1)), time);
        var first = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 7))).AsTask();
        var second = runner.RunAsync(Requests.Features(Kit.Features(2, seed: 8))).AsTask();

        await runner.DisposeAsync();

        var responses = await Task.WhenAll(first, second);
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 7)), responses[0].Probabilities());
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(2, seed: 8)), responses[1].Probabilities());
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_ManyCallsOneAfterAnother_EachGetsItsOwnAnswer()
    {
        // Batches of one run at once; the per-call sources are pooled, so this reuses them many times over.
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(1, TimeSpan.FromSeconds(1)), Requests.FakeTime());
        var model = Kit.Classifier(1);

        for (var i = 0; i < 200; i++)
        {
            var features = Kit.Features(1, seed: (ulong)i);
            var response = await runner.RunAsync(Requests.Features(features));
            Requests.AssertClose(model.Predict(features), response.Probabilities());
        }

        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_CallCancelledWhileQueued_LaterCallsReuseNothingOfIt()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(4, TimeSpan.FromMilliseconds(5)), time);
        var model = Kit.Classifier(1);
        for (var round = 0; round < 20; round++)
        {
            using var cts = new CancellationTokenSource();
            var cancelled = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1)), cts.Token).AsTask();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

            var features = Kit.Features(1, seed: (ulong)(100 + round));
            var call = runner.RunAsync(Requests.Features(features)).AsTask();
            time.Advance(TimeSpan.FromMilliseconds(5));
            Requests.AssertClose(model.Predict(features), (await call).Probabilities());
        }

        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_BatchedResultAwaitedTwice_SecondReadThrowsInvalidOperation()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(1, TimeSpan.FromSeconds(1)), Requests.FakeTime());
        var call = runner.RunAsync(Requests.Features(Kit.Features(1)));

        _ = await call;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await call);
    }
}
