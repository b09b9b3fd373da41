using System.Globalization;
using AiOps.Alerts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiOps.Monitoring.Incidents;

/// <summary>Keeps incidents opened from graded alerts and hands every change to the registered <see cref="IIncidentSink"/>s.</summary>
internal sealed partial class IncidentLog(TimeProvider time, IServiceProvider services, ILogger<IncidentLog> logger) : IIncidentLog
{
    private readonly Lock _lock = new();
    private readonly List<IncidentRecord> _all = [];
    private int _sequence;
    private IIncidentSink[]? _sinks;

    public IReadOnlyList<IncidentRecord> Open
    {
        get
        {
            lock (_lock)
            {
                return [.. _all.Where(i => i.IsOpen).OrderBy(i => i.Priority).ThenBy(i => i.OpenedAt)];
            }
        }
    }

    public IReadOnlyList<IncidentRecord> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _all];
            }
        }
    }

    public async ValueTask<IncidentRecord> AddNoteAsync(string incidentId, string note, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(note);
        IncidentRecord updated;
        lock (_lock)
        {
            var index = _all.FindIndex(i => i.Id == incidentId);
            if (index < 0)
            {
                throw new KeyNotFoundException($"No incident '{incidentId}'; expected one of: {string.Join(", ", _all.Select(i => i.Id))}.");
            }

            updated = _all[index] with { Timeline = [.. _all[index].Timeline, new IncidentTimelineEntry(time.GetUtcNow(), "note", note)] };
            _all[index] = updated;
        }

        await NotifyAsync(updated, cancellationToken).ConfigureAwait(false);
        return updated;
    }

    /// <summary>Applies one alert event.</summary>
    public async ValueTask ApplyAsync(AlertEvent alert, CancellationToken cancellationToken)
    {
        var subject = SubjectOf(alert);
        IncidentRecord? changed = null;
        lock (_lock)
        {
            var index = _all.FindIndex(i => i.IsOpen && i.Subject == subject);
            if (alert.State == AlertState.Firing)
            {
                if (alert.Priority is not { } priority)
                {
                    return;
                }

                var entry = new IncidentTimelineEntry(alert.At, "alert_firing", $"{alert.Rule} ({alert.Severity}, {priority}): {alert.Message}");
                if (index < 0)
                {
                    var id = string.Create(CultureInfo.InvariantCulture, $"INC-{alert.At:yyyyMMdd}-{++_sequence:0000}");
                    changed = new IncidentRecord(
                        id,
                        priority,
                        subject,
                        alert.At,
                        alert.At + IncidentGrader.ResponseTime(priority),
                        IncidentGrader.RecommendedAction(priority),
                        [new IncidentTimelineEntry(alert.At, "opened", $"{priority} incident opened for {subject} by {alert.Rule}."), entry])
                    {
                        Key = alert.Key,
                        FiringRules = [alert.Rule],
                    };
                    _all.Add(changed);
                }
                else
                {
                    var current = _all[index];
                    List<IncidentTimelineEntry> timeline = [.. current.Timeline, entry];
                    var firing = current.FiringRules.Contains(alert.Rule) ? current.FiringRules : [.. current.FiringRules, alert.Rule];
                    changed = current with { Timeline = timeline, FiringRules = firing };
                    if (priority < current.Priority)
                    {
                        timeline.Add(new IncidentTimelineEntry(alert.At, "escalated", $"Escalated from {current.Priority} to {priority} by {alert.Rule}."));
                        changed = changed with
                        {
                            Priority = priority,
                            RespondBy = Min(current.RespondBy, alert.At + IncidentGrader.ResponseTime(priority)),
                            RecommendedAction = IncidentGrader.RecommendedAction(priority),
                        };
                    }

                    _all[index] = changed;
                }
            }
            else
            {
                if (index < 0 || !_all[index].FiringRules.Contains(alert.Rule))
                {
                    return;
                }

                var current = _all[index];
                List<IncidentTimelineEntry> timeline = [.. current.Timeline, new IncidentTimelineEntry(alert.At, "alert_resolved", $"{alert.Rule} resolved: {alert.Message}")];
                var firing = current.FiringRules.Where(r => r != alert.Rule).ToArray();
                changed = current with { Timeline = timeline, FiringRules = firing };
                if (firing.Length == 0)
                {
                    timeline.Add(new IncidentTimelineEntry(alert.At, "resolved", $"Every alert of {subject} resolved after {(alert.At - current.OpenedAt).TotalMinutes:0.#} minutes."));
                    changed = changed with { ResolvedAt = alert.At };
                }

                _all[index] = changed;
            }
        }

        await NotifyAsync(changed, cancellationToken).ConfigureAwait(false);
    }

    private static string SubjectOf(AlertEvent alert) =>
        alert.Key?.ToString() ?? (alert.Rule.StartsWith("gpu", StringComparison.Ordinal) ? "gpu" : alert.Rule);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private async ValueTask NotifyAsync(IncidentRecord record, CancellationToken cancellationToken)
    {
        var sinks = _sinks ??= [.. services.GetServices<IIncidentSink>()];
        foreach (var sink in sinks)
        {
            try
            {
                await sink.OnIncidentChangedAsync(record, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSinkFailed(logger, sink.GetType().Name, record.Id, ex);
            }
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Error, Message = "Incident sink {Sink} failed on {Incident}")]
    private static partial void LogSinkFailed(ILogger logger, string sink, string incident, Exception exception);
}

/// <summary>Feeds published alerts into the incident log.</summary>
internal sealed class IncidentLogAlertHandler(IncidentLog log) : IAlertHandler
{
    public ValueTask HandleAsync(AlertEvent alert, CancellationToken cancellationToken = default) => log.ApplyAsync(alert, cancellationToken);
}
