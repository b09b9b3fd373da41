using AiOps.Drift;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiOps.Monitoring.Drift;

/// <summary>
/// Reports Degraded when the latest closed window of any tracked version reaches
/// <see cref="DriftOptions.HealthDegradedSeverity"/> or could not be judged (<see cref="DriftSeverity.InsufficientData"/>); Healthy otherwise (drift never makes a service Unhealthy: it still answers).
/// </summary>
internal sealed class DriftHealthCheck(DriftMonitor monitor) : IHealthCheck
{
    /// <summary>The name the check is registered under.</summary>
    public const string Name = "aiops-drift-monitor";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var threshold = monitor.Options.HealthDegradedSeverity;
        var latest = monitor.LatestWindows();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var drifted = new List<string>();
        foreach (var window in latest)
        {
            var result = window.Result;
            data[result.Key.ToString()] = result.Severity.ToString();
            if (result.Severity == DriftSeverity.InsufficientData)
            {
                drifted.Add($"{result.Key} (insufficient data: no feature had {monitor.Options.MinimumSampleCount} non-missing values)");
            }
            else if (result.Severity >= threshold && result.Severity != DriftSeverity.Stable)
            {
                var features = result.FeatureSeverities().Where(f => f.Value >= threshold).Select(f => f.Key);
                drifted.Add($"{result.Key} ({result.Severity}: {string.Join(", ", features)})");
            }
        }

        return Task.FromResult(drifted.Count == 0
            ? HealthCheckResult.Healthy($"{latest.Count} monitored version(s) below {threshold} drift.", data)
            : HealthCheckResult.Degraded($"Input drift at or above {threshold}, or unknown: {string.Join("; ", drifted)}.", data: data));
    }
}
