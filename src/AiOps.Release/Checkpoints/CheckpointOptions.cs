namespace AiOps.Release.Checkpoints;

/// <summary>What <see cref="ICheckpointManager.SaveAsync"/> does when <see cref="CheckpointOptions.MaxPendingSaves"/> saves are already pending.</summary>
public enum CheckpointQueueFullMode
{
    /// <summary>Wait (asynchronously) until a pending save commits and frees a slot. The training loop slows down instead of losing a checkpoint.</summary>
    Wait = 0,

    /// <summary>Throw <see cref="CheckpointSaveRejectedException"/> at once; the caller decides whether to skip this checkpoint.</summary>
    Reject,
}

/// <summary>Whether a lower or a higher value of a metric is better, for <see cref="CheckpointRetentionOptions.KeepBest"/>.</summary>
public enum MetricGoal
{
    /// <summary>Lower is better (loss, error rate).</summary>
    Minimize = 0,

    /// <summary>Higher is better (accuracy, F1).</summary>
    Maximize,
}

/// <summary>
/// Which committed checkpoints to keep after each save. The policies combine as a union: a checkpoint is kept when any
/// enabled policy keeps it. "Newest" means the highest training step (then the later commit): the wall clock never
/// orders checkpoints, so a clock stepped back cannot make retention delete newer steps. The newest checkpoint is always kept. When <see cref="KeepLatest"/>, <see cref="KeepBest"/>
/// and <see cref="KeepOnePer"/> are all off, nothing is ever deleted. Deletion happens only after the new checkpoint is
/// committed.
/// </summary>
public sealed class CheckpointRetentionOptions
{
    /// <summary>Keep the newest N checkpoints; 0 turns this policy off. Default 3.</summary>
    public int KeepLatest { get; set; } = 3;

    /// <summary>Keep the K best checkpoints by <see cref="BestMetric"/>; 0 (the default) turns this policy off.</summary>
    public int KeepBest { get; set; }

    /// <summary>The metric <see cref="KeepBest"/> ranks by (e.g. <c>val_loss</c>); checkpoints without it are not ranked.</summary>
    public string? BestMetric { get; set; }

    /// <summary>Whether lower or higher <see cref="BestMetric"/> values are better. Default <see cref="MetricGoal.Minimize"/>.</summary>
    public MetricGoal BestGoal { get; set; } = MetricGoal.Minimize;

    /// <summary>
    /// Keep the newest checkpoint (highest step) of each period of this length (e.g. one hour or one day, in UTC, aligned
    /// to the Unix epoch), the period taken from its commit time: the only policy that reads the wall clock;
    /// <see langword="null"/> (the default) turns this policy off.
    /// </summary>
    public TimeSpan? KeepOnePer { get; set; }

    /// <summary>Keep every checkpoint that has at least one tag, forever. Default <see langword="true"/>.</summary>
    public bool KeepTagged { get; set; } = true;
}

/// <summary>
/// Options of the checkpoint manager (<see cref="ICheckpointManager"/>) and of the file-system checkpoint store.
/// </summary>
public sealed class CheckpointOptions
{
    /// <summary>The configuration section bound by <c>AddAiOpsCheckpoints</c>: <c>AiOps:Release:Checkpoints</c>.</summary>
    public const string SectionName = "AiOps:Release:Checkpoints";

    /// <summary>The folder holding the checkpoints (local disk or an NFS mount). Required; created when missing.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>
    /// On Unix, write checkpoint files owner-only (0600) in owner-only folders (0700, for the folders the store creates).
    /// Default <see langword="true"/>; <see langword="false"/> keeps the process's umask (e.g. for a group-readable share).
    /// </summary>
    public bool OwnerOnlyPermissions { get; set; } = true;

    /// <summary>Make <see cref="ICheckpointManager.ShouldSave"/> true every N training steps; 0 (the default) turns this off.</summary>
    public int SaveEveryNSteps { get; set; }

    /// <summary>
    /// Make <see cref="ICheckpointManager.ShouldSave"/> true once this much time (from <see cref="TimeProvider"/>) has
    /// passed since the last save (or since start); <see langword="null"/> (the default) turns this off.
    /// </summary>
    public TimeSpan? SaveEvery { get; set; }

    /// <summary>
    /// The most saves accepted but not yet committed (each holds its content in memory). Default 2, at most 64.
    /// </summary>
    public int MaxPendingSaves { get; set; } = 2;

    /// <summary>What <see cref="ICheckpointManager.SaveAsync"/> does when the pending saves are at the limit. Default <see cref="CheckpointQueueFullMode.Wait"/>.</summary>
    public CheckpointQueueFullMode WhenFull { get; set; } = CheckpointQueueFullMode.Wait;

    /// <summary>Which checkpoints to keep.</summary>
    public CheckpointRetentionOptions Retention { get; } = new();
}
