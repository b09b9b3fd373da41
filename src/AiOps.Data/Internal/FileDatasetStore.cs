using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiOps.Data.Quality;
using AiOps.Data.Versions;
using Microsoft.Extensions.Options;

namespace AiOps.Data.Internal;

/// <summary>Layout: <c>objects/ab/cdef…</c> (content), <c>datasets/{name}/manifests/{version}.json</c>, <c>datasets/{name}/tags/{tag}</c>.</summary>
internal sealed partial class FileDatasetStore(IOptions<AiOpsDataOptions> options, TimeProvider time, DataValidator validator) : IDatasetStore, IDisposable
{
    private static readonly JsonSerializerOptions Json = ValidationReport.Json;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly SemaphoreSlim _restoreLock = new(1, 1);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    public void Dispose()
    {
        _lock.Dispose();
        _restoreLock.Dispose();
    }

    private string Root => Path.GetFullPath(options.Value.DatasetStorePath);

    private string DatasetDir(string dataset) => Path.Combine(Root, "datasets", CheckName(dataset, "dataset"));

    private static string CheckName(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        return NameRegex().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal)
            ? name
            : throw new ArgumentException($"A {what} name must be 1–128 letters, digits, '.', '_' or '-' starting with a letter or digit; got '{name}'.", what);
    }

    public Task<DatasetVersion> SnapshotAsync(string dataset, string path, SnapshotOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Directory.Exists(path))
        {
            return File.Exists(path)
                ? SnapshotAsync(dataset, [path], options, cancellationToken)
                : throw new FileNotFoundException($"Expected a file or directory to snapshot; '{path}' does not exist.", path);
        }

        // Every file under the directory, sub-directories included, named by its relative path with '/' separators.
        var root = Path.GetFullPath(path);
        var items = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => (Path: f, Name: Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/')))
            .OrderBy(i => i.Name, StringComparer.Ordinal)
            .ToArray();
        return items.Length == 0
            ? throw new ArgumentException($"Expected at least one file to snapshot; directory '{path}' has none.", nameof(path))
            : SnapshotCoreAsync(dataset, items, options, cancellationToken);
    }

    public Task<DatasetVersion> SnapshotAsync(string dataset, IReadOnlyList<string> files, SnapshotOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            throw new ArgumentException("Expected at least one file to snapshot.", nameof(files));
        }

        var names = files.Select(Path.GetFileName).ToArray();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            throw new ArgumentException($"Expected files with distinct names; got {string.Join(", ", names)}.", nameof(files));
        }

        return SnapshotCoreAsync(dataset, [.. files.Select(f => (f, Path.GetFileName(f)))], options, cancellationToken);
    }

    private async Task<DatasetVersion> SnapshotCoreAsync(string dataset, (string Path, string Name)[] items, SnapshotOptions? options, CancellationToken cancellationToken)
    {
        var dir = DatasetDir(dataset);

        if (options?.Tag is { } t)
        {
            CheckName(t, "tag");
        }

        IReadOnlyDictionary<string, Pii.PiiOperator>? pii = options is { PiiColumns.Count: > 0 }
            ? options.PiiColumns.ToDictionary(c => c, _ => Pii.PiiOperator.Mask, StringComparer.Ordinal)
            : null;
        var entries = new List<DatasetFile>();
        var csvStats = new List<ValidationReport>();
        foreach (var (file, name) in items)
        {
            var hash = await StoreObjectAsync(file, cancellationToken).ConfigureAwait(false);
            long? rows = null;
            if (file.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            {
                // Profile the stored content itself, so schema and statistics describe exactly what the version holds.
                var profile = await Task.Run(() => validator.Validate(DataSource.FromCsv(file), RuleSet.Empty(dataset), null, cancellationToken, pii), cancellationToken).ConfigureAwait(false);
                csvStats.Add(profile);
                rows = profile.RowsChecked;
            }

            entries.Add(new DatasetFile(name, hash, new FileInfo(file).Length) { RowCount = rows });
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var single = csvStats.Count == 1 ? csvStats[0] : null;
        var manifest = new DatasetVersion(dataset, string.Empty, time.GetUtcNow(), entries)
        {
            Schema = single?.Columns.Select(c => new SchemaColumn(c.Name, c.InferredType)).ToArray() ?? [],
            Statistics = single?.Columns ?? [],
            RowCount = csvStats.Count > 0 ? csvStats.Sum(r => r.RowsChecked) : null,
            Report = options?.Report,
            Description = options?.Description,
        };
        manifest = manifest with { Version = ContentVersion(manifest) };

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var manifestPath = Path.Combine(dir, "manifests", manifest.Version + ".json");
            if (!File.Exists(manifestPath))
            {
                await AtomicFile.WriteAllBytesAsync(manifestPath, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(manifest with { Tags = [] }, Json)), cancellationToken).ConfigureAwait(false);
            }

            if (options?.Tag is { } tag)
            {
                await TagCoreAsync(dir, manifest.Version, tag, cancellationToken).ConfigureAwait(false);
            }

            await SaveHashCacheAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }

        return (await GetAsync(dataset, manifest.Version, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The version: SHA-256 over the content-describing part of the manifest (not the time, report or tags).</summary>
    private static string ContentVersion(DatasetVersion m)
    {
        var content = new { m.Dataset, m.Files, m.Schema, m.RowCount, m.Statistics };
        return Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(content, Json)));
    }

    /// <summary>What a file looked like when it was last hashed: an unchanged file (same length, last-write and creation times) whose
    /// object is stored is neither re-read nor re-hashed. .NET exposes no inode number, so the creation time (birth time where the file
    /// system records it) stands in for the identity check; a file replaced in place with the same length and times would be missed.</summary>
    internal sealed record HashCacheEntry(long Length, long LastWriteTicks, long CreationTicks, string Sha256);

    private Dictionary<string, HashCacheEntry>? _hashCache;
    private readonly Lock _cacheLock = new();

    /// <summary>Bytes read and hashed by snapshots (tests check that an unchanged file is not re-hashed).</summary>
    internal long HashedBytes;

    private string HashCachePath => Path.Combine(Root, "cache", "hashes.json");

    private Dictionary<string, HashCacheEntry> HashCache()
    {
        lock (_cacheLock)
        {
            if (_hashCache is null)
            {
                try
                {
                    _hashCache = File.Exists(HashCachePath)
                        ? JsonSerializer.Deserialize<Dictionary<string, HashCacheEntry>>(File.ReadAllBytes(HashCachePath), Json) ?? []
                        : [];
                }
                catch (Exception e) when (e is JsonException or IOException)
                {
                    _hashCache = []; // a damaged cache only costs re-hashing
                }
            }

            return _hashCache;
        }
    }

    private async Task SaveHashCacheAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        lock (_cacheLock)
        {
            if (_hashCache is null)
            {
                return;
            }

            bytes = JsonSerializer.SerializeToUtf8Bytes(_hashCache, Json);
        }

        await AtomicFile.WriteAllBytesAsync(HashCachePath, bytes, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> StoreObjectAsync(string file, CancellationToken cancellationToken)
    {
        var info = new FileInfo(file);
        var key = info.FullName;
        var seen = new HashCacheEntry(info.Length, info.LastWriteTimeUtc.Ticks, info.CreationTimeUtc.Ticks, string.Empty);
        var cache = HashCache();
        lock (_cacheLock)
        {
            if (cache.TryGetValue(key, out var hit) && hit with { Sha256 = string.Empty } == seen && File.Exists(ObjectPath(hit.Sha256)))
            {
                return hit.Sha256;
            }
        }

        var stored = await StoreObjectCoreAsync(file, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref HashedBytes, info.Length);
        lock (_cacheLock)
        {
            cache[key] = seen with { Sha256 = stored };
        }

        return stored;
    }

    private async Task<string> StoreObjectCoreAsync(string file, CancellationToken cancellationToken)
    {
        // The name is the content's hash, known only once it is written: the temporary file sits in objects/ and is
        // renamed into objects/<aa>/<rest> (same file system), or discarded when that content is already stored.
        var writer = AtomicFile.Create(Path.Combine(Root, "objects", "incoming"));
        await using (writer.ConfigureAwait(false))
        {
            string hash;
            using (var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                hash = await ContentHasher.Sha256Async(source, writer.Stream, cancellationToken).ConfigureAwait(false);
            }

            var final = ObjectPath(hash);
            if (!File.Exists(final))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                writer.CommitAs(final);
            }

            return hash;
        }
    }

    private string ObjectPath(string hash) => Path.Combine(Root, "objects", hash[..2], hash[2..]);

    public async Task<DatasetVersion?> GetAsync(string dataset, string tagOrVersion, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tagOrVersion);
        var dir = DatasetDir(dataset);
        var version = await ResolveAsync(dir, tagOrVersion, cancellationToken).ConfigureAwait(false);
        return version is null ? null : await ReadManifestAsync(dir, version, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string?> ResolveAsync(string dir, string tagOrVersion, CancellationToken cancellationToken)
    {
        if (NameRegex().IsMatch(tagOrVersion))
        {
            var tagFile = Path.Combine(dir, "tags", tagOrVersion);
            if (File.Exists(tagFile))
            {
                return (await File.ReadAllTextAsync(tagFile, cancellationToken).ConfigureAwait(false)).Trim();
            }
        }

        var manifests = Path.Combine(dir, "manifests");
        if (!Directory.Exists(manifests) || tagOrVersion.Length < 8 || !tagOrVersion.All(char.IsAsciiHexDigitLower))
        {
            return null;
        }

        var matches = Directory.GetFiles(manifests, tagOrVersion + "*.json").Select(Path.GetFileNameWithoutExtension).ToArray();
        return matches.Length == 1 ? matches[0] : null;
    }

    private static async Task<DatasetVersion> ReadManifestAsync(string dir, string version, CancellationToken cancellationToken)
    {
        var path = Path.Combine(dir, "manifests", version + ".json");
        using var stream = File.OpenRead(path);
        var manifest = await JsonSerializer.DeserializeAsync<DatasetVersion>(stream, Json, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"Manifest '{path}' is empty; expected a dataset version.");
        return manifest with { Tags = await TagsOfAsync(dir, version, cancellationToken).ConfigureAwait(false) };
    }

    private static async Task<IReadOnlyList<string>> TagsOfAsync(string dir, string version, CancellationToken cancellationToken)
    {
        var tags = Path.Combine(dir, "tags");
        if (!Directory.Exists(tags))
        {
            return [];
        }

        var result = new List<string>();
        foreach (var file in Directory.GetFiles(tags).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(file).StartsWith('.'))
            {
                continue;
            }

            if ((await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim() == version)
            {
                result.Add(Path.GetFileName(file));
            }
        }

        return result;
    }

    public async Task<IReadOnlyList<DatasetVersion>> ListAsync(string dataset, CancellationToken cancellationToken = default)
    {
        var dir = DatasetDir(dataset);
        var manifests = Path.Combine(dir, "manifests");
        if (!Directory.Exists(manifests))
        {
            return [];
        }

        var list = new List<DatasetVersion>();
        foreach (var file in Directory.GetFiles(manifests, "*.json"))
        {
            list.Add(await ReadManifestAsync(dir, Path.GetFileNameWithoutExtension(file), cancellationToken).ConfigureAwait(false));
        }

        return list.OrderBy(v => v.CreatedAt).ThenBy(v => v.Version, StringComparer.Ordinal).ToArray();
    }

    public async Task TagAsync(string dataset, string tagOrVersion, string tag, CancellationToken cancellationToken = default)
    {
        CheckName(tag, "tag");
        var dir = DatasetDir(dataset);
        var version = await ResolveAsync(dir, tagOrVersion, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"Dataset '{dataset}' has no version or tag '{tagOrVersion}'.");
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await TagCoreAsync(dir, version, tag, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private static async Task TagCoreAsync(string dir, string version, string tag, CancellationToken cancellationToken)
    {
        var tagFile = Path.Combine(dir, "tags", tag);
        if (File.Exists(tagFile))
        {
            var existing = (await File.ReadAllTextAsync(tagFile, cancellationToken).ConfigureAwait(false)).Trim();
            if (existing != version)
            {
                throw new InvalidOperationException($"Tag '{tag}' already names version {existing}; tags are immutable, choose a new tag for version {version}.");
            }

            return;
        }

        await AtomicFile.WriteAllBytesAsync(tagFile, Encoding.UTF8.GetBytes(version), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Test hook: wraps each stored object's stream as a restore reads it (a stream that fails after K bytes simulates a crash).</summary>
    internal Func<Stream, Stream>? RestoreReadHook { get; set; }

    /// <summary>Test hook: runs once every file is staged and verified, before the first rename into place (a test swaps in a symlink).</summary>
    internal Action<string>? BeforeRestoreCommit { get; set; }

    /// <summary>Test hook: runs before the rename of the i-th staged file into place (a throw simulates a crash between renames).</summary>
    internal Action<int>? BeforeRestoreMove { get; set; }

    private const string RestorePrefix = ".aiops-restore-";
    private const string JournalSuffix = ".journal";
    private static readonly TimeSpan StaleStaging = TimeSpan.FromMinutes(10);

    /// <summary>Restores all or nothing: every file is copied from its object into a staging folder inside the target
    /// (<c>.aiops-restore-&lt;id&gt;.tmp</c>, same file system) and checked against its hash; only when all are there is a journal
    /// naming them written, and each is renamed over its place. A failure or crash while copying (where the time goes) leaves the
    /// target exactly as it was; one between the renames leaves the journal, and the next restore into the target finishes them
    /// before it starts. No path leaves the target: manifest names that are rooted or climb out are refused before anything is
    /// written, and every folder on the way to a file is checked not to be a symbolic link right before the file is written and
    /// again right before it is renamed into place.</summary>
    public async Task<IReadOnlyList<string>> RestoreAsync(string dataset, string tagOrVersion, string targetDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDirectory);
        var version = await GetAsync(dataset, tagOrVersion, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"Dataset '{dataset}' has no version or tag '{tagOrVersion}'.");
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(targetDirectory));
        var at = $"{dataset}@{version.Version}";
        var relatives = new List<string>(version.Files.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in version.Files)
        {
            var rel = SafeRelative(file.Name, root, at);
            if (!seen.Add(rel))
            {
                throw new RestorePathException(at, file.Name, root, "names the same file as another entry; expected each file once");
            }

            relatives.Add(rel);
        }

        // Restores through this store run one at a time, so one never finishes or removes another's staging while it is in flight.
        await _restoreLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RestoreCoreAsync(version, relatives, root, at, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _restoreLock.Release();
        }
    }

    private async Task<IReadOnlyList<string>> RestoreCoreAsync(DatasetVersion version, List<string> relatives, string root, string at, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(root);
        RecoverRestores(root);
        var id = Guid.NewGuid().ToString("N");
        var staging = Path.Combine(root, RestorePrefix + id + AtomicFile.TempSuffix);
        var journal = Path.Combine(root, RestorePrefix + id + JournalSuffix);
        Directory.CreateDirectory(staging);
        var committing = false;
        try
        {
            for (var i = 0; i < version.Files.Count; i++)
            {
                var file = version.Files[i];
                var staged = Path.Combine(staging, relatives[i]);
                RefuseLinks(staging, relatives[i], at, file.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(staged)!);
                RefuseLinks(staging, relatives[i], at, file.Name);
                string hash;
                var source = (Stream)new FileStream(ObjectPath(file.Sha256), FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
                source = RestoreReadHook?.Invoke(source) ?? source;
                await using (source.ConfigureAwait(false))
                {
                    var target = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                    await using (target.ConfigureAwait(false))
                    {
                        hash = await ContentHasher.Sha256Async(source, target, cancellationToken).ConfigureAwait(false);
                        target.Flush(flushToDisk: true);
                    }
                }

                if (hash != file.Sha256)
                {
                    throw new InvalidDataException($"Stored object for '{file.Name}' of {at} hashes to {hash}, expected {file.Sha256}: the store is corrupt.");
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            BeforeRestoreCommit?.Invoke(staging);

            // Every file is staged and verified: from here the restore goes forward, even across a crash (the journal).
            foreach (var rel in relatives)
            {
                RefuseLinks(root, rel, at, rel);
            }

            AtomicFile.WriteAllBytes(journal, JsonSerializer.SerializeToUtf8Bytes(relatives, Json));
            committing = true;
            var written = new List<string>(relatives.Count);
            for (var i = 0; i < relatives.Count; i++)
            {
                BeforeRestoreMove?.Invoke(i);
                written.Add(MoveIntoPlace(root, staging, relatives[i], at));
            }

            File.Delete(journal);
            return written;
        }
        finally
        {
            if (!committing || !File.Exists(journal))
            {
                TryDeleteDirectory(staging);
            }
        }
    }

    /// <summary>The manifest name as a relative path under <paramref name="root"/>, or a <see cref="RestorePathException"/>.</summary>
    private static string SafeRelative(string name, string root, string at)
    {
        if (string.IsNullOrEmpty(name) || Path.IsPathRooted(name) || name.Contains('\\', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal)
            || (name.Length >= 2 && name[1] == ':'))
        {
            throw new RestorePathException(at, name, root, "is absolute or holds a drive, backslash or NUL; expected a relative path with '/' separators");
        }

        var parts = name.Split('/');
        if (Array.Exists(parts, p => p is "" or "." or ".."))
        {
            throw new RestorePathException(at, name, root, "has an empty, '.' or '..' segment; expected a path that stays inside the target directory");
        }

        var rel = string.Join(Path.DirectorySeparatorChar, parts);
        var full = Path.GetFullPath(Path.Combine(root, rel));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || parts[0].StartsWith(RestorePrefix, StringComparison.Ordinal))
        {
            throw new RestorePathException(at, name, root, "lies outside the target directory (or in its restore staging area); expected a relative path inside it");
        }

        return rel;
    }

    /// <summary>Refuses when a folder between <paramref name="baseDir"/> and the file, or the file itself, is a symbolic link (or
    /// another reparse point): writing through it would land outside the target.</summary>
    private static void RefuseLinks(string baseDir, string relative, string at, string name)
    {
        var path = baseDir;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar))
        {
            path = Path.Combine(path, part);
            FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
            if (info.Exists && (info.LinkTarget is not null || info.Attributes.HasFlag(FileAttributes.ReparsePoint)))
            {
                throw new RestorePathException(at, name, baseDir, $"would be written through the symbolic link '{path}'; expected real folders inside the target directory");
            }
        }
    }

    private static string MoveIntoPlace(string root, string staging, string relative, string at)
    {
        var final = Path.Combine(root, relative);
        RefuseLinks(root, relative, at, relative); // before creating folders: creating through a link would make one outside
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        RefuseLinks(root, relative, at, relative); // again, right before the rename: a folder swapped for a link since is caught here
        File.Move(Path.Combine(staging, relative), final, overwrite: true);
        return final;
    }

    /// <summary>Finishes restores into <paramref name="root"/> that crashed between renames (their journal names the staged files) and
    /// removes the staging of ones that crashed before (no journal: the target was never touched).</summary>
    internal static void RecoverRestores(string root)
    {
        foreach (var journal in Directory.GetFiles(root, RestorePrefix + "*" + JournalSuffix))
        {
            var id = Path.GetFileName(journal)[RestorePrefix.Length..^JournalSuffix.Length];
            var staging = Path.Combine(root, RestorePrefix + id + AtomicFile.TempSuffix);
            var relatives = JsonSerializer.Deserialize<string[]>(File.ReadAllBytes(journal), Json) ?? [];
            foreach (var rel in relatives)
            {
                var at = $"the interrupted restore {id}";
                var checkedRel = SafeRelative(rel.Replace(Path.DirectorySeparatorChar, '/'), root, at);
                if (File.Exists(Path.Combine(staging, checkedRel)))
                {
                    MoveIntoPlace(root, staging, checkedRel, at);
                }
            }

            TryDeleteDirectory(staging);
            File.Delete(journal);
        }

        foreach (var staging in Directory.GetDirectories(root, RestorePrefix + "*" + AtomicFile.TempSuffix))
        {
            // Without a journal the restore never touched the target; one younger than this may be another process's, in flight.
            if (Directory.GetLastWriteTimeUtc(staging) < DateTime.UtcNow - StaleStaging)
            {
                TryDeleteDirectory(staging);
            }
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next restore into this target removes it.
        }
    }

    public async Task<DatasetGcResult> CollectGarbageAsync(TimeSpan? minimumAge = null, CancellationToken cancellationToken = default)
    {
        var age = minimumAge ?? TimeSpan.FromHours(1);
        if (age < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(minimumAge), age, "minimumAge must not be negative.");
        }

        var cutoff = time.GetUtcNow().UtcDateTime - age;
        long objects = 0, temps = 0, bytes = 0;
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var referenced = new HashSet<string>(StringComparer.Ordinal);
            var datasets = Path.Combine(Root, "datasets");
            if (Directory.Exists(datasets))
            {
                foreach (var manifest in Directory.GetFiles(datasets, "*.json", SearchOption.AllDirectories))
                {
                    if (Path.GetFileName(Path.GetDirectoryName(manifest)) != "manifests" || Path.GetFileName(manifest).StartsWith('.'))
                    {
                        continue;
                    }

                    // A manifest that cannot be read keeps everything: deleting objects it might name would lose data.
                    var v = JsonSerializer.Deserialize<DatasetVersion>(await File.ReadAllBytesAsync(manifest, cancellationToken).ConfigureAwait(false), Json)
                        ?? throw new InvalidDataException($"Manifest '{manifest}' is empty; garbage collection stopped, nothing removed.");
                    referenced.UnionWith(v.Files.Select(f => f.Sha256));
                }
            }

            if (!Directory.Exists(Root))
            {
                return new DatasetGcResult(0, 0, 0);
            }

            foreach (var file in Directory.GetFiles(Root, "*", SearchOption.AllDirectories))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var info = new FileInfo(file);
                if (info.LastWriteTimeUtc > cutoff)
                {
                    continue; // young: may belong to a snapshot in flight
                }

                var isTemp = info.Name.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal) && info.Name.StartsWith('.');
                var rel = Path.GetRelativePath(Path.Combine(Root, "objects"), file).Split(Path.DirectorySeparatorChar);
                var isOrphan = !isTemp && rel is [{ Length: 2 } a, { } b] && a != ".." && !referenced.Contains(a + b);
                if (isTemp || isOrphan)
                {
                    bytes += info.Length;
                    info.Delete();
                    _ = isTemp ? temps++ : objects++;
                }
            }
        }
        finally
        {
            _lock.Release();
        }

        return new DatasetGcResult(objects, temps, bytes);
    }

    public async Task<DatasetDiff> DiffAsync(string dataset, string fromVersion, string toVersion, CancellationToken cancellationToken = default)
    {
        var a = await GetAsync(dataset, fromVersion, cancellationToken).ConfigureAwait(false) ?? throw new KeyNotFoundException($"Dataset '{dataset}' has no version or tag '{fromVersion}'.");
        var b = await GetAsync(dataset, toVersion, cancellationToken).ConfigureAwait(false) ?? throw new KeyNotFoundException($"Dataset '{dataset}' has no version or tag '{toVersion}'.");
        return DatasetDiff.Compute(a, b);
    }
}
