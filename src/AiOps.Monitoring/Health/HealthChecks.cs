using System.Globalization;
using AiOps.Drift;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Health;

/// <summary>Readiness of every monitored runner.</summary>
internal sealed class ModelReadinessHealthCheck(VersionMetricsStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var worst = HealthStatus.Healthy;
        var reasons = new List<string>();
        foreach (var key in store.Keys.OrderBy(k => k.ToString(), StringComparer.Ordinal))
        {
            if (!store.TryGet(key, out var series) || series!.Runner is not { } runner)
            {
                continue;
            }

            var status = runner.Status;
            data[key.ToString()] = status.Readiness.ToString();
            var health = status.Readiness switch
            {
                ModelReadiness.Ready => HealthStatus.Healthy,
                ModelReadiness.Degraded => HealthStatus.Degraded,
                _ => HealthStatus.Unhealthy,
            };
            if (health != HealthStatus.Healthy)
            {
                reasons.Add($"{key} is {status.Readiness}{(status.Reason is null ? string.Empty : ": " + status.Reason)}");
            }

            worst = health < worst ? health : worst;
        }

        var description = reasons.Count == 0 ? $"{data.Count} monitored model version(s) ready." : string.Join("; ", reasons);
        return Task.FromResult(new HealthCheckResult(worst, description, data: data));
    }
}

/// <summary>Worst drift severity of every monitored version over the alert rules' drift window.</summary>
internal sealed class DriftHealthCheck(VersionMetricsStore store, TimeProvider time, IOptions<AiOpsMonitoringOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (store.DriftProvider is not { } drift)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Drift is not tracked (no IVersionDriftProvider registered)."));
        }

        var since = time.GetUtcNow() - options.Value.Alerts.DriftWindow;
        var data = new Dictionary<string, object>();
        var worst = DriftSeverity.Stable;
        var unknown = new List<string>();
        foreach (var key in store.Keys)
        {
            if (drift.GetWorstSeverity(key, since) is { } severity)
            {
                data[key.ToString()] = severity.ToString();
                if (severity == DriftSeverity.InsufficientData)
                {
                    unknown.Add(key.ToString());
                }

                worst = severity > worst ? severity : worst;
            }
        }

        var status = worst switch
        {
            DriftSeverity.Severe => HealthStatus.Unhealthy,
            DriftSeverity.Moderate => HealthStatus.Degraded,
            _ when unknown.Count > 0 => HealthStatus.Degraded,
            _ => HealthStatus.Healthy,
        };
        var description = unknown.Count == 0 ? $"Worst input drift: {worst}." : $"Worst input drift: {worst}; insufficient data for {string.Join(", ", unknown)}.";
        return Task.FromResult(new HealthCheckResult(status, description, data: data));
    }
}

/// <summary>
/// Error-budget burn of the success-rate SLO: burn rate = error rate / (1 − target). Above 1 the budget runs out
/// before the SLO period ends (degraded); at or above <see cref="SloBurnRate.FastBurn"/> (14.4, the fast-burn page
/// threshold) it is unhealthy.
/// </summary>
internal sealed class SloHealthCheck(VersionMetricsStore store, TimeProvider time, IOptions<AiOpsMonitoringOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var rules = options.Value.Alerts;
        var since = time.GetUtcNow() - rules.Window;
        var data = new Dictionary<string, object>();
        var worst = 0.0;
        var worstKey = string.Empty;
        foreach (var key in store.Keys)
        {
            var snapshot = store.GetSnapshot(key, since);
            if (snapshot.Requests < rules.MinRequests)
            {
                continue;
            }

            var burn = SloBurnRate.Compute(snapshot.ErrorRate, rules.SuccessRateThreshold);
            data[key.ToString()] = burn;
            if (burn > worst)
            {
                worst = burn;
                worstKey = key.ToString();
            }
        }

        var status = worst >= SloBurnRate.FastBurn ? HealthStatus.Unhealthy : worst > 1 ? HealthStatus.Degraded : HealthStatus.Healthy;
        var description = worstKey.Length == 0
            ? "Error budget burn within SLO."
            : string.Create(CultureInfo.InvariantCulture, $"Worst error-budget burn rate {worst:0.##}x ({worstKey}) against a {rules.SuccessRateThreshold:P2} success SLO.");
        return Task.FromResult(new HealthCheckResult(status, description, data: data));
    }
}

/// <summary>GPU presence: degraded (never unhealthy) when no GPU is found, with the reason.</summary>
internal sealed class GpuHealthCheck(IGpuTelemetry gpu) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var latest = gpu.Latest;
        var data = new Dictionary<string, object> { ["source"] = latest.Result.Source, ["devices"] = latest.Result.Devices.Count };
        return Task.FromResult(latest.HasGpu
            ? HealthCheckResult.Healthy($"{latest.Result.Devices.Count} GPU(s) via {latest.Result.Source}: {string.Join(", ", latest.Result.Devices.Select(d => d.Name))}.", data)
            : HealthCheckResult.Degraded($"No GPU: {latest.Result.Reason}", data: data));
    }
}
