using System.Security.Cryptography;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Versions;

/// <summary>One file of a snapshot, addressed by its content.</summary>
/// <param name="Name">The file name as restored.</param>
/// <param name="Sha256">The SHA-256 of the content, lower-case hex.</param>
/// <param name="Length">The size in bytes.</param>
public sealed record DatasetFile(string Name, string Sha256, long Length)
{
    /// <summary>Data rows, for CSV files.</summary>
    public long? RowCount { get; init; }
}

/// <summary>A column of a snapshot's schema.</summary>
/// <param name="Name">The column.</param>
/// <param name="Type">The type inferred from its values.</param>
public sealed record SchemaColumn(string Name, ColumnType Type);

/// <summary>A dataset version: the manifest of one snapshot. <see cref="Version"/> is the SHA-256 of the manifest's content (files, schema,
/// row count, statistics), so the same data always gets the same version.</summary>
/// <param name="Dataset">The dataset.</param>
/// <param name="Version">The content hash, lower-case hex.</param>
/// <param name="CreatedAt">When it was first snapshotted.</param>
/// <param name="Files">The files, by name.</param>
public sealed record DatasetVersion(string Dataset, string Version, DateTimeOffset CreatedAt, IReadOnlyList<DatasetFile> Files)
{
    /// <summary>The schema, when the snapshot holds exactly one CSV file.</summary>
    public IReadOnlyList<SchemaColumn> Schema { get; init; } = [];

    /// <summary>Data rows over all CSV files.</summary>
    public long? RowCount { get; init; }

    /// <summary>Column statistics, when the snapshot holds exactly one CSV file.</summary>
    public IReadOnlyList<ColumnStatistics> Statistics { get; init; } = [];

    /// <summary>The validation report the data passed, if one was given.</summary>
    public ValidationReport? Report { get; init; }

    /// <summary>A free description.</summary>
    public string? Description { get; init; }

    /// <summary>The tags pointing at this version (filled when read from the store).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The reference other packages record (e.g. the dataset a model version was trained on).</summary>
    /// <param name="tag">The tag to name; default the first tag, if any.</param>
    /// <returns>The reference.</returns>
    public DatasetVersionRef ToRef(string? tag = null) => new(Dataset, Version, tag ?? (Tags.Count > 0 ? Tags[0] : null));
}

/// <summary>Options of one snapshot.</summary>
public sealed class SnapshotOptions
{
    /// <summary>A tag to point at the version, e.g. <c>data_v1.0</c>. Tags are immutable: re-using one for other data fails.</summary>
    public string? Tag { get; set; }

    /// <summary>The validation report to keep with the version.</summary>
    public ValidationReport? Report { get; set; }

    /// <summary>A free description.</summary>
    public string? Description { get; set; }

    /// <summary>Declared PII columns (e.g. the keys of <c>IngestOptions.MaskColumns</c>): their numeric statistics (min, max, mean,
    /// deviation) are withheld from the manifest, whatever the stored file holds. Columns of the kept <see cref="Report"/> that the
    /// gate masked are withheld there already.</summary>
    public ISet<string> PiiColumns { get; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>A column whose inferred type changed.</summary>
/// <param name="Column">The column.</param>
/// <param name="From">The old type.</param>
/// <param name="To">The new type.</param>
public sealed record ColumnTypeChange(string Column, ColumnType From, ColumnType To);

/// <summary>A statistic of a column that differs between two versions.</summary>
/// <param name="Column">The column (<c>*</c> for the row count).</param>
/// <param name="Statistic">count, nulls, completeness, mean, stddev, min, max, distinct or rows.</param>
/// <param name="From">The old value.</param>
/// <param name="To">The new value.</param>
public sealed record StatisticChange(string Column, string Statistic, double? From, double? To)
{
    /// <summary>(To − From) / |From|, when both exist and From is not 0.</summary>
    public double? RelativeChange => From is { } f && To is { } t && f != 0 ? (t - f) / Math.Abs(f) : null;
}

/// <summary>A file whose content (same SHA-256) is at another path in the newer version, the old path gone.</summary>
/// <param name="From">The path in the older version.</param>
/// <param name="To">The path in the newer version.</param>
/// <param name="Sha256">The content's hash.</param>
public sealed record FileRename(string From, string To, string Sha256)
{
    /// <summary>Whether the file changed folder (a move) rather than only its name in the same folder (a rename).</summary>
    public bool IsMove => Folder(From) != Folder(To);

    private static string Folder(string name) => name.LastIndexOf('/') is var i and >= 0 ? name[..i] : string.Empty;
}

/// <summary>What changed between two versions of a dataset: schema, statistics and files.</summary>
/// <param name="Dataset">The dataset.</param>
/// <param name="From">The older version.</param>
/// <param name="To">The newer version.</param>
public sealed record DatasetDiff(string Dataset, string From, string To)
{
    /// <summary>Columns only in <see cref="To"/>.</summary>
    public IReadOnlyList<string> AddedColumns { get; init; } = [];

    /// <summary>Columns only in <see cref="From"/>.</summary>
    public IReadOnlyList<string> RemovedColumns { get; init; } = [];

    /// <summary>Columns whose type changed.</summary>
    public IReadOnlyList<ColumnTypeChange> TypeChanges { get; init; } = [];

    /// <summary>Statistics that differ (the row count first, as column <c>*</c>).</summary>
    public IReadOnlyList<StatisticChange> StatisticChanges { get; init; } = [];

    /// <summary>Files only in <see cref="To"/> (not a rename or move of a file of <see cref="From"/>).</summary>
    public IReadOnlyList<string> AddedFiles { get; init; } = [];

    /// <summary>Files only in <see cref="From"/> (not renamed or moved).</summary>
    public IReadOnlyList<string> RemovedFiles { get; init; } = [];

    /// <summary>Files in both whose content differs (modified in place).</summary>
    public IReadOnlyList<string> ChangedFiles { get; init; } = [];

    /// <summary>Files whose content is now under another name in the same folder (same SHA-256, the old path gone, the new one new).</summary>
    public IReadOnlyList<FileRename> RenamedFiles { get; init; } = [];

    /// <summary>Files whose content is now in another folder (same SHA-256, the old path gone, the new one new), renamed or not.</summary>
    public IReadOnlyList<FileRename> MovedFiles { get; init; } = [];

    /// <summary>Whether any file was added, removed, modified, renamed or moved.</summary>
    public bool FilesChanged => AddedFiles.Count + RemovedFiles.Count + ChangedFiles.Count + RenamedFiles.Count + MovedFiles.Count > 0;

    /// <summary>Whether columns were added, removed or changed type.</summary>
    public bool SchemaChanged => AddedColumns.Count + RemovedColumns.Count + TypeChanges.Count > 0;

    /// <summary>Compares two versions.</summary>
    /// <param name="from">The older version.</param>
    /// <param name="to">The newer version.</param>
    /// <returns>The differences.</returns>
    public static DatasetDiff Compute(DatasetVersion from, DatasetVersion to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var a = from.Schema.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var b = to.Schema.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var stats = new List<StatisticChange>();
        if (from.RowCount != to.RowCount)
        {
            stats.Add(new StatisticChange("*", "rows", from.RowCount, to.RowCount));
        }

        var sa = from.Statistics.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var s2 in to.Statistics)
        {
            if (!sa.TryGetValue(s2.Name, out var s1))
            {
                continue;
            }

            void Cmp(string stat, double? x, double? y)
            {
                if (x != y)
                {
                    stats.Add(new StatisticChange(s2.Name, stat, x, y));
                }
            }

            Cmp("count", s1.Count, s2.Count);
            Cmp("nulls", s1.Nulls, s2.Nulls);
            Cmp("completeness", s1.Completeness, s2.Completeness);
            Cmp("mean", s1.Mean, s2.Mean);
            Cmp("stddev", s1.StdDev, s2.StdDev);
            Cmp("min", s1.Min, s2.Min);
            Cmp("max", s1.Max, s2.Max);
            Cmp("distinct", s1.DistinctEstimate, s2.DistinctEstimate);
        }

        var fa = from.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var fb = to.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var (renamed, moved, removed, added) = MatchRenames(
            [.. from.Files.Where(f => !fb.ContainsKey(f.Name))], [.. to.Files.Where(f => !fa.ContainsKey(f.Name))]);
        return new DatasetDiff(to.Dataset, from.Version, to.Version)
        {
            AddedColumns = to.Schema.Where(c => !a.ContainsKey(c.Name)).Select(c => c.Name).ToArray(),
            RemovedColumns = from.Schema.Where(c => !b.ContainsKey(c.Name)).Select(c => c.Name).ToArray(),
            TypeChanges = to.Schema.Where(c => a.TryGetValue(c.Name, out var old) && old.Type != c.Type)
                .Select(c => new ColumnTypeChange(c.Name, a[c.Name].Type, c.Type)).ToArray(),
            StatisticChanges = stats,
            AddedFiles = added,
            RemovedFiles = removed,
            ChangedFiles = fb.Values.Where(f => fa.TryGetValue(f.Name, out var old) && old.Sha256 != f.Sha256).Select(f => f.Name).Order(StringComparer.Ordinal).ToArray(),
            RenamedFiles = renamed,
            MovedFiles = moved,
        };
    }

    /// <summary>Pairs files that left a path (<paramref name="gone"/>) with files that arrived at one (<paramref name="arrived"/>) by content
    /// hash. With several candidates of one content, a file keeps its name if it can (a move), else its folder (a rename), else the
    /// pairs go in name order; the rest stay removed or added. Empty files are never paired: all empty files share one hash.</summary>
    private static (FileRename[] Renamed, FileRename[] Moved, string[] Removed, string[] Added) MatchRenames(List<DatasetFile> gone, List<DatasetFile> arrived)
    {
        static string Folder(string name) => name.LastIndexOf('/') is var i and >= 0 ? name[..i] : string.Empty;
        static string Leaf(string name) => name[(name.LastIndexOf('/') + 1)..];
        var pairs = new List<FileRename>();
        var left = gone.Where(f => f.Length > 0).GroupBy(f => f.Sha256, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(f => f.Name, StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var pairedFrom = new HashSet<string>(StringComparer.Ordinal);
        var pairedTo = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pass in new Func<DatasetFile, DatasetFile, bool>[] { (a, b) => Leaf(a.Name) == Leaf(b.Name), (a, b) => Folder(a.Name) == Folder(b.Name), (_, _) => true })
        {
            foreach (var b in arrived.Where(f => f.Length > 0 && !pairedTo.Contains(f.Name)).OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                if (left.TryGetValue(b.Sha256, out var candidates) && candidates.Find(a => pass(a, b)) is { } a)
                {
                    candidates.Remove(a);
                    pairedFrom.Add(a.Name);
                    pairedTo.Add(b.Name);
                    pairs.Add(new FileRename(a.Name, b.Name, b.Sha256));
                }
            }
        }

        pairs.Sort((x, y) => StringComparer.Ordinal.Compare(x.From, y.From));
        return (
            [.. pairs.Where(p => !p.IsMove)],
            [.. pairs.Where(p => p.IsMove)],
            [.. gone.Select(f => f.Name).Where(n => !pairedFrom.Contains(n)).Order(StringComparer.Ordinal)],
            [.. arrived.Select(f => f.Name).Where(n => !pairedTo.Contains(n)).Order(StringComparer.Ordinal)]);
    }
}

/// <summary>A content-addressed store of dataset versions (DVC-style): each file is kept once under its SHA-256, each version is a
/// manifest, tags name versions. Every file is written atomically (temp file, flush, rename).</summary>
/// <example>
/// <code>
/// var v1 = await store.SnapshotAsync("training", "data/train.admitted.csv", new SnapshotOptions { Tag = "data_v1.0", Report = report });
/// var same = await store.GetAsync("training", "data_v1.0");
/// var diff = await store.DiffAsync("training", "data_v1.0", "data_v1.1");
/// </code>
/// </example>
public interface IDatasetStore
{
    /// <summary>Snapshots a file, or every file under a directory, sub-directories included (each named by its relative path with
    /// <c>/</c> separators, restored into the same sub-directories). A file unchanged since it was last snapshotted (same length,
    /// last-write and creation times) whose object is stored is not read or hashed again.</summary>
    /// <param name="dataset">The dataset name (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>).</param>
    /// <param name="path">A file or a directory.</param>
    /// <param name="options">Tag, report, description.</param>
    /// <param name="cancellationToken">Stops the snapshot; nothing is published.</param>
    /// <returns>The version (an existing one when the content is unchanged).</returns>
    Task<DatasetVersion> SnapshotAsync(string dataset, string path, SnapshotOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Snapshots several files (their names must differ).</summary>
    /// <param name="dataset">The dataset name.</param>
    /// <param name="files">The files.</param>
    /// <param name="options">Tag, report, description.</param>
    /// <param name="cancellationToken">Stops the snapshot; nothing is published.</param>
    /// <returns>The version.</returns>
    Task<DatasetVersion> SnapshotAsync(string dataset, IReadOnlyList<string> files, SnapshotOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Finds a version by tag or by version hash (a unique prefix of at least 8 characters is enough).</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="tagOrVersion">A tag or a version.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The version, or <see langword="null"/>.</returns>
    Task<DatasetVersion?> GetAsync(string dataset, string tagOrVersion, CancellationToken cancellationToken = default);

    /// <summary>Lists the versions of a dataset, oldest first.</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The versions.</returns>
    Task<IReadOnlyList<DatasetVersion>> ListAsync(string dataset, CancellationToken cancellationToken = default);

    /// <summary>Points a tag at a version.</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="tagOrVersion">The version (or an existing tag).</param>
    /// <param name="tag">The new tag.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">The tag already names another version.</exception>
    /// <exception cref="KeyNotFoundException">No such version.</exception>
    Task TagAsync(string dataset, string tagOrVersion, string tag, CancellationToken cancellationToken = default);

    /// <summary>Copies a version's files into <paramref name="targetDirectory"/>, checking each hash, all or nothing: the files are staged in
    /// a temporary folder inside the target and renamed into place only once every one is complete and verified, so a failure,
    /// cancellation or crash while copying leaves the target as it was (a crash between the final renames is finished by the next
    /// restore into the same target). Files of the target that the version does not name are left alone.</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="tagOrVersion">A tag or a version.</param>
    /// <param name="targetDirectory">Where to write the files.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="KeyNotFoundException">No such version.</exception>
    /// <exception cref="InvalidDataException">A stored file no longer matches its hash.</exception>
    /// <exception cref="RestorePathException">A file would land outside the target: the manifest names an absolute path or one with
    /// <c>..</c>, or a folder on the way is a symbolic link (also when swapped in during the restore). Nothing is written outside.</exception>
    Task<IReadOnlyList<string>> RestoreAsync(string dataset, string tagOrVersion, string targetDirectory, CancellationToken cancellationToken = default);

    /// <summary>Compares two versions (schema, statistics, files): files are added, removed, modified in place, renamed (same content,
    /// new name in the same folder) or moved (same content, another folder).</summary>
    /// <param name="dataset">The dataset.</param>
    /// <param name="fromVersion">The older tag or version.</param>
    /// <param name="toVersion">The newer tag or version.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The differences.</returns>
    /// <exception cref="KeyNotFoundException">A version does not exist.</exception>
    Task<DatasetDiff> DiffAsync(string dataset, string fromVersion, string toVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes what no version needs: stored objects that no manifest of any dataset names (left by a crashed or cancelled
    /// snapshot) and temporary files of interrupted writes. Only files older than <paramref name="minimumAge"/> are touched, so a
    /// snapshot in flight keeps its objects.</summary>
    /// <param name="minimumAge">How old a file must be to be removed; default one hour.</param>
    /// <param name="cancellationToken">Stops the collection (what was removed stays removed).</param>
    /// <returns>What was removed.</returns>
    /// <exception cref="InvalidDataException">A manifest cannot be read: nothing is removed after it.</exception>
    /// <exception cref="NotSupportedException">The store does not collect garbage (the default for other implementations).</exception>
    Task<DatasetGcResult> CollectGarbageAsync(TimeSpan? minimumAge = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not collect garbage.");
}

/// <summary>A restore refused a file whose path would leave the target directory (an absolute or <c>..</c> name in the manifest, or a
/// symbolic link on the way); nothing was written outside the target.</summary>
public sealed class RestorePathException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="version">The dataset and version (<c>training@3f2a…</c>).</param>
    /// <param name="fileName">The file's name as the manifest gives it.</param>
    /// <param name="targetDirectory">The target directory.</param>
    /// <param name="problem">What is wrong with the path and what was expected.</param>
    public RestorePathException(string version, string fileName, string targetDirectory, string problem)
        : base($"{version}: file '{fileName}' {problem} ('{targetDirectory}').")
    {
        FileName = fileName;
        TargetDirectory = targetDirectory;
    }

    /// <summary>The file's name as the manifest gives it.</summary>
    public string FileName { get; }

    /// <summary>The target directory of the restore.</summary>
    public string TargetDirectory { get; }
}

/// <summary>What <see cref="IDatasetStore.CollectGarbageAsync"/> removed.</summary>
/// <param name="ObjectsRemoved">Stored objects no version named.</param>
/// <param name="TempFilesRemoved">Temporary files of interrupted writes.</param>
/// <param name="BytesFreed">Their total size.</param>
public sealed record DatasetGcResult(long ObjectsRemoved, long TempFilesRemoved, long BytesFreed);

/// <summary>SHA-256 of files, incremental over 1 MiB reads (runs at the speed of <c>sha256sum</c>).</summary>
internal static class ContentHasher
{
    internal const int BufferSize = 1 << 20;

    /// <summary>Hashes a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The SHA-256, lower-case hex.</returns>
    public static async Task<string> Sha256FileAsync(string path, CancellationToken cancellationToken = default)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await Sha256Async(stream, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hashes a stream, optionally copying it to <paramref name="copyTo"/> in the same read.</summary>
    internal static async Task<string> Sha256Async(Stream source, Stream? copyTo, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                if (copyTo is not null)
                {
                    await copyTo.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
