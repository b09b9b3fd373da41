namespace AiOps.Checkpoints;

/// <summary>One file inside a committed checkpoint, with its hash as recorded in the manifest.</summary>
/// <param name="Name">The file name (no directories).</param>
/// <param name="Length">The size in bytes.</param>
/// <param name="Sha256">The SHA-256, lower-case hex.</param>
public sealed record CheckpointFile(string Name, long Length, string Sha256);

/// <summary>A committed checkpoint: its id, training step, metrics and files.</summary>
/// <param name="Id">The checkpoint id (unique within a store).</param>
/// <param name="Step">The training step it was taken at.</param>
/// <param name="CreatedAt">When it was committed.</param>
/// <param name="Files">The files and their hashes.</param>
public sealed record CheckpointInfo(string Id, long Step, DateTimeOffset CreatedAt, IReadOnlyList<CheckpointFile> Files)
{
    /// <summary>Metrics recorded with the checkpoint (loss, accuracy, …).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Tags; a tagged checkpoint can be kept forever by retention.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>What to save: the files' contents (already copied to memory, so the caller is free to go on) and metadata.</summary>
/// <param name="Step">The training step.</param>
/// <param name="Files">File name to content.</param>
public sealed record CheckpointContent(long Step, IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Files)
{
    /// <summary>Metrics to record.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Tags to record.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>
/// Durable storage of checkpoints. A save is all or nothing: a crash at any point leaves the store with the
/// checkpoints it had before, all still restorable.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Writes and commits a checkpoint.</summary>
    /// <param name="content">The files and metadata.</param>
    /// <param name="cancellationToken">Cancels the save; nothing partial is left visible.</param>
    /// <returns>The committed checkpoint.</returns>
    ValueTask<CheckpointInfo> SaveAsync(CheckpointContent content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists committed checkpoints (no hash verification), lowest training step first, then by commit time and id: the
    /// last entry is the latest step even after the wall clock stepped back.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    ValueTask<IReadOnlyList<CheckpointInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Checks every file of a checkpoint against its manifest hash.</summary>
    /// <param name="id">The checkpoint id.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns><see langword="null"/> when valid; otherwise why not.</returns>
    ValueTask<string?> VerifyAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Opens one file of a committed checkpoint for reading.</summary>
    /// <param name="id">The checkpoint id.</param>
    /// <param name="fileName">The file name.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    ValueTask<Stream> OpenReadAsync(string id, string fileName, CancellationToken cancellationToken = default);

    /// <summary>Deletes a checkpoint.</summary>
    /// <param name="id">The checkpoint id.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default);
}
