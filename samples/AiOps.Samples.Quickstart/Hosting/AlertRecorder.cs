using System.Collections.Concurrent;
using AiOps.Alerts;

namespace AiOps.Samples.Quickstart.Hosting;

/// <summary>
/// An alert handler like a pager integration: it receives every alert the monitoring package publishes (drift, SLO,
/// model availability) and keeps them so the narrative can report them and the summary can list them.
/// </summary>
internal sealed class AlertRecorder : IAlertHandler
{
    private readonly ConcurrentQueue<AlertEvent> _all = new();
    private readonly ConcurrentQueue<AlertEvent> _unreported = new();

    public IReadOnlyList<AlertEvent> All => [.. _all];

    public ValueTask HandleAsync(AlertEvent alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        _all.Enqueue(alert);
        _unreported.Enqueue(alert);
        return ValueTask.CompletedTask;
    }

    /// <summary>The alerts received since the last call, in arrival order.</summary>
    public IReadOnlyList<AlertEvent> TakeNew()
    {
        var list = new List<AlertEvent>();
        while (_unreported.TryDequeue(out var a))
        {
            list.Add(a);
        }

        return list;
    }
}
