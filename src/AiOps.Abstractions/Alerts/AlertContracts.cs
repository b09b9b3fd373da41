namespace AiOps.Alerts;

/// <summary>How urgent an alert is.</summary>
public enum AlertSeverity
{
    /// <summary>For information (e.g. GPU idle: a cost alert).</summary>
    Info = 0,

    /// <summary>Needs attention.</summary>
    Warning,

    /// <summary>Needs action now.</summary>
    Critical,
}

/// <summary>Whether an alert started or ended.</summary>
public enum AlertState
{
    /// <summary>The condition held for the rule's <c>for</c> duration.</summary>
    Firing = 0,

    /// <summary>The condition no longer holds.</summary>
    Resolved,
}

/// <summary>Incident priority, graded from the field's practice.</summary>
public enum IncidentPriority
{
    /// <summary>Model down or latency over 3 s: roll back first, respond within 5 minutes.</summary>
    P1 = 1,

    /// <summary>Accuracy moved 5–10 %: respond within 30 minutes.</summary>
    P2 = 2,

    /// <summary>Anything else worth a ticket.</summary>
    P3 = 3,
}

/// <summary>An alert firing or resolving, as subscribers (the rollout controller, a pager) receive it.</summary>
/// <param name="Rule">The rule's name, e.g. <c>latency_p95_high</c>.</param>
/// <param name="State">Firing or resolved.</param>
/// <param name="Severity">How urgent.</param>
/// <param name="At">When the state changed.</param>
/// <param name="Message">A readable message with the figures.</param>
public sealed record AlertEvent(string Rule, AlertState State, AlertSeverity Severity, DateTimeOffset At, string Message)
{
    /// <summary>The model version concerned, if the rule is per model.</summary>
    public ModelKey? Key { get; init; }

    /// <summary>The observed value.</summary>
    public double? Value { get; init; }

    /// <summary>The threshold it was compared with.</summary>
    public double? Threshold { get; init; }

    /// <summary>The incident priority, when the alert grades as one.</summary>
    public IncidentPriority? Priority { get; init; }
}

/// <summary>
/// Receives alert events. Register any number in DI; the alert evaluator calls each. A handler's failure is logged
/// and does not stop the others.
/// </summary>
public interface IAlertHandler
{
    /// <summary>Handles one event.</summary>
    /// <param name="alert">The event.</param>
    /// <param name="cancellationToken">Cancels the handling.</param>
    ValueTask HandleAsync(AlertEvent alert, CancellationToken cancellationToken = default);
}
