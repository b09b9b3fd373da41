using System.Globalization;
using AiOps.Data.Quality;

namespace AiOps.Data.History;

/// <summary>The metrics of one validation run, flattened to names such as <c>rows</c>, <c>age.mean</c>, <c>age.completeness</c>.</summary>
/// <param name="Dataset">The dataset.</param>
/// <param name="Timestamp">When the run finished.</param>
/// <param name="Metrics">The values by name.</param>
public sealed record MetricsRun(string Dataset, DateTimeOffset Timestamp, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>Takes the metrics of a report: <c>rows</c>, <c>rows_failed</c>, and per column <c>completeness</c>, <c>distinct</c>, and for
    /// numeric columns <c>mean</c>, <c>stddev</c>, <c>min</c>, <c>max</c>.</summary>
    /// <param name="report">The report.</param>
    /// <returns>The run.</returns>
    public static MetricsRun FromReport(ValidationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var m = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["rows"] = report.RowsChecked,
            ["rows_failed"] = report.RowsFailed,
        };
        foreach (var c in report.Columns)
        {
            m[c.Name + ".completeness"] = c.Completeness;
            m[c.Name + ".distinct"] = c.DistinctEstimate;
            void Put(string stat, double? v)
            {
                if (v is { } x)
                {
                    m[c.Name + "." + stat] = x;
                }
            }

            Put("mean", c.Mean);
            Put("stddev", c.StdDev);
            Put("min", c.Min);
            Put("max", c.Max);
        }

        return new MetricsRun(report.Dataset, report.CompletedAt, m);
    }
}

/// <summary>A metric that moved beyond what its history allows.</summary>
/// <param name="Metric">The metric's name.</param>
/// <param name="Value">The current value.</param>
/// <param name="ExpectedMin">The lowest acceptable value.</param>
/// <param name="ExpectedMax">The highest acceptable value.</param>
/// <param name="Strategy">The strategy that flagged it.</param>
public sealed record MetricAnomaly(string Metric, double Value, double ExpectedMin, double ExpectedMax, string Strategy)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Metric} = {Value:G6} outside [{ExpectedMin:G6}, {ExpectedMax:G6}] ({Strategy})");
}

/// <summary>Judges the current value of a metric against its history (Deequ's anomaly-detection strategies).</summary>
public interface IAnomalyStrategy
{
    /// <summary>The strategy's name in reports.</summary>
    string Name { get; }

    /// <summary>The acceptable range for the next value, or <see langword="null"/> when the history is too short to judge.</summary>
    /// <param name="history">Earlier values, oldest first.</param>
    /// <returns>The range.</returns>
    (double Min, double Max)? ExpectedRange(IReadOnlyList<double> history);
}

/// <summary>Flags a value whose change from the previous run exceeds a relative rate: within [prev·(1 − maxDecrease), prev·(1 + maxIncrease)].</summary>
/// <param name="maxIncrease">The largest relative increase allowed (0.1 = +10 %).</param>
/// <param name="maxDecrease">The largest relative decrease allowed (0.1 = −10 %).</param>
public sealed class RelativeRateOfChangeStrategy(double maxIncrease, double maxDecrease) : IAnomalyStrategy
{
    /// <summary>The largest relative increase allowed.</summary>
    public double MaxIncrease { get; } = maxIncrease >= 0 ? maxIncrease : throw new ArgumentOutOfRangeException(nameof(maxIncrease), maxIncrease, "maxIncrease must be >= 0.");

    /// <summary>The largest relative decrease allowed.</summary>
    public double MaxDecrease { get; } = maxDecrease >= 0 ? maxDecrease : throw new ArgumentOutOfRangeException(nameof(maxDecrease), maxDecrease, "maxDecrease must be >= 0.");

    /// <inheritdoc />
    public string Name => string.Create(CultureInfo.InvariantCulture, $"relative_rate_of_change(+{MaxIncrease:P0}/-{MaxDecrease:P0})");

    /// <inheritdoc />
    public (double Min, double Max)? ExpectedRange(IReadOnlyList<double> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
        {
            return null;
        }

        var prev = history[^1];
        var a = prev * (1 - MaxDecrease);
        var b = prev * (1 + MaxIncrease);
        return (Math.Min(a, b), Math.Max(a, b));
    }
}

/// <summary>Flags a value beyond k standard deviations of the history's mean (needs at least <c>minHistory</c> runs).</summary>
/// <param name="k">The number of standard deviations (default 3).</param>
/// <param name="minHistory">The fewest earlier runs before judging (default 3).</param>
public sealed class StdDevStrategy(double k = 3, int minHistory = 3) : IAnomalyStrategy
{
    /// <summary>The number of standard deviations.</summary>
    public double K { get; } = k > 0 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "k must be > 0.");

    /// <summary>The fewest earlier runs before judging.</summary>
    public int MinHistory { get; } = minHistory >= 2 ? minHistory : throw new ArgumentOutOfRangeException(nameof(minHistory), minHistory, "minHistory must be >= 2.");

    /// <inheritdoc />
    public string Name => string.Create(CultureInfo.InvariantCulture, $"stddev(k={K:G4})");

    /// <inheritdoc />
    public (double Min, double Max)? ExpectedRange(IReadOnlyList<double> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count < MinHistory)
        {
            return null;
        }

        double mean = 0, m2 = 0;
        for (var i = 0; i < history.Count; i++)
        {
            var d = history[i] - mean;
            mean += d / (i + 1);
            m2 += d * (history[i] - mean);
        }

        var sd = Math.Sqrt(m2 / (history.Count - 1));
        return (mean - (K * sd), mean + (K * sd));
    }
}

/// <summary>Applies anomaly strategies to a run's metrics.</summary>
public static class AnomalyDetector
{
    /// <summary>Checks every metric of <paramref name="current"/> against the same metric in <paramref name="history"/>.</summary>
    /// <param name="history">Earlier runs, oldest first.</param>
    /// <param name="current">The run to judge.</param>
    /// <param name="strategies">The strategies; a metric is flagged once per strategy that rejects it.</param>
    /// <returns>The anomalies.</returns>
    public static IReadOnlyList<MetricAnomaly> Detect(IReadOnlyList<MetricsRun> history, MetricsRun current, IEnumerable<IAnomalyStrategy> strategies)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(strategies);
        var list = strategies.ToArray();
        var anomalies = new List<MetricAnomaly>();
        foreach (var (metric, value) in current.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var series = history.Where(r => r.Metrics.ContainsKey(metric)).Select(r => r.Metrics[metric]).ToArray();
            foreach (var s in list)
            {
                if (s.ExpectedRange(series) is { } range && (value < range.Min || value > range.Max))
                {
                    anomalies.Add(new MetricAnomaly(metric, value, range.Min, range.Max, s.Name));
                }
            }
        }

        return anomalies;
    }
}

/// <summary>Keeps each run's metrics per dataset (Deequ's metrics repository) for anomaly checks. Written atomically.</summary>
/// <example>
/// <code>
/// var anomalies = await history.RecordAsync(report, [new RelativeRateOfChangeStrategy(0.2, 0.2), new StdDevStrategy(3)]);
/// </code>
/// </example>
public interface IMetricsRepository
{
    /// <summary>Appends a run (the oldest runs beyond <see cref="AiOpsDataOptions.MaxHistoryRuns"/> are dropped).</summary>
    /// <param name="run">The run.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    Task AppendAsync(MetricsRun run, CancellationToken cancellationToken = default);

    /// <summary>The runs of a dataset, oldest first.</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The runs.</returns>
    Task<IReadOnlyList<MetricsRun>> GetHistoryAsync(string dataset, CancellationToken cancellationToken = default);

    /// <summary>Checks a report's metrics against the dataset's history, then appends them.</summary>
    /// <param name="report">The report.</param>
    /// <param name="strategies">The strategies.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The anomalies found against the earlier runs.</returns>
    Task<IReadOnlyList<MetricAnomaly>> RecordAsync(ValidationReport report, IEnumerable<IAnomalyStrategy> strategies, CancellationToken cancellationToken = default);
}
