using AiOps.Release.Checkpoints;
using Microsoft.Extensions.Logging.Testing;

namespace AiOps.Release.Tests.Checkpoints;

/// <summary>Checkpoints are ordered by training step; the wall clock only buckets <see cref="CheckpointRetentionOptions.KeepOnePer"/>.</summary>
public sealed class CheckpointClockStepTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SteppableClock _clock = new(new DateTimeOffset(2024, 8, 1, 10, 0, 0, TimeSpan.Zero));

    public void Dispose() => _folder.Dispose();

    private (CheckpointManager Manager, FileCheckpointStore Store) New(Action<CheckpointOptions> configure)
    {
        var options = new CheckpointOptions { Directory = _folder.Path };
        configure(options);
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        var store = new FileCheckpointStore(wrapped, _clock, new FakeLogger<FileCheckpointStore>());
        return (new CheckpointManager(store, wrapped, _clock, new FakeLogger<CheckpointManager>()), store);
    }

    private async Task SaveStepsAsync(CheckpointManager manager, long from, long to)
    {
        for (var step = from; step <= to; step++)
        {
            _clock.Now += TimeSpan.FromMinutes(1);
            await (await manager.SaveAsync(CheckpointHarness.Content(step, seed: (byte)step))).Committed;
        }
    }

    [Fact]
    public async Task ClockStepsBackOneHour_RetentionKeepsNewestStepsAndRestoreLatestReturnsHighestStep()
    {
        var (manager, store) = New(o => o.Retention.KeepLatest = 3);
        await using var _ = manager;
        using var __ = store;
        await SaveStepsAsync(manager, 1, 5);
        _clock.Now -= TimeSpan.FromHours(1); // NTP correction: steps 6-8 carry earlier times than 1-5

        await SaveStepsAsync(manager, 6, 8);
        var restored = await manager.RestoreLatestAsync();

        Assert.Equal([6L, 7L, 8L], (await store.ListAsync()).Select(c => c.Step));
        Assert.Equal(8, restored!.Checkpoint.Step);
        Assert.Empty(restored.Skipped);
    }

    [Fact]
    public async Task ClockStepsBack_KeepOnePerStillBucketsByWallClockKeepingHighestStepPerPeriod()
    {
        var (manager, store) = New(o =>
        {
            o.Retention.KeepLatest = 0;
            o.Retention.KeepOnePer = TimeSpan.FromHours(1);
        });
        await using var _ = manager;
        using var __ = store;
        await SaveStepsAsync(manager, 1, 4);          // 10:01-10:04
        _clock.Now -= TimeSpan.FromHours(1);          // 09:04

        await SaveStepsAsync(manager, 5, 6);          // 09:05-09:06

        Assert.Equal([4L, 6L], (await store.ListAsync()).Select(c => c.Step));
        Assert.Equal(6, (await manager.RestoreLatestAsync())!.Checkpoint.Step);
    }

    [Fact]
    public async Task ListAsync_SameStepSavedTwice_LaterCommitSortsLast()
    {
        var (manager, store) = New(o => o.Retention.KeepLatest = 0);
        await using var _ = manager;
        using var __ = store;
        await SaveStepsAsync(manager, 3, 3);
        var second = await (await manager.SaveAsync(CheckpointHarness.Content(3, seed: 9))).Committed;

        var list = await store.ListAsync();

        Assert.Equal(2, list.Count);
        Assert.Equal(second.Id, list[^1].Id);
    }

    private sealed class SteppableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
