using AiOps.Release.Checkpoints;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace AiOps.Release.Tests.Checkpoints;

public sealed class CheckpointManagerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task RestoreLatestAsync_NoCheckpoints_ReturnsNull()
    {
        await using var harness = new CheckpointHarness(_folder.Path);

        Assert.Null(await harness.NewManager().RestoreLatestAsync());
    }

    [Fact]
    public async Task RestoreLatestAsync_NewestCorrupt_SkipsItWithWarningAndRestoresOlder()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.Retention.KeepLatest = 0);
        var manager = harness.NewManager();
        var good = await (await manager.SaveAsync(CheckpointHarness.Content(10, seed: 1))).Committed;
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var bad = await (await manager.SaveAsync(CheckpointHarness.Content(20, seed: 2))).Committed;
        var path = Path.Combine(_folder.Path, bad.Id, "weights.bin");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^1] ^= 0x80;
        await File.WriteAllBytesAsync(path, bytes);

        var restored = await manager.RestoreLatestAsync();

        Assert.Equal(good.Id, restored!.Checkpoint.Id);
        var skipped = Assert.Single(restored.Skipped);
        Assert.Equal(bad.Id, skipped.Id);
        Assert.Contains("weights.bin", skipped.Reason, StringComparison.Ordinal);
        Assert.Contains(harness.ManagerLogger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains(bad.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RestoreLatestAsync_AllCorrupt_ReturnsNull()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        var manager = harness.NewManager();
        var only = await (await manager.SaveAsync(CheckpointHarness.Content(10))).Committed;
        File.Delete(Path.Combine(_folder.Path, only.Id, "optimizer.bin"));

        Assert.Null(await manager.RestoreLatestAsync());
    }

    [Fact]
    public async Task RestoreLatestAsync_SavePending_WaitsAndRestoresIt()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var inner = harness.NewStore();
        var gated = new GatedStore(inner);
        var manager = harness.NewManager(gated);
        await manager.SaveAsync(CheckpointHarness.Content(7));

        var restore = manager.RestoreLatestAsync().AsTask();
        Assert.False(restore.IsCompleted);
        gated.Open();

        Assert.Equal(7, (await restore)!.Checkpoint.Step);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(99, false)]
    [InlineData(100, true)]
    [InlineData(150, false)]
    [InlineData(200, true)]
    public async Task ShouldSave_EveryNSteps_TrueOnMultiples(long step, bool expected)
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.SaveEveryNSteps = 100);

        Assert.Equal(expected, harness.NewManager().ShouldSave(step));
    }

    [Fact]
    public async Task ShouldSave_EveryT_TrueOnceTimePassedSinceLastSave()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.SaveEvery = TimeSpan.FromMinutes(30));
        var manager = harness.NewManager();

        Assert.False(manager.ShouldSave(1));
        harness.Time.Advance(TimeSpan.FromMinutes(29));
        Assert.False(manager.ShouldSave(2));
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(manager.ShouldSave(3));

        await (await manager.SaveAsync(CheckpointHarness.Content(3))).Committed;
        Assert.False(manager.ShouldSave(4));
        harness.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.True(manager.ShouldSave(5));
    }

    [Fact]
    public async Task SaveAsync_QueueFullWithReject_ThrowsRejectedAndCountsIt()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.MaxPendingSaves = 1;
            o.WhenFull = CheckpointQueueFullMode.Reject;
        });
        using var saves = new MetricCollector<long>(harness.MeterFactory, CheckpointMetrics.MeterName, "aiops.checkpoint.saves");
        using var inner = harness.NewStore();
        var gated = new GatedStore(inner);
        var manager = harness.NewManager(gated);
        var first = await manager.SaveAsync(CheckpointHarness.Content(1));

        var ex = await Assert.ThrowsAsync<CheckpointSaveRejectedException>(() => manager.SaveAsync(CheckpointHarness.Content(2)).AsTask());

        Assert.Contains("MaxPendingSaves", ex.Message, StringComparison.Ordinal);
        Assert.Contains("step 2", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, manager.PendingSaves);
        gated.Open();
        await first.Committed;
        Assert.Equal(0, manager.PendingSaves);
        Assert.Equal(["rejected", "success"], saves.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!));
    }

    [Fact]
    public async Task SaveAsync_QueueFullWithWait_WaitsForASlot()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.MaxPendingSaves = 2);
        using var inner = harness.NewStore();
        var gated = new GatedStore(inner);
        var manager = harness.NewManager(gated);
        await manager.SaveAsync(CheckpointHarness.Content(1));
        await manager.SaveAsync(CheckpointHarness.Content(2));

        var third = manager.SaveAsync(CheckpointHarness.Content(3)).AsTask();

        Assert.False(third.IsCompleted);
        Assert.Equal(2, manager.PendingSaves);
        gated.Open();
        await (await third).Committed;
        await manager.FlushAsync();
        Assert.Equal([1L, 2L, 3L], (await inner.ListAsync()).Select(c => c.Step));
    }

    [Fact]
    public async Task SaveAsync_WaitCancelled_ThrowsAndDoesNotQueue()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.MaxPendingSaves = 1);
        using var inner = harness.NewStore();
        var gated = new GatedStore(inner);
        var manager = harness.NewManager(gated);
        await manager.SaveAsync(CheckpointHarness.Content(1));
        using var cts = new CancellationTokenSource();

        var waiting = manager.SaveAsync(CheckpointHarness.Content(2), cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        gated.Open();
        await manager.FlushAsync();
        Assert.Equal([1L], (await inner.ListAsync()).Select(c => c.Step));
    }

    [Fact]
    public async Task FlushAsync_SaveFailed_ThrowsItOnceThenSucceeds()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        store.FileSystem = new FaultyFileSystem { FreeBytes = 10 };
        var manager = harness.NewManager(store);
        await manager.SaveAsync(CheckpointHarness.Content(1));

        await Assert.ThrowsAsync<CheckpointStorageException>(() => manager.FlushAsync().AsTask());
        await manager.FlushAsync();
    }

    [Fact]
    public async Task SaveAsync_Committed_RecordsSuccessDurationAndBytes()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var saves = new MetricCollector<long>(harness.MeterFactory, CheckpointMetrics.MeterName, "aiops.checkpoint.saves");
        using var duration = new MetricCollector<double>(harness.MeterFactory, CheckpointMetrics.MeterName, "aiops.checkpoint.save_duration");
        using var bytes = new MetricCollector<long>(harness.MeterFactory, CheckpointMetrics.MeterName, "aiops.checkpoint.bytes_written");
        var manager = harness.NewManager();

        await (await manager.SaveAsync(CheckpointHarness.Content(1, size: 1000))).Committed;

        Assert.Equal("success", saves.LastMeasurement!.Tags["outcome"]);
        Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal(1500, bytes.LastMeasurement!.Value);
    }

    [Fact]
    public async Task DisposeAsync_SavesPending_CommitsThemAllFirst()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.MaxPendingSaves = 4;
            o.Retention.KeepLatest = 0;
        });
        var manager = harness.NewManager();
        for (var step = 1; step <= 4; step++)
        {
            await manager.SaveAsync(CheckpointHarness.Content(step));
        }

        await manager.DisposeAsync();

        using var store = harness.NewStore();
        Assert.Equal([1L, 2L, 3L, 4L], (await store.ListAsync()).Select(c => c.Step));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => manager.SaveAsync(CheckpointHarness.Content(5)).AsTask());
        Assert.Contains("stopped", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAsync_CallerCost_IsOnlyEnqueueing()
    {
        // The loop is never blocked by the write: with the store held, SaveAsync still returns at once.
        await using var harness = new CheckpointHarness(_folder.Path);
        using var inner = harness.NewStore();
        var gated = new GatedStore(inner);
        var manager = harness.NewManager(gated);

        var accepted = manager.SaveAsync(CheckpointHarness.Content(1)).AsTask();

        Assert.True(accepted.IsCompletedSuccessfully);
        var pending = await accepted;
        Assert.False(pending.Committed.IsCompleted);
        gated.Open();
        var info = await pending.Committed;
        Assert.Equal(1, info.Step);
    }
}
