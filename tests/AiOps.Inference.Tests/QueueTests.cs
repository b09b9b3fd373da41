namespace AiOps.Inference.Tests;

/// <summary>Unbatched calls: the concurrency limiter's queue, queue time and the wait-for-room mode.</summary>
public sealed class QueueTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public QueueTests(ModelFilesFixture fixture) => _files = fixture.Files;

    /// <summary>Starts a call on another thread (unbatched calls run on their caller's) and returns once its run is held.</summary>
    private static async Task<Task<ModelResponse>> HoldAsync(OnnxModelRunner runner, RunGate gate)
    {
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 99))).AsTask());
        await gate.EnteredAsync();
        return held;
    }

    [Fact]
    public async Task RunAsync_AllRunSlotsBusy_CallQueuesInsteadOfTakingAThreadIntoTheRuntime()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o => o.MaxConcurrentRuns = 1));
        using var gate = new RunGate();
        var held = await HoldAsync(runner, gate);

        var queued = runner.RunAsync(Requests.Features(Kit.Features(2, seed: 1))).AsTask();

        Assert.False(queued.IsCompleted); // with a free slot it would have run on this thread, synchronously
        Assert.Equal(1, gate.Runs);
        Assert.Equal(2, runner.PendingCalls);
        gate.Open();
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(2, seed: 1)), (await queued).Probabilities());
        await held;
        Assert.Equal(2, gate.Runs);
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_QueuedLongerThanMaxQueueTime_RejectedUnrunSlotStillServes()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o =>
        {
            o.MaxConcurrentRuns = 1;
            o.MaxQueueTime = TimeSpan.FromMilliseconds(10);
        }), time);
        using var gate = new RunGate();
        var held = await HoldAsync(runner, gate);
        var queued = runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(10));

        var error = await Assert.ThrowsAsync<ModelRejectedException>(() => queued);
        Assert.Contains("MaxQueueTime", error.Message, StringComparison.Ordinal);
        Assert.Equal(runner.Key, error.Key);
        Assert.Equal(1, gate.Runs);
        gate.Open();
        await held;
        await runner.RunAsync(Requests.Features(Kit.Features(1)));
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_QueuedCallCancelled_LeavesTheQueueWithoutRunning()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o => o.MaxConcurrentRuns = 1), time);
        using var gate = new RunGate();
        var held = await HoldAsync(runner, gate);
        using var cts = new CancellationTokenSource();
        var queued = runner.RunAsync(Requests.Features(Kit.Features(1)), cts.Token).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        gate.Open();
        await held;
        Assert.Equal(1, gate.Runs);
        Assert.Equal(0, runner.PendingCalls);
    }

    [Theory]
    [InlineData(QueueFullMode.Reject)]
    [InlineData(QueueFullMode.Wait)]
    public async Task RunAsync_QueueFull_RejectsAtOnceOrWaitsForRoomAsConfigured(QueueFullMode mode)
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o =>
        {
            o.MaxQueueLength = 1;
            o.QueueFullMode = mode;
        }));
        using var gate = new RunGate();
        var held = await HoldAsync(runner, gate);

        var next = Task.Run(() => runner.RunAsync(Requests.Features(Kit.Features(1, seed: 3))).AsTask());

        if (mode == QueueFullMode.Reject)
        {
            var error = await Assert.ThrowsAsync<ModelRejectedException>(() => next);
            Assert.Contains("MaxQueueLength", error.Message, StringComparison.Ordinal);
            gate.Open();
        }
        else
        {
            gate.Open();
            Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1, seed: 3)), (await next).Probabilities());
        }

        await held;
        Assert.Equal(0, runner.PendingCalls);
    }

    [Fact]
    public async Task RunAsync_WaitingForRoomLongerThanMaxQueueTime_RejectedNamingTheSetting()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o =>
        {
            o.MaxQueueLength = 1;
            o.QueueFullMode = QueueFullMode.Wait;
            o.MaxQueueTime = TimeSpan.FromMilliseconds(50);
        }), time);
        using var gate = new RunGate();
        var held = await HoldAsync(runner, gate);
        var waiting = runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(50));

        var error = await Assert.ThrowsAsync<ModelRejectedException>(() => waiting);
        Assert.Contains("MaxQueueTime", error.Message, StringComparison.Ordinal);
        gate.Open();
        await held;
        Assert.Equal(0, runner.PendingCalls);
        await runner.RunAsync(Requests.Features(Kit.Features(1)));
    }
}
