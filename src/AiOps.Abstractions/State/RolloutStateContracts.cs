using System.Text.Json.Serialization;

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

    /// <summary>An operator paused the rollout: the weights stay, the controller neither advances nor promotes (gates still roll back).</summary>
    Pause,

    /// <summary>An operator resumed a paused rollout.</summary>
    Resume,

    /// <summary>An operator aborted the rollout: canary weight 0, stable kept (the phase becomes <see cref="RolloutPhase.RolledBack"/>).</summary>
    Abort,

    /// <summary>An operator skipped the current step: the canary moved to the next step's weight at once.</summary>
    SkipStep,

    /// <summary>After a promotion, the previous stable version became stable again (by an operator or a P1 alert in the watch period).</summary>
    Undo,

    /// <summary>A person approved an approval step: the rollout may leave it once its gates pass.</summary>
    Approve,

    /// <summary>The state store was found reset (empty, or of another generation) and was re-seeded from the newest known state.</summary>
    Reseed,
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

    /// <summary>Who made the decision: an operator's name for operator actions, <see langword="null"/> for the controller.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Actor { get; init; }
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

    /// <summary>
    /// The store generation this state belongs to: a new id whenever a rollout is written to an empty store (first
    /// write, or after the store was reset). Readers accept a state of another generation whatever its revision, so a
    /// store that lost its data (revision counting again from 1) is followed; <see langword="null"/> in states written
    /// before generations existed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Epoch { get; init; }

    /// <summary>Whether an operator paused the rollout (weights kept; no advance or promotion until resumed).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Paused { get; init; }

    /// <summary>The step index a person approved (for approval steps), or <see langword="null"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ApprovedStep { get; init; }

    /// <summary>The stable version before the last promotion (the target of an undo), or <see langword="null"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ModelVersion? PreviousStable { get; init; }
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
