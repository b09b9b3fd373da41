using AiOps.State;

namespace AiOps.Release.Rollout;

/// <summary>
/// Starts, evaluates and rolls back staged rollouts. The background controller calls
/// <see cref="EvaluateAsync"/> for every model each <see cref="AiOpsReleaseOptions.EvaluationInterval"/>; alert handlers
/// call <see cref="RollbackAsync"/> and <see cref="UndoAsync"/>; operators call the others (each action is recorded in
/// the history with who and why). A store found reset (empty) is re-seeded from the newest known state before an action.
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
    /// Starts a rollout of <paramref name="candidate"/> on a person's decision: as <see cref="StartAsync(ModelId, ModelVersion, CancellationToken)"/>,
    /// and the start is recorded in the history with who (<see cref="RolloutDecision.Actor"/>) and why.
    /// </summary>
    /// <param name="model">The model (configured with <c>AddModel</c>).</param>
    /// <param name="candidate">The version to roll out; it must be loaded and differ from stable.</param>
    /// <param name="actor">Who started it (recorded in the history).</param>
    /// <param name="reason">Why (recorded in the history), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new state.</returns>
    /// <exception cref="ArgumentException"><paramref name="actor"/> is empty, or the candidate is already stable.</exception>
    /// <exception cref="InvalidOperationException">A rollout is already progressing.</exception>
    /// <exception cref="ModelNotFoundException">The candidate is not loaded, or no stable version is known.</exception>
    /// <exception cref="ModelSignatureMismatchException">The candidate's signature is not compatible with stable's; nothing is written.</exception>
    ValueTask<RolloutState> StartAsync(ModelId model, ModelVersion candidate, string actor, string? reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Evaluates a progressing rollout once (when this replica holds the lease): judges the gates and holds, advances,
    /// promotes or rolls back. A decision that cannot be written (store unreachable) is kept and written later.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The decision, or <see langword="null"/> when there was nothing to decide (no rollout, or another replica holds the lease).</returns>
    ValueTask<RolloutDecision?> EvaluateAsync(ModelId model, CancellationToken cancellationToken = default);

    /// <summary>
    /// Rolls a progressing rollout back at once (automatic: alert handlers, the controller): canary weight 0, aliases
    /// restored. Like every automatic write it needs the controller lease: on a replica that does not hold it, nothing
    /// is written and <see langword="null"/> is returned (the holder decides). People use <see cref="AbortAsync"/>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="reason">Why, recorded in the decision.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state after the rollback, or <see langword="null"/> when no rollout was progressing or another replica holds the lease.</returns>
    ValueTask<RolloutState?> RollbackAsync(ModelId model, string reason, CancellationToken cancellationToken = default);

    /// <summary>Promotes the canary at once, skipping the remaining steps (an operator's decision; the gates are not consulted).</summary>
    /// <param name="model">The model.</param>
    /// <param name="actor">Who decided (recorded in the history).</param>
    /// <param name="reason">Why (recorded in the history).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The state after the promotion.</returns>
    /// <exception cref="InvalidOperationException">No rollout is progressing.</exception>
    ValueTask<RolloutState> PromoteAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Pauses a progressing rollout: the weights stay; the controller neither advances nor promotes (failing gates still roll back).</summary>
    /// <inheritdoc cref="PromoteAsync" path="/param"/>
    /// <returns>The paused state.</returns>
    /// <exception cref="InvalidOperationException">No rollout is progressing.</exception>
    ValueTask<RolloutState> PauseAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused rollout; the current step's hold time counts from its start as before.</summary>
    /// <inheritdoc cref="PromoteAsync" path="/param"/>
    /// <returns>The resumed state.</returns>
    /// <exception cref="InvalidOperationException">No rollout is progressing.</exception>
    ValueTask<RolloutState> ResumeAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Aborts a progressing rollout: canary weight 0, stable kept, phase <see cref="RolloutPhase.RolledBack"/>, action <see cref="RolloutAction.Abort"/>.</summary>
    /// <inheritdoc cref="PromoteAsync" path="/param"/>
    /// <returns>The state after the abort.</returns>
    /// <exception cref="InvalidOperationException">No rollout is progressing.</exception>
    ValueTask<RolloutState> AbortAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Moves the canary to the next step's weight at once (at the last step: promotes it).</summary>
    /// <inheritdoc cref="PromoteAsync" path="/param"/>
    /// <returns>The state after the step.</returns>
    /// <exception cref="InvalidOperationException">No rollout is progressing.</exception>
    ValueTask<RolloutState> SkipStepAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Undoes the last promotion: the previous stable version serves all traffic again (phase
    /// <see cref="RolloutPhase.RolledBack"/>, action <see cref="RolloutAction.Undo"/>). Also done by a P1 alert on the new
    /// stable version within <see cref="ModelReleaseOptions.UndoWatchPeriod"/> of the promotion.
    /// </summary>
    /// <inheritdoc cref="PromoteAsync" path="/param"/>
    /// <returns>The state after the undo.</returns>
    /// <exception cref="InvalidOperationException">The last rollout was not promoted (nothing to undo).</exception>
    ValueTask<RolloutState> UndoAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Approves the current step (see <see cref="ModelReleaseOptions.ApprovalSteps"/>): the canary leaves it once its hold time is over and its gates pass.</summary>
    /// <inheritdoc cref="PromoteAsync" path="/param"/>
    /// <returns>The state with the approval.</returns>
    /// <exception cref="InvalidOperationException">No rollout is progressing.</exception>
    ValueTask<RolloutState> ApproveAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default);

    /// <summary>Reads the current state (the last known one when the store is unreachable).</summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask<RolloutState?> GetStateAsync(ModelId model, CancellationToken cancellationToken = default);

    /// <summary>Decisions made but not yet written to the state store (it was unreachable); they are retried.</summary>
    int PendingWrites { get; }
}
