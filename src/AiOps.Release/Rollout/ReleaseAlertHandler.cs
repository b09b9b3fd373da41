using System.Globalization;
using AiOps.Alerts;
using Microsoft.Extensions.Logging;

namespace AiOps.Release.Rollout;

/// <summary>Rolls back a progressing rollout at once when a P1 alert fires for any version of its model ("roll back first").</summary>
internal sealed class ReleaseAlertHandler(IRolloutManager manager, IEnumerable<ReleaseModelRegistration> models, ILogger<ReleaseAlertHandler> logger) : IAlertHandler
{
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
        var state = await manager.RollbackAsync(key.Model, reason, cancellationToken).ConfigureAwait(false);
        if (state is not null)
        {
            logger.LogWarning("Rolled back the rollout of {Model} on P1 alert {Rule}.", key.Model, alert.Rule);
        }
    }
}
