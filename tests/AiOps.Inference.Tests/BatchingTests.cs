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

    /// <summary>Starts a one-row call whose run is held by <paramref name="gate"/>; returns once it is inside the run.</summary>
    private static async Task<Task<ModelResponse>> HoldWorkerAsync(OnnxModelRunner runner, RunGate gate)
    {
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 99))).AsTask()); // an idle batched runner runs a lone call on the caller's thread
        await gate.EnteredAsync();
        return held;
    }

    [Fact]
    public async Task RunAsync_CallsQueuedWhileABatchRuns_RunAsOneRunAndSplitBack()
    {
        var time = Requests.FakeTime(); // never advanced: no deadline ever passes
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(6, TimeSpan.FromSeconds(1)), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);
        var inputs = new[] { Kit.Features(1, seed: 1), Kit.Features(2, seed: 2), Kit.Features(3, seed: 3) };

        var calls = inputs.Select(f => runner.RunAsync(Requests.Features(f)).AsTask()).ToArray();
        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        Assert.True(runner.IsBatching);
        Assert.Equal([1L, 6L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal([i + 1L, 3L], responses[i]["probabilities"].Shape.ToArray());
            Requests.AssertClose(Kit.Classifier(1).Predict(inputs[i]), responses[i].Probabilities());
        }
    }

    [Fact]
    public async Task RunAsync_TwoConcurrentBatches_SecondBatchRunsWhileTheFirstIsHeldAndCallsQueueOnTheLessLoaded()
    {
        var time = Requests.FakeTime(); // never advanced: only reached sizes or idle workers start runs
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1), o => o.Batching.MaxConcurrentBatches = 2), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var gate = new RunGate(holds: 2);
        runner.BeforeRun = gate.Hook;
        var model = Kit.Classifier(1);

        // Two lone calls: each finds an idle batcher, so two runs are inside the model at once.
        var first = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1))).AsTask());
        await gate.EnteredAsync();
        var second = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(2, seed: 2))).AsTask());
        await gate.EnteredAsync();

        // With both busy, later calls queue, spread over the two by queued rows; each queue runs as one batch.
        var queued = Enumerable.Range(0, 4).Select(i => Kit.Features(1, seed: (ulong)(10 + i))).ToArray();
        var calls = queued.Select(f => runner.RunAsync(Requests.Features(f)).AsTask()).ToArray();
        Assert.All(calls, c => Assert.False(c.IsCompleted));
        gate.Open();

        var responses = await Task.WhenAll(calls);
        Requests.AssertClose(model.Predict(Kit.Features(1, seed: 1)), (await first).Probabilities());
        Requests.AssertClose(model.Predict(Kit.Features(2, seed: 2)), (await second).Probabilities());
        for (var i = 0; i < queued.Length; i++)
        {
            Requests.AssertClose(model.Predict(queued[i]), responses[i].Probabilities());
        }

        // The two held runs (1 and 2 rows), then one batch of two calls per queue.
        Assert.Equal(4, gate.Runs);
        Assert.Equal([1L, 2L, 2L, 2L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).Order().ToArray());
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_OneConcurrentBatch_ASecondCallWaitsForTheHeldRun()
    {
        // The contrast to the test above: with the default one batcher, a call arriving during a run is queued.
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1)), time);
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);

        var second = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 2))).AsTask());
        while (runner.PendingCalls < 2)
        {
            await Task.Yield();
        }

        Assert.False(second.IsCompleted);
        Assert.Equal(1, gate.Runs);
        gate.Open();
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 2)), (await second).Probabilities());
        await held;
        Assert.Equal(2, gate.Runs);
    }

    [Fact]
    public async Task RunAsync_LoneCallsInATightLoopWhileAnotherCallIsQueued_QueuedCallIsNotStarved()
    {
        // A lone call on an idle runner runs on its caller's thread and returns completed, so a caller in a loop never
        // yields its thread. A call queued meanwhile must still be run: its worker pass may not sit in that thread's
        // local queue (real clock: the delay is what a forming batch may wait).
        // Both batchers are held first (each by a lone call on its caller's thread), so the third call is queued for
        // certain: with one batcher idle it would run inline and finish before anyone could see it pending.
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromMilliseconds(1), o => o.Batching.MaxConcurrentBatches = 2));
        using var gate = new RunGate(holds: 2);
        runner.BeforeRun = gate.Hook;
        var held = new[]
        {
            Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 98))).AsTask()),
            Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 99))).AsTask()),
        };
        await gate.EnteredAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await gate.EnteredAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var queued = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 3))).AsTask());
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (runner.PendingCalls < 3)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the third call never became pending");
            await Task.Delay(1);
        }

        Assert.False(queued.IsCompleted);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            var calls = 0;
            while (!stop.IsCancellationRequested)
            {
                await runner.RunAsync(Requests.Features(Kit.Features(1, seed: 4)));
                calls++;
            }

            return calls;
        });
        gate.Open();
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 3)), (await queued.WaitAsync(TimeSpan.FromSeconds(30))).Probabilities());
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30)); // the loop may or may not have got a call in before the queued one was answered
        await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RunAsync_WorkerIdle_CallRunsAtOnceWithoutWaitingForTheDelay()
    {
        // Never advanced: with the old fixed delay each of these calls would wait a whole second for company.
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1)), time);
        using var queueTimes = new MetricCollector<double>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.queue_time");
        var model = Kit.Classifier(1);

        for (var i = 0; i < 20; i++)
        {
            var features = Kit.Features(1 + (i % 2), seed: (ulong)i);
            Requests.AssertClose(model.Predict(features), (await runner.RunAsync(Requests.Features(features))).Probabilities());
        }

        Assert.True(runner.IsBatching);
        Assert.Equal(20, queueTimes.GetMeasurementSnapshot().Count);
        Assert.All(queueTimes.GetMeasurementSnapshot(), m => Assert.Equal(0, m.Value));
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
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(Tf2OnnxStyle(), Batched(2, TimeSpan.FromSeconds(1), o => o.Batching.AssumeFirstDimensionIsBatch = declared), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        float[] x1 = [1, 2, 3, 4], x2 = [5, 6, 7, 8], w = [2, 2, 2, 2];
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(XW(x2, w)).AsTask()); // unbatched, it holds the caller's thread
        await gate.EnteredAsync();

        // Queued behind the held run: batched, the two go into one run; unbatched, each runs by itself.
        var calls = new[] { Task.Run(() => runner.RunAsync(XW(x1, w)).AsTask()), Task.Run(() => runner.RunAsync(XW(x2, w)).AsTask()) };
        if (declared)
        {
            while (runner.PendingCalls < 3)
            {
                await Task.Yield();
            }
        }

        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        Assert.Equal(declared, runner.IsBatching);
        Assert.Equal(declared ? [1L, 2L] : [1L, 1L, 1L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Assert.Equal(new float[] { 2, 4, 6, 8 }, responses[0].Outputs[0].As<float>().Data.ToArray());
        Assert.Equal(new float[] { 10, 12, 14, 16 }, responses[1].Outputs[0].As<float>().Data.ToArray());
        if (declared)
        {
            // The differing symbols no longer tie the inputs' rows: the declared batch does.
            var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(XW(x1, [.. w, .. w])).AsTask());
            Assert.Contains("AssumeFirstDimensionIsBatch", error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Runs a batch of <paramref name="rows"/> one-row calls behind a held run: afterwards the runner is under load.</summary>
    private static async Task LoadAsync(OnnxModelRunner runner, int rows)
    {
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);
        var calls = Enumerable.Range(0, rows).Select(i => runner.RunAsync(Requests.Features(Kit.Features(1, seed: (ulong)i))).AsTask()).ToArray();
        gate.Open();
        await Task.WhenAll(calls);
        await held;
        runner.BeforeRun = null;
    }

    [Fact]
    public async Task RunAsync_UnderLoad_PartialBatchWaitsForThePreviousRunsRowsAtMostMaxQueueDelay()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromMilliseconds(5)), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var queueTimes = new MetricCollector<double>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.queue_time");
        await LoadAsync(runner, rows: 3); // runs of 1 and 3 rows

        // Under load: the batch waits for as many rows as the previous run had; the third call completes it.
        var calls = new List<Task<ModelResponse>>
        {
            runner.RunAsync(Requests.Features(Kit.Features(1, seed: 5))).AsTask(),
            runner.RunAsync(Requests.Features(Kit.Features(1, seed: 6))).AsTask(),
        };
        Assert.False(calls[0].IsCompleted);
        Assert.Equal(2, runner.PendingCalls);
        calls.Add(runner.RunAsync(Requests.Features(Kit.Features(1, seed: 7))).AsTask());
        var responses = await Task.WhenAll(calls);
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 6)), responses[1].Probabilities());

        // Fewer come: it runs when the delay has passed since its first call.
        queueTimes.Clear();
        var lone = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 8))).AsTask();
        Assert.False(lone.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(5));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 8)), (await lone).Probabilities());
        Assert.Equal(0.005, Assert.Single(queueTimes.GetMeasurementSnapshot()).Value, 6);

        // Load gone (no run within the delay): a call runs at once again.
        time.Advance(TimeSpan.FromMilliseconds(5));
        queueTimes.Clear();
        await runner.RunAsync(Requests.Features(Kit.Features(1, seed: 9)));
        Assert.Equal(0, Assert.Single(queueTimes.GetMeasurementSnapshot()).Value);

        Assert.Equal([1L, 3L, 3L, 1L, 1L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_UnderLoadWithPreferredBatchSize_RunsAsSoonAsThePreferredSizeIsReached()
    {
        var time = Requests.FakeTime(); // never advanced: only a reached size can start a run
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1), o => o.Batching.PreferredBatchSizes.Add(2)), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        await LoadAsync(runner, rows: 4); // the next batch would wait for 4 rows

        var responses = await Task.WhenAll(
            runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1))).AsTask(),
            runner.RunAsync(Requests.Features(Kit.Features(1, seed: 2))).AsTask());

        Assert.Equal([1L, 4L, 2L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 2)), responses[1].Probabilities());
    }

    [Fact]
    public async Task RunAsync_BatchedCallQueuedLongerThanMaxQueueTime_RejectedUnrunOthersServed()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1), o => o.MaxQueueTime = TimeSpan.FromMilliseconds(10)), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);
        var late = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1))).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(20));
        var fresh = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 2))).AsTask();
        gate.Open();

        var error = await Assert.ThrowsAsync<ModelRejectedException>(() => late);
        Assert.Contains("MaxQueueTime", error.Message, StringComparison.Ordinal);
        Assert.Equal(runner.Key, error.Key);
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 2)), (await fresh).Probabilities());
        await held;
        Assert.Equal(["ok", "ok", "rejected"], requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!).Order().ToArray());
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_OneCallerCancels_OthersInTheBatchSucceed()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromMilliseconds(5)), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        using var cts = new CancellationTokenSource();
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);

        var a = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1))).AsTask();
        var b = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 2)), cts.Token).AsTask();
        var c = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 3))).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        gate.Open();
        await held;

        var responses = await Task.WhenAll(a, c);
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 1)), responses[0].Probabilities());
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 3)), responses[1].Probabilities());
        var outcomes = requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!).Order().ToArray();
        Assert.Equal(["cancelled", "ok", "ok", "ok"], outcomes);
    }

    [Fact]
    public async Task RunAsync_QueueFull_RejectsAtOnceWithModelRejectedException()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(8, TimeSpan.FromSeconds(1), o => o.MaxQueueLength = 2), time);
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);
        var queued = runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask();

        var error = await Assert.ThrowsAsync<ModelRejectedException>(() => runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask());

        Assert.Contains("MaxQueueLength", error.Message, StringComparison.Ordinal);
        Assert.Equal(runner.Key, error.Key);
        gate.Open();
        await Task.WhenAll(held, queued);
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
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate);

        var call = runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(10));

        // The queued call times out and leaves at once, its run held or not. The held call ran alone on an idle
        // runner, so on its caller's thread as an unbatched call does: its timeout stops the run at the next operator
        // boundary and the call fails as timed out when the run returns, not earlier.
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.False(held.IsCompleted);
        gate.Open();
        var late = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        Assert.Contains("timed out", late.Message, StringComparison.Ordinal);
        Assert.Equal(["timeout", "timeout"], requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!).ToArray());
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
            using var gate = new RunGate();
            var held = await HoldWorkerAsync(runner, gate);
            using var cts = new CancellationTokenSource();
            var cancelled = runner.RunAsync(Requests.Features(Kit.Features(1, seed: 1)), cts.Token).AsTask();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

            var features = Kit.Features(1, seed: (ulong)(100 + round));
            var call = runner.RunAsync(Requests.Features(features)).AsTask();
            gate.Open();
            time.Advance(TimeSpan.FromMilliseconds(5));
            Requests.AssertClose(model.Predict(features), (await call).Probabilities());
            await held;
        }

        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_BatchedResultAwaitedTwice_SecondReadThrowsInvalidOperation()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, Batched(1, TimeSpan.FromSeconds(1)), Requests.FakeTime());
        using var gate = new RunGate();
        var held = await HoldWorkerAsync(runner, gate); // so the call below is queued: its value task is a pooled source
        var call = runner.RunAsync(Requests.Features(Kit.Features(1)));
        gate.Open();

        _ = await call;
        await held;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await call);
    }
}
