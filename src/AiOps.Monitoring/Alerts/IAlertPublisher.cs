using AiOps.Alerts;

namespace AiOps.Monitoring.Alerts;

/// <summary>
/// Publishes alert events to every <see cref="IAlertHandler"/> registered in DI (the rollout controller, pagers, the
/// incident log). Every part of AiOps.Monitoring that raises alerts (SLO rules, GPU rules, drift, quality) goes
/// through it, so subscribers see one stream.
/// </summary>
public interface IAlertPublisher
{
    /// <summary>Hands <paramref name="alert"/> to every handler; a failing handler is logged and does not stop the others.</summary>
    /// <param name="alert">The event.</param>
    /// <param name="cancellationToken">Cancels the hand-off.</param>
    ValueTask PublishAsync(AlertEvent alert, CancellationToken cancellationToken = default);
}
