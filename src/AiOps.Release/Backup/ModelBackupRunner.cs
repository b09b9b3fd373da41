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

    /// <summary>How many times a copy is attempted when the source changes while it is copied.</summary>
    internal const int MaxAttempts = 3;

    /// <summary>
    /// The backup file name of <paramref name="source"/> on <paramref name="date"/>: <c>model.onnx</c> becomes
    /// <c>model_backup_20240801.onnx</c>, and the <paramref name="sequence"/>-th later run of that day
    /// <c>model_backup_20240801.1.onnx</c>, <c>.2</c>, ….
    /// </summary>
    internal static string BackupName(string source, DateTimeOffset date, int sequence = 0) =>
        Path.GetFileNameWithoutExtension(source) + BackupInfix + date.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture)
        + (sequence > 0 ? "." + sequence.ToString(CultureInfo.InvariantCulture) : string.Empty) + Path.GetExtension(source);

    /// <summary>Test seam: called after the first chunk of each copy attempt is written (with the source path and the attempt, from 1), so a test can rewrite the source mid-copy.</summary>
    internal Func<string, int, ValueTask>? CopyHook { get; set; }

    private async ValueTask<ModelBackupFileResult> BackupFileAsync(string model, string backupDir, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        var fs = FileSystem;
        var source = Path.GetFullPath(model);
        var current = source;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            if (!File.Exists(source))
            {
                return new ModelBackupFileResult(source, null, null, 0, $"Model file '{source}' does not exist (ModelBackupOptions.ModelFiles).");
            }

            current = backupDir;
            fs.CreateDirectory(backupDir, _options.OwnerOnlyPermissions ? AtomicFile.OwnerOnlyDirectory : null);
            string? instability = null;
            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                // A later run of the same day gets the next free suffix: an earlier good backup is never replaced.
                var destination = FreeDestination(backupDir, source, startedAt);
                current = destination;
                var outcome = await CopyOnceAsync(fs, source, destination, attempt, buffer, p => current = p, cancellationToken).ConfigureAwait(false);
                if (outcome.Result is { } done)
                {
                    return done;
                }

                instability = outcome.Instability;
                LogSourceChanged(_logger, source, attempt, instability!);
            }

            return new ModelBackupFileResult(
                source, null, null, 0,
                $"The model file '{source}' changed while it was copied in each of {MaxAttempts} attempts (last: {instability}); " +
                "no backup was written for it in this run (a torn copy is never kept) and earlier backups are intact.");
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

    /// <summary>
    /// One copy attempt: copy while hashing, verify the copy on disk, then re-read the source and check that its size,
    /// modification time and hash did not change across the copy. Returns the result, or why the source was unstable.
    /// </summary>
    private async ValueTask<(ModelBackupFileResult? Result, string? Instability)> CopyOnceAsync(
        CheckpointFileSystem fs, string source, string destination, int attempt, byte[] buffer, Action<string> at, CancellationToken cancellationToken)
    {
        var before = Stamp(source);
        string readHash;
        long length = 0;
        var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.SequentialScan);
        await using (input.ConfigureAwait(false))
        {
            // The copy goes to a temporary file beside the backup, is flushed to disk and verified, then renamed into place.
            var output = AtomicFile.Create(destination, fs, input.Length, _options.OwnerOnlyPermissions ? AtomicFile.OwnerOnlyFile : null);
            await using (output.ConfigureAwait(false))
            {
                at(output.TempPath);
                using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    int read;
                    var first = true;
                    while ((read = await input.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await output.Stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        length += read;
                        if (first && CopyHook is { } hook)
                        {
                            first = false;
                            await hook(source, attempt).ConfigureAwait(false);
                        }
                    }

                    output.Close();
                    readHash = Convert.ToHexStringLower(hash.GetHashAndReset());
                }

                // Verify what is on disk, not what we meant to write.
                var copyHash = await HashFileAsync(output.TempPath, cancellationToken).ConfigureAwait(false);
                if (!string.Equals(copyHash, readHash, StringComparison.Ordinal))
                {
                    // Disposing the writer uncommitted removes the temporary copy.
                    return (new ModelBackupFileResult(
                        source, null, null, length,
                        $"The copy of '{source}' has SHA-256 {copyHash} but the bytes read have {readHash}; the copy was discarded and '{destination}' was not written."), null);
                }

                // Verify against the source as it is now: a file rewritten or truncated during the copy gives a torn copy
                // whose hash matches the bytes read, but not the source.
                at(source);
                var after = Stamp(source);
                string? instability = null;
                if (after.Length != before.Length || after.Length != length)
                {
                    instability = $"{before.Length} bytes before the copy, {length} copied, {after.Length} after";
                }
                else if (after.LastWrite != before.LastWrite)
                {
                    instability = $"last written {before.LastWrite:O} before the copy and {after.LastWrite:O} after";
                }
                else
                {
                    var sourceHash = await HashFileAsync(source, cancellationToken).ConfigureAwait(false);
                    if (!string.Equals(sourceHash, readHash, StringComparison.Ordinal))
                    {
                        instability = $"the copy has SHA-256 {readHash} but the source now has {sourceHash}";
                    }
                }

                if (instability is not null)
                {
                    return (null, instability);
                }

                at(destination);
                output.Commit();
                return (new ModelBackupFileResult(source, destination, readHash, length, null), null);
            }
        }
    }

    private static (long Length, DateTime LastWrite) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, DateTime.MinValue);
    }

    private static async ValueTask<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
    }

    private static string FreeDestination(string backupDir, string source, DateTimeOffset startedAt)
    {
        for (var sequence = 0; ; sequence++)
        {
            var candidate = Path.Combine(backupDir, BackupName(source, startedAt, sequence));
            if (!Path.Exists(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>Keeps the backups of one model file of the newest <see cref="ModelBackupOptions.KeepPerFile"/> days (every run of those days).</summary>
    private List<string> PruneBackups(string backupDir, string source)
    {
        var prefix = Path.GetFileNameWithoutExtension(source) + BackupInfix;
        var extension = Path.GetExtension(source);
        var dated = Directory.EnumerateFiles(backupDir)
            .Select(path => (Path: path, Date: DateOf(Path.GetFileName(path), prefix, extension)))
            .Where(b => b.Date is not null)
            .ToList();
        var keptDays = dated.Select(b => b.Date!).Distinct(StringComparer.Ordinal).OrderDescending(StringComparer.Ordinal)
            .Take(_options.KeepPerFile).ToHashSet(StringComparer.Ordinal);
        var backups = dated.Where(b => !keptDays.Contains(b.Date!)).Select(b => b.Path).Order(StringComparer.Ordinal).ToList();
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

    /// <summary>The <c>yyyyMMdd</c> of a backup name <c>{prefix}yyyyMMdd[.N]{extension}</c>, or <see langword="null"/> when it is not one.</summary>
    private static string? DateOf(string name, string prefix, string extension)
    {
        if (name.Length < prefix.Length + 8 + extension.Length
            || !name.StartsWith(prefix, StringComparison.Ordinal)
            || !name.EndsWith(extension, StringComparison.Ordinal))
        {
            return null;
        }

        var date = name.Substring(prefix.Length, 8);
        var rest = name.AsSpan(prefix.Length + 8, name.Length - prefix.Length - 8 - extension.Length);
        if (!date.All(char.IsAsciiDigit))
        {
            return null;
        }

        return rest.IsEmpty || (rest.Length >= 2 && rest[0] == '.' && rest[1] != '0' && !rest[1..].ContainsAnyExceptInRange('0', '9')) ? date : null;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model file '{Source}' changed while it was copied (attempt {Attempt}): {Change}; the copy was discarded.")]
    private static partial void LogSourceChanged(ILogger logger, string source, int attempt, string change);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete '{Path}'.")]
    private static partial void LogDeleteFailed(ILogger logger, string path, Exception exception);
}
