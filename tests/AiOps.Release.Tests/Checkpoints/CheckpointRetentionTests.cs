using AiOps.Release.Checkpoints;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Release.Tests.Checkpoints;

public sealed class CheckpointRetentionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static Dictionary<string, double> Loss(double value) => new() { ["val_loss"] = value };

    private async Task<List<long>> RemainingStepsAsync(CheckpointHarness harness)
    {
        using var store = harness.NewStore();
        return [.. (await store.ListAsync()).Select(c => c.Step)];
    }

    [Fact]
    public async Task Retention_KeepLatest_KeepsNewestN()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.Retention.KeepLatest = 2);
        using var deleted = new MetricCollector<long>(harness.MeterFactory, CheckpointMetrics.MeterName, "aiops.checkpoint.deleted");
        var manager = harness.NewManager();

        for (var step = 1; step <= 5; step++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await (await manager.SaveAsync(CheckpointHarness.Content(step))).Committed;
        }

        Assert.Equal([4L, 5L], await RemainingStepsAsync(harness));
        Assert.Equal(3, deleted.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Theory]
    [InlineData(MetricGoal.Minimize, new[] { 2L, 4L, 6L })]
    [InlineData(MetricGoal.Maximize, new[] { 3L, 5L, 6L })]
    public async Task Retention_KeepBest_KeepsKBestByMetricPlusNewest(MetricGoal goal, long[] expected)
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.Retention.KeepLatest = 0;
            o.Retention.KeepBest = 2;
            o.Retention.BestMetric = "val_loss";
            o.Retention.BestGoal = goal;
        });
        var manager = harness.NewManager();
        double[] losses = [0.5, 0.2, 0.9, 0.3, 0.8, 0.6];

        for (var i = 0; i < losses.Length; i++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await (await manager.SaveAsync(CheckpointHarness.Content(i + 1, metrics: Loss(losses[i])))).Committed;
        }

        // Minimize: 0.2 (step 2), 0.3 (step 4); Maximize: 0.9 (step 3), 0.8 (step 5); step 6 is the newest.
        Assert.Equal(expected, await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_KeepBest_IgnoresCheckpointsWithoutTheMetric()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.Retention.KeepLatest = 1;
            o.Retention.KeepBest = 1;
            o.Retention.BestMetric = "val_loss";
        });
        var manager = harness.NewManager();

        await (await manager.SaveAsync(CheckpointHarness.Content(1, metrics: Loss(0.4)))).Committed;
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await (await manager.SaveAsync(CheckpointHarness.Content(2))).Committed;
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await (await manager.SaveAsync(CheckpointHarness.Content(3, metrics: Loss(double.NaN)))).Committed;

        Assert.Equal([1L, 3L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_KeepOnePerHour_KeepsNewestOfEachHour()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.Retention.KeepLatest = 1;
            o.Retention.KeepOnePer = TimeSpan.FromHours(1);
        });
        var manager = harness.NewManager();

        // Start 10:00; saves at 10:00, 10:20, 10:40, 11:10, 11:50, 12:05.
        int[] minutesAfterPrevious = [0, 20, 20, 30, 40, 15];
        for (var i = 0; i < minutesAfterPrevious.Length; i++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(minutesAfterPrevious[i]));
            await (await manager.SaveAsync(CheckpointHarness.Content(i + 1))).Committed;
        }

        Assert.Equal([3L, 5L, 6L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_KeepOnePerDay_KeepsNewestOfEachUtcDay()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.Retention.KeepLatest = 2;
            o.Retention.KeepOnePer = TimeSpan.FromDays(1);
        });
        var manager = harness.NewManager();

        // Every 8 hours from 2024-08-01 10:00: 10:00, 18:00 | 02:00, 10:00, 18:00 | 02:00, 10:00.
        for (var step = 1; step <= 7; step++)
        {
            await (await manager.SaveAsync(CheckpointHarness.Content(step))).Committed;
            harness.Time.Advance(TimeSpan.FromHours(8));
        }

        // Day 1 newest: step 2; day 2 newest: step 5; day 3: steps 6 and 7 are the latest two.
        Assert.Equal([2L, 5L, 6L, 7L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_KeepTagged_KeepsTaggedForever()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.Retention.KeepLatest = 1);
        var manager = harness.NewManager();

        for (var step = 1; step <= 6; step++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            var content = step == 2 ? CheckpointHarness.Content(step, tags: "release-1.0") : CheckpointHarness.Content(step);
            await (await manager.SaveAsync(content)).Committed;
        }

        Assert.Equal([2L, 6L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_Combined_KeepsUnionOfPolicies()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o =>
        {
            o.Retention.KeepLatest = 2;
            o.Retention.KeepBest = 1;
            o.Retention.BestMetric = "val_loss";
            o.Retention.KeepOnePer = TimeSpan.FromDays(1);
        });
        var manager = harness.NewManager();
        double[] losses = [0.9, 0.1, 0.8, 0.7, 0.6, 0.5, 0.4];

        for (var i = 0; i < losses.Length; i++)
        {
            var tags = i == 0 ? new[] { "baseline" } : [];
            await (await manager.SaveAsync(CheckpointHarness.Content(i + 1, metrics: Loss(losses[i]), tags: tags))).Committed;
            harness.Time.Advance(TimeSpan.FromHours(6));
        }

        // 10:00, 16:00, 22:00 (day 1) | 04:00, 10:00, 16:00, 22:00 (day 2).
        // tagged: 1; best: 2; newest of day 1: 3; newest of day 2 and latest two: 6, 7.
        Assert.Equal([1L, 2L, 3L, 6L, 7L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_AllPoliciesOff_KeepsEverything()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.Retention.KeepLatest = 0);
        var manager = harness.NewManager();

        for (var step = 1; step <= 5; step++)
        {
            await (await manager.SaveAsync(CheckpointHarness.Content(step))).Committed;
        }

        Assert.Equal([1L, 2L, 3L, 4L, 5L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public async Task Retention_NewSaveFails_DeletesNothing()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.Retention.KeepLatest = 1);
        var manager = harness.NewManager();
        await (await manager.SaveAsync(CheckpointHarness.Content(1))).Committed;

        using var store = harness.NewStore();
        store.FileSystem = new FaultyFileSystem { FreeBytes = 100 };
        var failing = harness.NewManager(store);
        var pending = await failing.SaveAsync(CheckpointHarness.Content(2));
        await Assert.ThrowsAsync<CheckpointStorageException>(() => pending.Committed);

        Assert.Equal([1L], await RemainingStepsAsync(harness));
    }

    [Fact]
    public void SelectKept_KeepLatestZeroOnlyBest_StillKeepsNewest()
    {
        var options = new CheckpointRetentionOptions { KeepLatest = 0, KeepBest = 1, BestMetric = "val_loss" };
        var t0 = new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero);
        AiOps.Checkpoints.CheckpointInfo Info(string id, int minute, double loss) =>
            new(id, minute, t0.AddMinutes(minute), []) { Metrics = Loss(loss) };

        var kept = CheckpointRetention.SelectKept([Info("a", 1, 0.1), Info("b", 2, 0.5), Info("c", 3, 0.9)], options);

        Assert.Equal(["a", "c"], kept.Order(StringComparer.Ordinal));
    }
}
