using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;
using AiOps.Release.Checkpoints;
using AiOps.Release.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Backup;

/// <summary>Copies, verifies and prunes model backups; deletes old logs. One run at a time.</summary>
internal sealed partial class ModelBackupRunner : IModelBackup, IDisposable
{
    private const int BufferSize = 1 << 20;
    private const string BackupInfix = "_backup_";

    private readonly ModelBackupOptions _options;
    private readonly TimeProvider _time;
    private readonly ModelBackupState _state;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _runLock = new(1, 1);
    private readonly Counter<long> _runs;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _deletedBackups;
    private readonly Counter<long> _deletedLogs;

    public ModelBackupRunner(
        IOptions<ModelBackupOptions> options,
        TimeProvider timeProvider,
        ModelBackupState state,
        ILogger<ModelBackupRunner> logger,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = timeProvider;
        _state = state;
        _logger = logger;
        var meter = meterFactory?.Create(CheckpointMetrics.MeterName) ?? new Meter(CheckpointMetrics.MeterName);
        _runs = meter.CreateCounter<long>("aiops.backup.runs", "{run}", "Model backup runs by outcome (success, failure).");
        _duration = meter.CreateHistogram<double>("aiops.backup.duration", "s", "Time of a model backup run.");
        _bytes = meter.CreateCounter<long>("aiops.backup.bytes", "By", "Bytes of model files backed up and verified.");
        _deletedBackups = meter.CreateCounter<long>("aiops.backup.deleted", "{file}", "Old model backups deleted by retention.");
        _deletedLogs = meter.CreateCounter<long>("aiops.log_retention.deleted", "{file}", "Old *.log files deleted.");
        meter.CreateObservableGauge(
            "aiops.backup.last_success_timestamp",
            () => _state.Current.LastSuccess is { } at ? [new Measurement<double>(at.ToUnixTimeMilliseconds() / 1000.0)] : Array.Empty<Measurement<double>>(),
            "s",
            "Unix time of the last successful model backup run.");
    }

    /// <summary>The file-system seam (tests replace it).</summary>
    internal CheckpointFileSystem FileSystem { get; set; } = CheckpointFileSystem.Default;

    public void Dispose() => _runLock.Dispose();

    public async ValueTask<ModelBackupReport> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        await _runLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var startedAt = _time.GetUtcNow();
            var started = _time.GetTimestamp();
            var backupDir = Path.GetFullPath(_options.BackupDirectory);
            var files = new List<ModelBackupFileResult>();
            var deletedBackups = new List<string>();
            RemoveInterruptedCopies(backupDir);
            foreach (var model in _options.ModelFiles)
            {
                var result = await BackupFileAsync(model, backupDir, startedAt, cancellationToken).ConfigureAwait(false);
                files.Add(result);
                if (result.Error is null)
                {
                    _bytes.Add(result.Length);
                    deletedBackups.AddRange(PruneBackups(backupDir, result.Source));
                }
                else
                {
                    LogFileFailed(_logger, result.Source, result.Error);
                }
            }

            var deletedLogs = LogRetention.DeleteOldLogs(_options.LogDirectories, startedAt.AddDays(-_options.LogRetentionDays), FileSystem, _logger);
            _deletedBackups.Add(deletedBackups.Count);
            _deletedLogs.Add(deletedLogs.Count);

            var report = new ModelBackupReport(startedAt, files, deletedBackups, deletedLogs);
            var outcome = report.Succeeded ? "success" : "failure";
            if (report.Succeeded)
            {
                _state.RecordSuccess(_time.GetUtcNow());
            }
            else
            {
                _state.RecordFailure(_time.GetUtcNow(), string.Join(" ", files.Where(f => f.Error is not null).Select(f => f.Error)));
            }

            _duration.Record(_time.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
            _runs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
            LogRun(_logger, outcome, files.Count(f => f.Error is null), files.Count, deletedBackups.Count, deletedLogs.Count);
            return report;
        }
        finally
        {
            _runLock.Release();
        }
    }

    /// <summary>The backup file name of <paramref name="source"/> on <paramref name="date"/>: <c>model.onnx</c> becomes <c>model_backup_20240801.onnx</c>.</summary>
    internal static string BackupName(string source, DateTimeOffset date) =>
        Path.GetFileNameWithoutExtension(source) + BackupInfix + date.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + Path.GetExtension(source);

    private async ValueTask<ModelBackupFileResult> BackupFileAsync(string model, string backupDir, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        var fs = FileSystem;
        var source = Path.GetFullPath(model);
        var destination = Path.Combine(backupDir, BackupName(source, startedAt));
        var current = source;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            if (!File.Exists(source))
            {
                return new ModelBackupFileResult(source, null, null, 0, $"Model file '{source}' does not exist (ModelBackupOptions.ModelFiles).");
            }

            current = backupDir;
            fs.CreateDirectory(backupDir);
            string sourceHash;
            long length = 0;
            var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 0, FileOptions.SequentialScan);
            await using (input.ConfigureAwait(false))
            {
                // The copy goes to a temporary file beside the backup, is flushed to disk and verified, then renamed into place.
                current = destination;
                var output = AtomicFile.Create(destination, fs, input.Length);
                await using (output.ConfigureAwait(false))
                {
                    current = output.TempPath;
                    using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                    {
                        int read;
                        while ((read = await input.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            await output.Stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                            length += read;
                        }

                        output.Close();
                        sourceHash = Convert.ToHexStringLower(hash.GetHashAndReset());
                    }

                    // Verify what is on disk, not what we meant to write.
                    var copy = new FileStream(output.TempPath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
                    string copyHash;
                    await using (copy.ConfigureAwait(false))
                    {
                        copyHash = Convert.ToHexStringLower(await SHA256.HashDataAsync(copy, cancellationToken).ConfigureAwait(false));
                    }

                    if (!string.Equals(copyHash, sourceHash, StringComparison.Ordinal))
                    {
                        // Disposing the writer uncommitted removes the temporary copy.
                        return new ModelBackupFileResult(
                            source, null, null, length,
                            $"The copy of '{source}' has SHA-256 {copyHash} but the source has {sourceHash}; the copy was discarded and '{destination}' was not written.");
                    }

                    current = destination;
                    output.Commit();
                }
            }

            return new ModelBackupFileResult(source, destination, sourceHash, length, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && IoErrors.Classify(ex) is { } failure)
        {
            return new ModelBackupFileResult(source, null, null, 0, $"Backing up '{source}' failed at '{current}' because {IoErrors.Describe(failure, ex)}; earlier backups are intact.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Keeps the newest <see cref="ModelBackupOptions.KeepPerFile"/> backups of one model file.</summary>
    private List<string> PruneBackups(string backupDir, string source)
    {
        var prefix = Path.GetFileNameWithoutExtension(source) + BackupInfix;
        var extension = Path.GetExtension(source);
        var backups = Directory.EnumerateFiles(backupDir)
            .Select(path => (Path: path, Date: DateOf(Path.GetFileName(path), prefix, extension)))
            .Where(b => b.Date is not null)
            .OrderByDescending(b => b.Date, StringComparer.Ordinal)
            .Skip(_options.KeepPerFile)
            .Select(b => b.Path)
            .ToList();
        var deleted = new List<string>();
        foreach (var path in backups)
        {
            if (TryDelete(FileSystem, path))
            {
                deleted.Add(path);
            }
        }

        return deleted;
    }

    /// <summary>
    /// Removes temporary copies a crashed run left behind: <c>.&lt;name&gt;_backup_&lt;date&gt;&lt;ext&gt;.&lt;guid&gt;.tmp</c> (the atomic
    /// writer's) and <c>.&lt;name&gt;_backup_&lt;date&gt;&lt;ext&gt;.tmp-*</c> (left by earlier versions).
    /// </summary>
    private void RemoveInterruptedCopies(string backupDir)
    {
        if (!Directory.Exists(backupDir))
        {
            return;
        }

        foreach (var pattern in (string[])[".*" + BackupInfix + "*" + AtomicFile.TempSuffix, ".*" + BackupInfix + "*.tmp-*"])
        {
            foreach (var path in Directory.EnumerateFiles(backupDir, pattern))
            {
                TryDelete(FileSystem, path);
            }
        }
    }

    private static string? DateOf(string name, string prefix, string extension)
    {
        if (name.Length != prefix.Length + 8 + extension.Length
            || !name.StartsWith(prefix, StringComparison.Ordinal)
            || !name.EndsWith(extension, StringComparison.Ordinal))
        {
            return null;
        }

        var date = name.Substring(prefix.Length, 8);
        return date.All(char.IsAsciiDigit) ? date : null;
    }

    private bool TryDelete(CheckpointFileSystem fs, string path)
    {
        try
        {
            if (File.Exists(path))
            {
                fs.DeleteFile(path);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(_logger, path, ex);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Model backup of '{Source}' failed: {Error}")]
    private static partial void LogFileFailed(ILogger logger, string source, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model backup run: {Outcome}; {Succeeded}/{Total} files backed up, {DeletedBackups} old backups and {DeletedLogs} old logs deleted.")]
    private static partial void LogRun(ILogger logger, string outcome, int succeeded, int total, int deletedBackups, int deletedLogs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete '{Path}'.")]
    private static partial void LogDeleteFailed(ILogger logger, string path, Exception exception);
}
