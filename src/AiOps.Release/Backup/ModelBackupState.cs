namespace AiOps.Release.Backup;

/// <summary>The outcome of the latest backup runs, shared by the runner, its metrics and the health check.</summary>
internal sealed class ModelBackupState(TimeProvider timeProvider)
{
    private readonly Lock _gate = new();
    private Snapshot _snapshot = new(timeProvider.GetUtcNow(), null, null, null);

    public Snapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _snapshot;
            }
        }
    }

    public void RecordSuccess(DateTimeOffset at)
    {
        lock (_gate)
        {
            _snapshot = _snapshot with { LastSuccess = at };
        }
    }

    public void RecordFailure(DateTimeOffset at, string error)
    {
        lock (_gate)
        {
            _snapshot = _snapshot with { LastFailure = at, LastError = error };
        }
    }

    /// <summary>An immutable view of the state.</summary>
    internal sealed record Snapshot(DateTimeOffset StartedAt, DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? LastError);
}
