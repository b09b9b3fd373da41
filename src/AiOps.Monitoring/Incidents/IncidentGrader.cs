using AiOps.Alerts;
using AiOps.Monitoring.Alerts;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Incidents;

/// <summary>
/// Grades alerts into incident priorities, from the field's practice: <b>P1</b> when a model is unavailable or its p95
/// latency is above 3 s (roll back first, respond within 5 minutes), or when accuracy moved by
/// <see cref="AlertRuleOptions.AccuracyP1Change"/> or more; <b>P2</b> when accuracy moved 5–10 % (respond within 30
/// minutes); <b>P3</b> for any other warning or critical alert (respond within a working day); informational alerts
/// (GPU idle, a cost signal) are not incidents.
/// </summary>
public sealed class IncidentGrader
{
    private readonly AlertRuleOptions _rules;

    /// <summary>Creates a grader over the alert thresholds.</summary>
    /// <param name="options">The monitoring options.</param>
    public IncidentGrader(IOptions<AiOpsMonitoringOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _rules = options.Value.Alerts;
    }

    /// <summary>The priority of an alert, or <see langword="null"/> when it is not an incident.</summary>
    /// <param name="rule">The rule name.</param>
    /// <param name="severity">The alert's severity.</param>
    /// <param name="value">The observed value (seconds for latency rules, absolute change for accuracy).</param>
    public IncidentPriority? Grade(string rule, AlertSeverity severity, double? value)
    {
        switch (rule)
        {
            case AlertRuleOptions.ModelUnavailable:
            case AlertRuleOptions.LatencyP95Critical:
                return IncidentPriority.P1;
            case AlertRuleOptions.LatencyP95High:
                return value >= _rules.LatencyP1Threshold.TotalSeconds ? IncidentPriority.P1 : IncidentPriority.P3;
            case AlertRuleOptions.AccuracyChanged:
                return value >= _rules.AccuracyP1Change ? IncidentPriority.P1 : IncidentPriority.P2;
            default:
                return severity == AlertSeverity.Info ? null : IncidentPriority.P3;
        }
    }

    /// <summary>How soon someone must respond to an incident of <paramref name="priority"/>.</summary>
    /// <param name="priority">The priority.</param>
    public static TimeSpan ResponseTime(IncidentPriority priority) => priority switch
    {
        IncidentPriority.P1 => TimeSpan.FromMinutes(5),
        IncidentPriority.P2 => TimeSpan.FromMinutes(30),
        _ => TimeSpan.FromHours(8),
    };

    /// <summary>What to do first for an incident of <paramref name="priority"/>.</summary>
    /// <param name="priority">The priority.</param>
    public static string RecommendedAction(IncidentPriority priority) => priority switch
    {
        IncidentPriority.P1 => "Roll back to the last good model version first, then investigate; respond within 5 minutes.",
        IncidentPriority.P2 => "Check recent data and label quality, compare with the previous version, plan a retrain or rollback; respond within 30 minutes.",
        _ => "Open a ticket and investigate within a working day.",
    };
}
