namespace AiOps.Release.Checkpoints;

/// <summary>Why a checkpoint could not be written or read.</summary>
public enum CheckpointStorageFailure
{
    /// <summary>Another I/O error.</summary>
    IoError = 0,

    /// <summary>The disk (or the quota) is full.</summary>
    DiskFull,

    /// <summary>The process may not write or read the path.</summary>
    PermissionDenied,

    /// <summary>The file system is mounted read-only.</summary>
    ReadOnlyFileSystem,
}

/// <summary>
/// A checkpoint could not be saved because of the storage (disk full, permission denied, …). Nothing partial is left
/// behind and the checkpoints committed before are intact; <see cref="Path"/> says where it failed.
/// </summary>
public sealed class CheckpointStorageException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failure">Why it failed.</param>
    /// <param name="path">The file or folder that could not be written.</param>
    /// <param name="message">What happened, where, and what to do.</param>
    /// <param name="innerException">The underlying I/O error.</param>
    public CheckpointStorageException(CheckpointStorageFailure failure, string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        Path = path;
    }

    /// <summary>Why it failed.</summary>
    public CheckpointStorageFailure Failure { get; }

    /// <summary>The file or folder that could not be written.</summary>
    public string Path { get; }
}

/// <summary>
/// A save was refused because <see cref="CheckpointOptions.MaxPendingSaves"/> saves are pending and
/// <see cref="CheckpointOptions.WhenFull"/> is <see cref="CheckpointQueueFullMode.Reject"/>. Transient.
/// </summary>
public sealed class CheckpointSaveRejectedException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the save was refused.</param>
    public CheckpointSaveRejectedException(string message)
        : base(message)
    {
    }
}

/// <summary>No committed checkpoint has the requested id (or it has no such file).</summary>
public sealed class CheckpointNotFoundException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="id">The id asked for.</param>
    /// <param name="message">What was asked for and what exists.</param>
    public CheckpointNotFoundException(string id, string message)
        : base(message) => Id = id;

    /// <summary>The id asked for.</summary>
    public string Id { get; }
}
