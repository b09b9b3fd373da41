using System.Globalization;
using AiOps.Alerts;
using AiOps.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Rollout;

/// <summary>
/// "Roll back first": a P1 alert for any version of a model with a progressing rollout rolls it back at once; a P1
/// alert on the stable version within <see cref="ModelReleaseOptions.UndoWatchPeriod"/> of its promotion undoes the
/// promotion (the previous stable serves again).
/// </summary>
internal sealed class ReleaseAlertHandler(
    IRolloutManager manager,
    IEnumerable<ReleaseModelRegistration> models,
    IOptionsMonitor<ModelReleaseOptions> options,
    TimeProvider time,
    ILogger<ReleaseAlertHandler> logger) : IAlertHandler
{
    /// <summary>The actor recorded for an undo triggered by an alert.</summary>
    public const string Actor = "p1-alert";

    private readonly HashSet<ModelId> _models = [.. models.Select(m => m.Model)];

    public async ValueTask HandleAsync(AlertEvent alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert is not { State: AlertState.Firing, Priority: IncidentPriority.P1, Key: { } key } || !_models.Contains(key.Model))
        {
            return;
        }

        var reason = string.Create(
            CultureInfo.InvariantCulture,
            $"p1_alert: {alert.Rule} fired at {alert.At:O} for {key}: {alert.Message}{(alert.Value is { } v ? $" (value {v}, threshold {alert.Threshold})" : string.Empty)}");
        var current = await manager.GetStateAsync(key.Model, cancellationToken).ConfigureAwait(false);
        if (current is { Phase: RolloutPhase.Promoted, PreviousStable: not null } && current.Stable == key.Version)
        {
            var watch = options.Get(key.Model.Value).UndoWatchPeriod;
            if (watch > TimeSpan.Zero && time.GetUtcNow() - current.StepStartedAt <= watch)
            {
                try
                {
                    await manager.UndoAsync(key.Model, Actor, reason, cancellationToken).ConfigureAwait(false);
                    logger.LogWarning("Undid the promotion of {Model}:{Version} on P1 alert {Rule}.", key.Model, key.Version, alert.Rule);
                }
                catch (InvalidOperationException ex)
                {
                    // Another replica undid it first, or the state moved on.
                    logger.LogInformation("Did not undo the promotion of {Model} on P1 alert {Rule}: {Message}", key.Model, alert.Rule, ex.Message);
                }
            }

            return;
        }

        var state = await manager.RollbackAsync(key.Model, reason, cancellationToken).ConfigureAwait(false);
        if (state is not null)
        {
            logger.LogWarning("Rolled back the rollout of {Model} on P1 alert {Rule}.", key.Model, alert.Rule);
        }
    }
}
