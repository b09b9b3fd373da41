using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AiOps.Checkpoints;
using AiOps.Release.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Checkpoints;

/// <summary>The points of a save where a test can inject a crash.</summary>
internal enum CheckpointSaveStage
{
    /// <summary>A file's bytes are written but not flushed to disk.</summary>
    BeforeFlush,

    /// <summary>A file is flushed to disk.</summary>
    AfterFlush,

    /// <summary>Every file and the manifest are flushed in the temporary folder, which is not renamed yet.</summary>
    BeforeRename,

    /// <summary>The folder is renamed into place but the commit marker is not written.</summary>
    AfterRename,

    /// <summary>The commit marker is written.</summary>
    Committed,
}

/// <summary>
/// <see cref="ICheckpointStore"/> on a local or NFS folder. Layout: <c>&lt;root&gt;/&lt;id&gt;/</c> holds the files,
/// <c>manifest.json</c> (SHA-256 per file, written last) and <c>COMMITTED</c> (the manifest's SHA-256, written after the
/// rename). Saves go to <c>.tmp-*</c> folders first; deletes rename to <c>.deleting-*</c> first. One process writes a
/// folder at a time.
/// </summary>
internal sealed partial class FileCheckpointStore : ICheckpointStore, IDisposable
{
    internal const string ManifestName = "manifest.json";
    internal const string MarkerName = "COMMITTED";
    private const string TempPrefix = ".tmp-";
    private const string DeletingPrefix = ".deleting-";
    private const int WriteChunk = 16 << 20;
    private const int ParallelHashThreshold = 4 << 20;

    private readonly string _root;
    private readonly UnixFileMode? _fileMode;
    private readonly UnixFileMode? _directoryMode;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public FileCheckpointStore(IOptions<CheckpointOptions> options, TimeProvider timeProvider, ILogger<FileCheckpointStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Value.Directory, CheckpointOptions.SectionName + ":" + nameof(CheckpointOptions.Directory));
        _root = Path.GetFullPath(options.Value.Directory);
        _fileMode = options.Value.OwnerOnlyPermissions ? AtomicFile.OwnerOnlyFile : null;
        _directoryMode = options.Value.OwnerOnlyPermissions ? AtomicFile.OwnerOnlyDirectory : null;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>The folder holding the checkpoints.</summary>
    public string Root => _root;

    /// <inheritdoc />
    public void Dispose() => _writeLock.Dispose();

    /// <summary>The file-system seam (tests replace it).</summary>
    internal CheckpointFileSystem FileSystem { get; set; } = CheckpointFileSystem.Default;

    /// <summary>Called at each stage of a save (tests throw from it to simulate a crash).</summary>
    internal Func<CheckpointSaveStage, string, ValueTask>? StageHook { get; set; }

    [GeneratedRegex(@"^step-\d{12,19}-\d{8}T\d{9}Z(-\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    /// <inheritdoc />
    public async ValueTask<CheckpointInfo> SaveAsync(CheckpointContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ValidateContent(content);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await SaveCoreAsync(content, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask<CheckpointInfo> SaveCoreAsync(CheckpointContent content, CancellationToken cancellationToken)
    {
        var fs = FileSystem;
        var current = _root;
        string? tempDir = null;
        string? finalDir = null;
        var renamed = false;
        var committed = false;
        try
        {
            fs.CreateDirectory(_root, _directoryMode);
            RemoveLeftovers();
            var createdAt = _time.GetUtcNow();
            var id = NewId(content.Step, createdAt);
            tempDir = Path.Combine(_root, TempPrefix + id + "-" + Guid.NewGuid().ToString("N"));
            finalDir = Path.Combine(_root, id);
            current = tempDir;
            fs.CreateDirectory(tempDir, _directoryMode);

            var manifest = new CheckpointManifest
            {
                Id = id,
                Step = content.Step,
                CreatedAt = createdAt,
                Metrics = new Dictionary<string, double>(content.Metrics, StringComparer.Ordinal),
                Tags = [.. content.Tags],
            };
            foreach (var (name, data) in content.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                current = Path.Combine(tempDir, name);
                var hash = await WriteFileAsync(fs, current, data, cancellationToken).ConfigureAwait(false);
                manifest.Files.Add(new CheckpointManifestFile { Name = name, Length = data.Length, Sha256 = hash });
            }

            var manifestBytes = manifest.Serialize();
            current = Path.Combine(tempDir, ManifestName);
            var manifestHash = await WriteFileAsync(fs, current, manifestBytes, cancellationToken).ConfigureAwait(false);

            await StageAsync(CheckpointSaveStage.BeforeRename, tempDir).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            current = finalDir;
            fs.MoveDirectory(tempDir, finalDir);
            renamed = true;
            await StageAsync(CheckpointSaveStage.AfterRename, finalDir).ConfigureAwait(false);

            // The marker is itself written atomically (temporary name, flush, rename), so it is either absent or whole.
            current = Path.Combine(finalDir, MarkerName);
            var marker = Encoding.ASCII.GetBytes(manifestHash);
            var markerWriter = AtomicFile.Create(current, fs, marker.Length, _fileMode);
            await using (markerWriter.ConfigureAwait(false))
            {
                current = markerWriter.TempPath;
                markerWriter.Stream.Write(marker);
                await StageAsync(CheckpointSaveStage.BeforeFlush, current).ConfigureAwait(false);
                markerWriter.Close();
                await StageAsync(CheckpointSaveStage.AfterFlush, current).ConfigureAwait(false);
                current = markerWriter.TargetPath;
                markerWriter.Commit();
            }

            committed = true;
            await StageAsync(CheckpointSaveStage.Committed, finalDir).ConfigureAwait(false);
            return manifest.ToInfo();
        }
        catch (Exception ex)
        {
            if (committed)
            {
                throw;
            }

            if (tempDir is not null)
            {
                TryDelete(fs, renamed ? finalDir! : tempDir);
            }

            var failure = IoErrors.Classify(ex);
            if (failure is null)
            {
                throw;
            }

            throw new CheckpointStorageException(
                failure.Value,
                current,
                $"Checkpoint at step {content.Step} was not saved: writing '{current}' failed because {IoErrors.Describe(failure.Value, ex)}. " +
                $"The checkpoints committed before in '{_root}' are intact and the partial files were removed; " +
                (failure == CheckpointStorageFailure.DiskFull ? "free space or keep fewer checkpoints (CheckpointOptions.Retention)." : "check the folder's permissions and mount."),
                ex);
        }
    }

    private async ValueTask<string> WriteFileAsync(CheckpointFileSystem fs, string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // Hash on another core while this one writes: both read the same in-memory bytes, so the file is never re-read.
        Task<byte[]>? parallelHash = data.Length >= ParallelHashThreshold ? Task.Run(() => SHA256.HashData(data.Span), CancellationToken.None) : null;
        try
        {
            var stream = fs.CreateFile(path, data.Length);
            await using (stream.ConfigureAwait(false))
            {
                AtomicFileSystem.SetMode(path, _fileMode); // before any content is written
                for (var offset = 0; offset < data.Length; offset += WriteChunk)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    stream.Write(data.Span.Slice(offset, Math.Min(WriteChunk, data.Length - offset)));
                }

                await StageAsync(CheckpointSaveStage.BeforeFlush, path).ConfigureAwait(false);
                fs.FlushToDisk(stream);
                await StageAsync(CheckpointSaveStage.AfterFlush, path).ConfigureAwait(false);
            }

            var hash = parallelHash is null ? SHA256.HashData(data.Span) : await parallelHash.ConfigureAwait(false);
            return Convert.ToHexStringLower(hash);
        }
        catch
        {
            if (parallelHash is not null)
            {
                await ((Task)parallelHash).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            throw;
        }
    }

    private ValueTask StageAsync(CheckpointSaveStage stage, string path) => StageHook?.Invoke(stage, path) ?? ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<CheckpointInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<CheckpointInfo>();
        if (Directory.Exists(_root))
        {
            foreach (var dir in Directory.EnumerateDirectories(_root))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = Path.GetFileName(dir);
                if (!IdPattern().IsMatch(name))
                {
                    continue;
                }

                var (manifest, problem) = ReadCommittedManifest(dir);
                if (manifest is not null)
                {
                    result.Add(manifest.ToInfo());
                }
                else
                {
                    ReportOnce(name, problem!);
                }
            }
        }

        result.Sort(CompareByAge);
        return ValueTask.FromResult<IReadOnlyList<CheckpointInfo>>(result);
    }

    /// <summary>
    /// Orders checkpoints oldest first by training step, then commit time, then id. The wall clock is never the primary
    /// order: after it steps back, a later step still sorts after an earlier one.
    /// </summary>
    internal static int CompareByAge(CheckpointInfo a, CheckpointInfo b)
    {
        var c = a.Step.CompareTo(b.Step);
        if (c == 0)
        {
            c = a.CreatedAt.CompareTo(b.CreatedAt);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }

    /// <inheritdoc />
    public async ValueTask<string?> VerifyAsync(string id, CancellationToken cancellationToken = default)
    {
        var dir = CheckpointDirectory(id);
        var (manifest, problem) = ReadCommittedManifest(dir);
        if (manifest is null)
        {
            return problem;
        }

        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(dir, file.Name);
            if (!File.Exists(path))
            {
                return $"file '{file.Name}' is missing";
            }

            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                if (stream.Length != file.Length)
                {
                    return $"file '{file.Name}' has {stream.Length} bytes; the manifest says {file.Length}";
                }

                var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
                if (!string.Equals(actual, file.Sha256, StringComparison.Ordinal))
                {
                    return $"file '{file.Name}' has SHA-256 {actual}; the manifest says {file.Sha256}";
                }
            }
        }

        return null;
    }

    /// <inheritdoc />
    public ValueTask<Stream> OpenReadAsync(string id, string fileName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var dir = CheckpointDirectory(id);
        var (manifest, problem) = ReadCommittedManifest(dir);
        if (manifest is null)
        {
            throw new CheckpointNotFoundException(id, $"Checkpoint '{id}' in '{_root}' cannot be read: {problem}.");
        }

        if (!manifest.Files.Exists(f => string.Equals(f.Name, fileName, StringComparison.Ordinal)))
        {
            throw new CheckpointNotFoundException(
                id,
                $"Checkpoint '{id}' has no file '{fileName}'; it has: {string.Join(", ", manifest.Files.Select(f => f.Name))}.");
        }

        Stream stream = new FileStream(Path.Combine(dir, fileName), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return ValueTask.FromResult(stream);
    }

    /// <inheritdoc />
    public async ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        var dir = CheckpointDirectory(id);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!Directory.Exists(dir))
            {
                return;
            }

            // Rename first: a crash mid-delete leaves a '.deleting-' folder (removed later), never a half-deleted checkpoint.
            var doomed = Path.Combine(_root, DeletingPrefix + id + "-" + Guid.NewGuid().ToString("N"));
            try
            {
                FileSystem.MoveDirectory(dir, doomed);
                FileSystem.DeleteDirectory(doomed);
            }
            catch (Exception ex) when (IoErrors.Classify(ex) is { } failure)
            {
                throw new CheckpointStorageException(failure, dir, $"Checkpoint '{id}' could not be deleted from '{_root}' because {IoErrors.Describe(failure, ex)}.", ex);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private string CheckpointDirectory(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (!IdPattern().IsMatch(id))
        {
            throw new ArgumentException($"'{id}' is not a checkpoint id (expected the form step-000000000100-20240801T120000000Z).", nameof(id));
        }

        return Path.Combine(_root, id);
    }

    /// <summary>Reads the manifest of a committed checkpoint, checking it against the commit marker.</summary>
    private static (CheckpointManifest? Manifest, string? Problem) ReadCommittedManifest(string dir)
    {
        try
        {
            if (!Directory.Exists(dir))
            {
                return (null, "it does not exist");
            }

            var markerPath = Path.Combine(dir, MarkerName);
            if (!File.Exists(markerPath))
            {
                return (null, "it is not committed (no commit marker: a save was interrupted)");
            }

            var manifestPath = Path.Combine(dir, ManifestName);
            if (!File.Exists(manifestPath))
            {
                return (null, "its manifest.json is missing");
            }

            var manifestBytes = File.ReadAllBytes(manifestPath);
            var marker = File.ReadAllText(markerPath).Trim();
            var manifestHash = Convert.ToHexStringLower(SHA256.HashData(manifestBytes));
            if (!string.Equals(marker, manifestHash, StringComparison.Ordinal))
            {
                return (null, "its manifest.json does not match the commit marker (the manifest is corrupt)");
            }

            var manifest = CheckpointManifest.Deserialize(manifestBytes);
            return manifest is null || manifest.Id != Path.GetFileName(dir)
                ? (null, "its manifest.json names another checkpoint")
                : (manifest, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return (null, $"its manifest cannot be read ({ex.Message})");
        }
    }

    private string NewId(long step, DateTimeOffset createdAt)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"step-{step:D12}-{createdAt.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}");
        var candidate = id;
        for (var n = 1; Directory.Exists(Path.Combine(_root, candidate)); n++)
        {
            candidate = string.Create(CultureInfo.InvariantCulture, $"{id}-{n}");
        }

        return candidate;
    }

    /// <summary>Removes what crashed saves and deletes left behind. Runs under the write lock, so no save of ours is in progress.</summary>
    private void RemoveLeftovers()
    {
        foreach (var dir in Directory.EnumerateDirectories(_root))
        {
            var name = Path.GetFileName(dir);
            var interrupted = name.StartsWith(TempPrefix, StringComparison.Ordinal) || name.StartsWith(DeletingPrefix, StringComparison.Ordinal)
                || (IdPattern().IsMatch(name) && !File.Exists(Path.Combine(dir, MarkerName)));
            if (interrupted)
            {
                LogRemovingLeftover(_logger, dir);
                TryDelete(FileSystem, dir);
            }
        }
    }

    private void TryDelete(CheckpointFileSystem fs, string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                fs.DeleteDirectory(dir);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(_logger, dir, ex);
        }
    }

    private void ReportOnce(string id, string problem)
    {
        lock (_reported)
        {
            if (!_reported.Add(id))
            {
                return;
            }
        }

        LogUnusable(_logger, id, _root, problem);
    }

    private static void ValidateContent(CheckpointContent content)
    {
        if (content.Step < 0)
        {
            throw new ArgumentException($"CheckpointContent.Step is {content.Step}; expected a step >= 0.", nameof(content));
        }

        if (content.Files is null || content.Files.Count == 0)
        {
            throw new ArgumentException("CheckpointContent.Files is empty; expected at least one file (e.g. \"weights.bin\").", nameof(content));
        }

        foreach (var name in content.Files.Keys)
        {
            if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.StartsWith('.')
                || name.IndexOfAny(['/', '\\', '\0']) >= 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
                || name is ManifestName or MarkerName || name.StartsWith(MarkerName, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"Checkpoint file name '{name}' is not allowed; expected a plain file name (no folders, not starting with '.', not '{ManifestName}' or '{MarkerName}').",
                    nameof(content));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint '{Id}' in '{Root}' is skipped: {Problem}.")]
    private static partial void LogUnusable(ILogger logger, string id, string root, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing '{Path}', left behind by an interrupted checkpoint save or delete.")]
    private static partial void LogRemovingLeftover(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove '{Path}'.")]
    private static partial void LogCleanupFailed(ILogger logger, string path, Exception exception);
}
