using AiOps.Checkpoints;

namespace AiOps.Release.Checkpoints;

/// <summary>
/// Takes checkpoints during training without stalling it, keeps the ones retention asks for, and restores the latest
/// valid one. Registered by <c>services.AddAiOpsCheckpoints(o =&gt; o.Directory = "checkpoints")</c>.
/// </summary>
/// <example>
/// A training loop that saves every 100 steps and restores after a restart:
/// <code>
/// var checkpoints = host.Services.GetRequiredService&lt;ICheckpointManager&gt;();
/// var restored = await checkpoints.RestoreLatestAsync();          // null on the first run
/// var weights = restored is null ? new byte[1024] : await restored.ReadAllBytesAsync("weights.bin");
/// for (long step = (restored?.Checkpoint.Step ?? 0) + 1; step &lt;= 1000; step++)
/// {
///     var loss = Train(weights);
///     if (checkpoints.ShouldSave(step))
///     {
///         // The only cost to the loop: the copy of the weights (weights.ToArray()); the write runs in the background.
///         await checkpoints.SaveAsync(new CheckpointContent(step, new Dictionary&lt;string, ReadOnlyMemory&lt;byte&gt;&gt; { ["weights.bin"] = weights.ToArray() })
///         {
///             Metrics = new Dictionary&lt;string, double&gt; { ["loss"] = loss },
///         });
///     }
/// }
///
/// await checkpoints.FlushAsync();                                 // wait for pending saves; throws if one failed
/// </code>
/// </example>
public interface ICheckpointManager
{
    /// <summary>The store the checkpoints are written to.</summary>
    ICheckpointStore Store { get; }

    /// <summary>The saves accepted but not yet committed.</summary>
    int PendingSaves { get; }

    /// <summary>
    /// Whether a checkpoint is due at <paramref name="trainingStep"/>: every <see cref="CheckpointOptions.SaveEveryNSteps"/>
    /// steps, or once <see cref="CheckpointOptions.SaveEvery"/> has passed since the last save.
    /// </summary>
    /// <param name="trainingStep">The current training step.</param>
    bool ShouldSave(long trainingStep);

    /// <summary>
    /// Queues a checkpoint and returns once it is accepted; the write, hashing, commit and retention run in the
    /// background. The content's memory must not be changed until <see cref="PendingCheckpoint.Committed"/> completes,
    /// so pass a copy. When <see cref="CheckpointOptions.MaxPendingSaves"/> saves are pending this waits for a slot, or
    /// throws <see cref="CheckpointSaveRejectedException"/> with <see cref="CheckpointQueueFullMode.Reject"/>.
    /// </summary>
    /// <param name="content">The files, step, metrics and tags.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot (not a save already accepted).</param>
    /// <returns>The accepted save, whose <see cref="PendingCheckpoint.Committed"/> completes when it is durable.</returns>
    ValueTask<PendingCheckpoint> SaveAsync(CheckpointContent content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for every save accepted so far to commit. Throws the first failure among them (for example a
    /// <see cref="CheckpointStorageException"/> for a full disk) once; later flushes do not repeat it.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the saves go on).</param>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds the newest committed checkpoint (highest step, whatever the wall clock said when it was saved) whose files
    /// all match their SHA-256, after waiting for pending saves.
    /// Corrupt or partial checkpoints are skipped with a warning naming them and listed in
    /// <see cref="RestoredCheckpoint.Skipped"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>The checkpoint to resume from, or <see langword="null"/> when there is no valid one.</returns>
    ValueTask<RestoredCheckpoint?> RestoreLatestAsync(CancellationToken cancellationToken = default);
}

/// <summary>A save accepted by <see cref="ICheckpointManager.SaveAsync"/>.</summary>
public sealed class PendingCheckpoint
{
    internal PendingCheckpoint(long step, Task<CheckpointInfo> committed)
    {
        Step = step;
        Committed = committed;
    }

    /// <summary>The training step of the checkpoint.</summary>
    public long Step { get; }

    /// <summary>Completes with the committed checkpoint, or faults with why it was not saved.</summary>
    public Task<CheckpointInfo> Committed { get; }
}

/// <summary>A checkpoint that was skipped on restore.</summary>
/// <param name="Id">The checkpoint id.</param>
/// <param name="Reason">Why (which file is corrupt or missing).</param>
public sealed record SkippedCheckpoint(string Id, string Reason);

/// <summary>The checkpoint <see cref="ICheckpointManager.RestoreLatestAsync"/> found, verified against its hashes.</summary>
public sealed class RestoredCheckpoint
{
    private readonly ICheckpointStore _store;

    internal RestoredCheckpoint(ICheckpointStore store, CheckpointInfo checkpoint, IReadOnlyList<SkippedCheckpoint> skipped)
    {
        _store = store;
        Checkpoint = checkpoint;
        Skipped = skipped;
    }

    /// <summary>The checkpoint: id, step, metrics, tags and files.</summary>
    public CheckpointInfo Checkpoint { get; }

    /// <summary>Newer checkpoints that were corrupt and skipped, newest first.</summary>
    public IReadOnlyList<SkippedCheckpoint> Skipped { get; }

    /// <summary>Opens one of its files for reading.</summary>
    /// <param name="fileName">The file name, as given when saving.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    public ValueTask<Stream> OpenReadAsync(string fileName, CancellationToken cancellationToken = default) =>
        _store.OpenReadAsync(Checkpoint.Id, fileName, cancellationToken);

    /// <summary>Reads one of its files into memory.</summary>
    /// <param name="fileName">The file name, as given when saving.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async ValueTask<byte[]> ReadAllBytesAsync(string fileName, CancellationToken cancellationToken = default)
    {
        var stream = await OpenReadAsync(fileName, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[stream.Length];
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer;
        }
    }
}
