using System.Text.Json;
using System.Text.RegularExpressions;
using AiOps.Data.History;
using AiOps.Data.Quality;
using Microsoft.Extensions.Options;

namespace AiOps.Data.Internal;

/// <summary>One JSON file per dataset under <see cref="AiOpsDataOptions.MetricsHistoryPath"/>, rewritten atomically on each append.</summary>
internal sealed partial class FileMetricsRepository(IOptions<AiOpsDataOptions> options) : IMetricsRepository, IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public void Dispose() => _lock.Dispose();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    private string PathOf(string dataset) => NameRegex().IsMatch(dataset) && !dataset.Contains("..", StringComparison.Ordinal)
        ? Path.Combine(Path.GetFullPath(options.Value.MetricsHistoryPath), dataset + ".metrics.json")
        : throw new ArgumentException($"A dataset name must be 1–128 letters, digits, '.', '_' or '-'; got '{dataset}'.", nameof(dataset));

    public async Task AppendAsync(MetricsRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var path = PathOf(run.Dataset);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var runs = (await ReadAsync(path, cancellationToken).ConfigureAwait(false)).ToList();
            runs.Add(run);
            var keep = options.Value.MaxHistoryRuns;
            if (runs.Count > keep)
            {
                runs.RemoveRange(0, runs.Count - keep);
            }

            await AtomicFile.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(runs, ValidationReport.Json), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<IReadOnlyList<MetricsRun>> GetHistoryAsync(string dataset, CancellationToken cancellationToken = default) =>
        await ReadAsync(PathOf(dataset), cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<MetricAnomaly>> RecordAsync(ValidationReport report, IEnumerable<IAnomalyStrategy> strategies, CancellationToken cancellationToken = default)
    {
        var run = MetricsRun.FromReport(report);
        var history = await GetHistoryAsync(run.Dataset, cancellationToken).ConfigureAwait(false);
        var anomalies = AnomalyDetector.Detect(history, run, strategies);
        await AppendAsync(run, cancellationToken).ConfigureAwait(false);
        return anomalies;
    }

    private static async Task<MetricsRun[]> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<MetricsRun[]>(stream, ValidationReport.Json, cancellationToken).ConfigureAwait(false) ?? [];
    }
}
