namespace AiOps.Metrics;

/// <summary>
/// What was observed for one model version since a given time: the figures the rollout controller judges a canary
/// on. <see cref="LatencySamplesMs"/> is a bounded sample, enough for percentiles and a Mann–Whitney U test.
/// </summary>
/// <param name="Key">The model version.</param>
/// <param name="Since">The start of the period.</param>
/// <param name="Until">The end of the period.</param>
/// <param name="Requests">Calls completed (successful or not).</param>
/// <param name="Failures">Calls that failed (excluding bad input, which is the caller's fault).</param>
/// <param name="LatencySamplesMs">Latency samples in milliseconds.</param>
public sealed record VersionMetricsSnapshot(
    ModelKey Key,
    DateTimeOffset Since,
    DateTimeOffset Until,
    long Requests,
    long Failures,
    IReadOnlyList<double> LatencySamplesMs)
{
    /// <summary>Windowed accuracy when ground-truth labels have arrived; otherwise <see langword="null"/>.</summary>
    public double? Accuracy { get; init; }

    /// <summary>The worst drift severity seen in the period, when drift is tracked; otherwise <see langword="null"/>.</summary>
    public Drift.DriftSeverity? Drift { get; init; }

    /// <summary>Failures divided by requests; 0 when there were no requests.</summary>
    public double ErrorRate => Requests == 0 ? 0 : (double)Failures / Requests;

    /// <summary>The 95th percentile latency (nearest-rank) of the samples; <see langword="null"/> when there are none.</summary>
    public double? P95LatencyMs => Percentile(0.95);

    /// <summary>Returns a latency percentile (nearest-rank), or <see langword="null"/> when there are no samples.</summary>
    /// <param name="quantile">The quantile, between 0 and 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantile"/> is outside 0–1.</exception>
    public double? Percentile(double quantile)
    {
        if (double.IsNaN(quantile) || quantile is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(quantile), quantile, "Expected a quantile between 0 and 1.");
        }

        if (LatencySamplesMs.Count == 0)
        {
            return null;
        }

        var sorted = LatencySamplesMs.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(quantile * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>Supplies per-version observations. AiOps.Monitoring implements it; AiOps.Release reads it.</summary>
public interface IVersionMetricsSource
{
    /// <summary>Returns what was observed for a version from <paramref name="since"/> until now.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<VersionMetricsSnapshot> GetSnapshotAsync(ModelKey key, DateTimeOffset since, CancellationToken cancellationToken = default);
}
