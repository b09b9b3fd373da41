namespace AiOps.State;

/// <summary>Where a rollout stands.</summary>
public enum RolloutPhase
{
    /// <summary>No rollout: all traffic on the stable version.</summary>
    Idle = 0,

    /// <summary>The canary is taking a step's share of traffic.</summary>
    Progressing,

    /// <summary>The canary became stable.</summary>
    Promoted,

    /// <summary>The canary was removed from traffic.</summary>
    RolledBack,
}

/// <summary>What the controller decided at one evaluation.</summary>
public enum RolloutAction
{
    /// <summary>Started a rollout.</summary>
    Start = 0,

    /// <summary>Stayed at the current step (hold time not over, or too little data).</summary>
    Hold,

    /// <summary>Moved to the next step.</summary>
    Advance,

    /// <summary>Made the canary stable.</summary>
    Promote,

    /// <summary>Removed the canary from traffic.</summary>
    Rollback,
}

/// <summary>One decision of the rollout controller, with its reasons and the figures behind it.</summary>
/// <param name="At">When it was made.</param>
/// <param name="Action">What was done.</param>
/// <param name="StepIndex">The step index after the decision.</param>
/// <param name="CanaryWeightPercent">The canary weight after the decision.</param>
/// <param name="Reasons">Why, in words that name the gate and the figures.</param>
public sealed record RolloutDecision(DateTimeOffset At, RolloutAction Action, int StepIndex, double CanaryWeightPercent, IReadOnlyList<string> Reasons)
{
    /// <summary>The measured figures (e.g. <c>canary_p95_ms</c>, <c>stable_error_rate</c>).</summary>
    public IReadOnlyDictionary<string, double> Figures { get; init; } = new Dictionary<string, double>();
}

/// <summary>The persisted state of one model's rollout, shared by all replicas.</summary>
/// <param name="Model">The model.</param>
/// <param name="Stable">The stable version.</param>
/// <param name="Canary">The candidate, or <see langword="null"/>.</param>
/// <param name="Phase">The phase.</param>
/// <param name="StepIndex">The current step (0-based), or -1 before the first.</param>
/// <param name="CanaryWeightPercent">The candidate's share of traffic.</param>
/// <param name="StepStartedAt">When the current step began.</param>
public sealed record RolloutState(
    ModelId Model,
    ModelVersion Stable,
    ModelVersion? Canary,
    RolloutPhase Phase,
    int StepIndex,
    double CanaryWeightPercent,
    DateTimeOffset StepStartedAt)
{
    /// <summary>A counter incremented on every write, for optimistic concurrency.</summary>
    public long Revision { get; init; }

    /// <summary>The decisions so far, oldest first.</summary>
    public IReadOnlyList<RolloutDecision> History { get; init; } = [];
}

/// <summary>
/// Persists rollout state so a restart resumes where it was, and lets several replicas share it: routers read the
/// weights, and one controller at a time (holding the lease) writes them.
/// </summary>
public interface IRolloutStateStore
{
    /// <summary>Reads the state of a model's rollout, or <see langword="null"/> when none was written.</summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<RolloutState?> GetAsync(ModelId model, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the state if the stored revision equals <paramref name="expectedRevision"/> (or nothing is stored and it
    /// is 0); the stored copy gets revision <c>expectedRevision + 1</c>.
    /// </summary>
    /// <param name="state">The new state.</param>
    /// <param name="expectedRevision">The revision the writer read.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether the write happened (false: someone else wrote first; read again).</returns>
    ValueTask<bool> TrySaveAsync(RolloutState state, long expectedRevision, CancellationToken cancellationToken = default);

    /// <summary>Tries to take or renew the controller lease for a model.</summary>
    /// <param name="model">The model.</param>
    /// <param name="owner">A unique id of the caller (e.g. host name and process id).</param>
    /// <param name="duration">How long the lease lasts unless renewed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the caller holds the lease now.</returns>
    ValueTask<bool> TryAcquireLeaseAsync(ModelId model, string owner, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Raised (on any thread) when another writer changed a model's state; handlers should re-read.</summary>
    event EventHandler<ModelId>? Changed;
}
