using AiOps.Alerts;

namespace AiOps.Monitoring.Alerts;

/// <summary>
/// Evaluates the alert rules (<see cref="AlertRuleOptions"/>) over the per-version store, the accuracy and drift
/// providers and the GPU telemetry. A background service calls <see cref="EvaluateAsync"/> every
/// <see cref="AlertRuleOptions.EvaluationInterval"/>; tests call it directly after advancing fake time. An alert fires
/// once its condition has held for the rule's <c>for</c> duration and resolves at the first evaluation where it no
/// longer holds; both transitions are published through <see cref="IAlertPublisher"/> with the incident priority set.
/// </summary>
public interface IAlertEvaluator
{
    /// <summary>The alerts firing now.</summary>
    IReadOnlyList<AlertEvent> Firing { get; }

    /// <summary>Evaluates every rule once and publishes the transitions.</summary>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The events published by this evaluation (firing and resolved).</returns>
    ValueTask<IReadOnlyList<AlertEvent>> EvaluateAsync(CancellationToken cancellationToken = default);
}
