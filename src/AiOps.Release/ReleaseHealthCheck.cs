using System.Globalization;
using AiOps.Release.Rollout;
using AiOps.Release.State;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiOps.Release;

/// <summary>
/// Reports whether the routers read the rollout state: degraded (serving the last known weights) when the store is
/// unreachable, was found reset (until re-seeded) or decisions wait to be written, unhealthy when a model has no stable version to serve.
/// </summary>
internal sealed class ReleaseHealthCheck(RolloutStateMonitor monitor, IRolloutManager manager) : IHealthCheck
{
    /// <summary>The name the check is registered under.</summary>
    public const string Name = "aiops-release";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        var worst = HealthStatus.Healthy;
        foreach (var route in monitor.Routes)
        {
            var t = route.Router.Table;
            data[route.Model.Value] = string.Create(CultureInfo.InvariantCulture, $"stable {t.Stable?.ToString() ?? "none"}, canary {t.Canary?.ToString() ?? "none"} at {t.CanaryWeightPercent} %");
            if (route.FailingSince is { } since)
            {
                worst = HealthStatus.Degraded;
                problems.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{route.Model}: rollout state store unreachable since {since:O} ({route.LastError}); serving the last known weights ({data[route.Model.Value]})"));
            }
            else if (route.ResetSince is { } reset)
            {
                worst = HealthStatus.Degraded;
                problems.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{route.Model}: rollout state store found reset (empty) at {reset:O}; serving the last known weights ({data[route.Model.Value]}) until it is re-seeded"));
            }
            else if (route.IsLoaded && t.Stable is null)
            {
                worst = HealthStatus.Unhealthy;
                problems.Add($"{route.Model}: no stable version is known (set StableVersion, the 'stable' alias, or load a version)");
            }
        }

        if (manager.PendingWrites > 0)
        {
            if (worst == HealthStatus.Healthy)
            {
                worst = HealthStatus.Degraded;
            }

            problems.Add($"{manager.PendingWrites} rollout decision(s) wait to be written to the state store");
        }

        var description = problems.Count == 0 ? "rollout state is current" : string.Join("; ", problems);
        return Task.FromResult(new HealthCheckResult(worst, description, data: data));
    }
}
