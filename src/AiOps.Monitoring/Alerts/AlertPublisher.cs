using AiOps.Alerts;
using AiOps.Monitoring.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiOps.Monitoring.Alerts;

/// <summary>Hands each event to every registered <see cref="IAlertHandler"/>, isolating and logging failures.</summary>
internal sealed partial class AlertPublisher(IServiceProvider services, MonitoringMetrics metrics, ILogger<AlertPublisher> logger) : IAlertPublisher
{
    private IAlertHandler[]? _handlers;

    public async ValueTask PublishAsync(AlertEvent alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);

        // Resolved lazily: a handler (the rollout controller) may itself depend on services that depend on the publisher.
        var handlers = _handlers ??= [.. services.GetServices<IAlertHandler>()];
        metrics.Alerts.Add(
            1,
            new KeyValuePair<string, object?>("rule", alert.Rule),
            new KeyValuePair<string, object?>("severity", alert.Severity.ToString().ToLowerInvariant()),
            new KeyValuePair<string, object?>("state", alert.State.ToString().ToLowerInvariant()));
        LogAlert(logger, alert.Rule, alert.State, alert.Severity, alert.Priority?.ToString() ?? "-", alert.Message);
        foreach (var handler in handlers)
        {
            try
            {
                await handler.HandleAsync(alert, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                LogHandlerFailed(logger, handler.GetType().Name, alert.Rule, ex);
            }
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Alert {Rule} {State} ({Severity}, priority {Priority}): {Message}")]
    private static partial void LogAlert(ILogger logger, string rule, AlertState state, AlertSeverity severity, string priority, string message);

    [LoggerMessage(EventId = 21, Level = LogLevel.Error, Message = "Alert handler {Handler} failed on {Rule}; the other handlers still ran")]
    private static partial void LogHandlerFailed(ILogger logger, string handler, string rule, Exception exception);
}
