using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Metrics;

namespace AiOps.Monitoring;

/// <summary>
/// Options of <c>services.AddAiOpsMonitoring(…)</c>: which models may appear as metric labels, how per-version
/// samples are kept, how metrics reach Prometheus, GPU polling and the alert thresholds.
/// </summary>
/// <example>
/// <code>
/// services.AddAiOpsMonitoring(o =>
/// {
///     o.Models.Add("fraud");
///     o.Prometheus.MetricServerPort = 9464;   // worker host; ASP.NET hosts call app.MapAiOpsMetrics() instead
///     o.Alerts.LatencyP95Threshold = TimeSpan.FromMilliseconds(300);
/// });
/// </code>
/// </example>
public sealed class AiOpsMonitoringOptions
{
    /// <summary>The configuration section bound by <c>AddAiOpsMonitoring</c>: <c>AiOps:Monitoring</c>; nested settings are subsections (<c>AiOps:Monitoring:Gpu:PollInterval</c>).</summary>
    public const string SectionName = "AiOps:Monitoring";

    /// <summary>
    /// The model names allowed as the <c>model</c> label value. Any other model name is exported as <c>other</c>, so a
    /// typo or a caller-supplied string cannot create unbounded time series. Models served through a monitored catalog
    /// are added automatically.
    /// </summary>
    public ISet<string> Models { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Per-version samples kept for the rollout controller and the alert rules.</summary>
    public VersionMetricsOptions VersionMetrics { get; } = new();

    /// <summary>How the AiOps meters are exported to Prometheus.</summary>
    public PrometheusExportOptions Prometheus { get; } = new();

    /// <summary>GPU telemetry polling.</summary>
    public GpuTelemetryOptions Gpu { get; } = new();

    /// <summary>Alert rule thresholds and <c>for</c> durations (field defaults).</summary>
    public AlertRuleOptions Alerts { get; } = new();
}
