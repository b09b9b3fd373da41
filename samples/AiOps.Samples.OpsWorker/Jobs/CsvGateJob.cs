using AiOps.Data;
using AiOps.Data.Gates;
using AiOps.Data.Quality;
using AiOps.Monitoring.Drift;
using AiOps.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Samples.OpsWorker.Jobs;

/// <summary>What one cycle did with one incoming file.</summary>
/// <param name="File">The incoming file's name.</param>
/// <param name="Admitted">Whether the gate admitted it.</param>
/// <param name="AdmittedPath">The published file, when admitted.</param>
/// <param name="QuarantinePath">The failing rows.</param>
/// <param name="RowsRead">Rows read.</param>
/// <param name="RowsQuarantined">Rows set aside.</param>
public sealed record GateFileResult(string File, bool Admitted, string? AdmittedPath, string QuarantinePath, long RowsRead, long RowsQuarantined);

/// <summary>
/// The scheduled data-quality gate: at start and then every <see cref="OpsWorkerOptions.GateInterval"/> (never two cycles
/// at once; a failed cycle is logged and the next tick runs again) each CSV in the incoming folder
/// goes through the AiOps.Data gate. An admitted file is published to the admitted folder (its failing rows to the
/// quarantine folder) and its original moved to the processed folder; a rejected file is moved whole into the
/// quarantine folder next to its failing rows. The numeric columns of admitted files feed the drift monitor.
/// </summary>
public sealed partial class CsvGateJob(
    IDataGate gate,
    IDriftMonitor drift,
    IOptions<OpsWorkerOptions> options,
    IOptions<AiOpsDataOptions> dataOptions,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<CsvGateJob> logger) : IHostedService, IDisposable
{
    private readonly OpsWorkerOptions _options = options.Value;
    private RuleSet? _rules;
    private PeriodicJob? _job;

    /// <summary>The model version drift is tracked under.</summary>
    public ModelKey DriftKey => new(_options.DriftModel, "1");

    /// <summary>Runs one cycle: gates every CSV waiting in the incoming folder, oldest name first.</summary>
    /// <param name="cancellationToken">Stops between files (a file being gated publishes nothing).</param>
    /// <returns>What happened to each file.</returns>
    public async Task<IReadOnlyList<GateFileResult>> RunCycleAsync(CancellationToken cancellationToken = default)
    {
        var root = environment.ContentRootPath;
        var incoming = _options.Resolve(root, _options.IncomingDirectory);
        var admitted = _options.Resolve(root, _options.AdmittedDirectory);
        var quarantine = _options.Resolve(root, _options.QuarantineDirectory);
        var processed = _options.Resolve(root, _options.ProcessedDirectory);
        foreach (var dir in new[] { incoming, admitted, quarantine, processed })
        {
            Directory.CreateDirectory(dir);
        }

        var rules = _rules ??= ResolveRules();
        var results = new List<GateFileResult>();
        foreach (var path in Directory.EnumerateFiles(incoming, "*.csv").Order(StringComparer.Ordinal).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileNameWithoutExtension(path);
            var ingest = new IngestOptions
            {
                OutputPath = Path.Combine(admitted, name + ".csv"),
                QuarantinePath = Path.Combine(quarantine, name + ".quarantine.csv"),
            };
            IngestResult result;
            try
            {
                result = await gate.IngestAsync(DataSource.FromCsv(path), rules, ingest, cancellationToken).ConfigureAwait(false);
            }
            catch (MalformedCsvException ex)
            {
                LogMalformed(logger, path, ex.Message);
                File.Move(path, Path.Combine(quarantine, Path.GetFileName(path)), overwrite: true);
                results.Add(new GateFileResult(Path.GetFileName(path), false, null, Path.Combine(quarantine, Path.GetFileName(path)), 0, 0));
                continue;
            }

            if (result.Admitted)
            {
                File.Move(path, Path.Combine(processed, Path.GetFileName(path)), overwrite: true);
                LogAdmitted(logger, path, result.RowsPassed, result.RowsQuarantined);
                ObserveDrift(result.AdmittedPath!);
            }
            else
            {
                File.Move(path, Path.Combine(quarantine, Path.GetFileName(path)), overwrite: true);
                LogRejected(logger, path, result.RowsQuarantined, string.Join("; ", result.Report.Rules.Where(r => !r.Passed).Select(r => $"{r.Name}: {r.Expectation}")));
            }

            results.Add(new GateFileResult(Path.GetFileName(path), result.Admitted, result.AdmittedPath, result.QuarantinePath, result.RowsRead, result.RowsQuarantined));
        }

        if (results.Any(r => r.Admitted))
        {
            foreach (var window in await drift.CloseWindowsAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var f in window.Features)
                {
                    LogDrift(logger, window.Key, f.Feature, f.Statistic, f.Value, f.Severity);
                }
            }
        }

        return results;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _job ??= new PeriodicJob("CSV gate cycle", _options.GateInterval, runAtStart: true, RunCycleAsync, time, logger);
        _job.Start(CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => _job?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose() => _job?.Dispose();

    /// <summary>The built-in rules for files of <c>id,age,amount,…</c>.</summary>
    internal static RuleSet DefaultRules(string name) =>
        AiOps.Data.Quality.RuleSet.Create(name).Key("id")
            .Column("id", c => c.NotNull().Unique())
            .Column("age", c => c.NotNull().Between(0, 120))
            .Column("amount", c => c.Between(0, null))
            .Build();

    private RuleSet ResolveRules() =>
        dataOptions.Value.RuleSets.TryGetValue(_options.RuleSet, out var definition)
            ? AiOps.Data.Quality.RuleSet.FromDefinition(definition)
            : DefaultRules(_options.RuleSet);

    /// <summary>Feeds the drift columns of an admitted file to the drift monitor; the first admitted file becomes the reference.</summary>
    private void ObserveDrift(string admittedPath)
    {
        var columns = _options.DriftColumns.Count > 0 ? _options.DriftColumns : ["age", "amount"];
        var matrix = ReadColumns(admittedPath, columns, out var rows);
        if (rows == 0)
        {
            return;
        }

        if (drift.GetProfile(DriftKey) is null)
        {
            drift.SetProfile(DriftKey, ReferenceProfileBuilder.FromMatrix(matrix, columns.Count, [.. columns], "features"));
            LogReference(logger, DriftKey, admittedPath, rows);
            return;
        }

        drift.Observe(DriftKey, new ModelRequest(ModelTensor.Create<float>("features", matrix, rows, columns.Count)));
    }

    /// <summary>Reads numeric columns of a gate-written CSV (a field that does not parse counts as missing: NaN).</summary>
    private static float[] ReadColumns(string path, IList<string> columns, out int rows)
    {
        var lines = File.ReadAllLines(path);
        rows = 0;
        if (lines.Length < 2)
        {
            return [];
        }

        var header = lines[0].Split(',');
        var indexes = columns.Select(c => Array.IndexOf(header, c)).ToArray();
        if (indexes.Any(i => i < 0))
        {
            return [];
        }

        var values = new float[(lines.Length - 1) * columns.Count];
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            for (var c = 0; c < indexes.Length; c++)
            {
                values[(rows * columns.Count) + c] = indexes[c] < fields.Length
                    && float.TryParse(fields[indexes[c]], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : float.NaN;
            }

            rows++;
        }

        return values[..(rows * columns.Count)];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admitted {Path}: {Passed} rows published, {Quarantined} rows quarantined.")]
    private static partial void LogAdmitted(ILogger logger, string path, long passed, long quarantined);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {Path}: {Quarantined} failing rows; the file is quarantined. Failed rules: {Failures}")]
    private static partial void LogRejected(ILogger logger, string path, long quarantined, string failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarantined {Path}: the CSV is malformed ({Reason}).")]
    private static partial void LogMalformed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift reference for {Key} taken from {Path} ({Rows} rows).")]
    private static partial void LogReference(ILogger logger, ModelKey key, string path, int rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift {Key} {Feature}: {Statistic} = {Value:F4} ({Severity}).")]
    private static partial void LogDrift(ILogger logger, ModelKey key, string feature, string statistic, double value, AiOps.Drift.DriftSeverity severity);
}
