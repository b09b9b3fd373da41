using AiOps.Checkpoints;

namespace AiOps.Release.Checkpoints;

/// <summary>Decides which checkpoints retention keeps: the union of every enabled policy, plus the newest.</summary>
internal static class CheckpointRetention
{
    /// <summary>Whether any deleting policy is on; when none is, everything is kept.</summary>
    public static bool IsEnabled(CheckpointRetentionOptions options) =>
        options.KeepLatest > 0 || options.KeepBest > 0 || options.KeepOnePer is not null;

    /// <summary>Returns the ids to keep among <paramref name="checkpoints"/> (any order).</summary>
    public static HashSet<string> SelectKept(IEnumerable<CheckpointInfo> checkpoints, CheckpointRetentionOptions options)
    {
        var ordered = checkpoints.ToList();
        ordered.Sort(FileCheckpointStore.CompareByAge);
        var keep = new HashSet<string>(StringComparer.Ordinal);
        if (ordered.Count == 0)
        {
            return keep;
        }

        if (!IsEnabled(options))
        {
            keep.UnionWith(ordered.Select(c => c.Id));
            return keep;
        }

        // The newest is what a restart resumes from: never delete it, whatever the policies say.
        keep.Add(ordered[^1].Id);

        if (options.KeepLatest > 0)
        {
            keep.UnionWith(ordered.TakeLast(options.KeepLatest).Select(c => c.Id));
        }

        if (options.KeepBest > 0 && options.BestMetric is { } metric)
        {
            var ranked = ordered
                .Select((c, index) => (Checkpoint: c, Index: index, Value: c.Metrics.TryGetValue(metric, out var v) ? v : double.NaN))
                .Where(x => !double.IsNaN(x.Value));
            ranked = options.BestGoal == MetricGoal.Minimize
                ? ranked.OrderBy(x => x.Value).ThenByDescending(x => x.Index)
                : ranked.OrderByDescending(x => x.Value).ThenByDescending(x => x.Index);
            keep.UnionWith(ranked.Take(options.KeepBest).Select(x => x.Checkpoint.Id));
        }

        if (options.KeepOnePer is { } period)
        {
            // Newest of each period; 'ordered' is oldest first, so the last one seen per bucket wins.
            var newestPerPeriod = new Dictionary<long, string>();
            foreach (var c in ordered)
            {
                newestPerPeriod[Math.DivRem(c.CreatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, period.Ticks, out _)] = c.Id;
            }

            keep.UnionWith(newestPerPeriod.Values);
        }

        if (options.KeepTagged)
        {
            keep.UnionWith(ordered.Where(c => c.Tags.Count > 0).Select(c => c.Id));
        }

        return keep;
    }
}
