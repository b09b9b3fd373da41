using AiOps.State;

namespace AiOps.Release.Rollout;

/// <summary>
/// Starts, evaluates and rolls back staged rollouts. The background controller calls
/// <see cref="EvaluateAsync"/> for every model each <see cref="AiOpsReleaseOptions.EvaluationInterval"/>; operators and
/// alert handlers call the others.
/// </summary>
public interface IRolloutManager
{
    /// <summary>Starts a rollout of <paramref name="candidate"/>: the canary takes the first step's weight.</summary>
    /// <param name="model">The model (configured with <c>AddModel</c>).</param>
    /// <param name="candidate">The version to roll out; it must be loaded and differ from stable.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new state.</returns>
    /// <exception cref="InvalidOperationException">A rollout is already progressing.</exception>
    /// <exception cref="ModelNotFoundException">The candidate is not loaded, or no stable version is known.</exception>
    /// <exception cref="ModelSignatureMismatchException">
    /// The candidate's inputs or outputs are not compatible with stable's (<see cref="ModelMetadata.CheckReplacement(ModelMetadata)"/>),
    /// or either signature is unknown (not loaded); nothing is written and no traffic moves.
    /// </exception>
    ValueTask<RolloutState> StartAsync(ModelId model, ModelVersion candidate, CancellationToken cancellationToken = default);

    /// <summary>
    /// Evaluates a progressing rollout once (when this replica holds the lease): judges the gates and holds, advances,
    /// promotes or rolls back. A decision that cannot be written (store unreachable) is kept and written later.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The decision, or <see langword="null"/> when there was nothing to decide (no rollout, or another replica holds the lease).</returns>
    ValueTask<RolloutDecision?> EvaluateAsync(ModelId model, CancellationToken cancellationToken = default);

    /// <summary>Rolls a progressing rollout back at once: canary weight 0, aliases restored.</summary>
    /// <param name="model">The model.</param>
    /// <param name="reason">Why, recorded in the decision.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state after the rollback, or <see langword="null"/> when no rollout was progressing.</returns>
    ValueTask<RolloutState?> RollbackAsync(ModelId model, string reason, CancellationToken cancellationToken = default);

    /// <summary>Reads the current state (the last known one when the store is unreachable).</summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask<RolloutState?> GetStateAsync(ModelId model, CancellationToken cancellationToken = default);

    /// <summary>Decisions made but not yet written to the state store (it was unreachable); they are retried.</summary>
    int PendingWrites { get; }
}
