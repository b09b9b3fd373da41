using System.Diagnostics;

namespace AiOps.Monitoring;

/// <summary>
/// The names under which AiOps.Monitoring reports: add them to OpenTelemetry (<c>AddMeter</c>, <c>AddSource</c>) or an
/// <see cref="ActivityListener"/>. Drift window closes are traced.
/// </summary>
public static class AiOpsMonitoringDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the package's instruments.</summary>
    public const string MeterName = "AiOps.Monitoring";

    /// <summary>The <see cref="ActivitySource"/> of the package's spans; a failed operation's span has status Error and the exception as an event.</summary>
    public const string ActivitySourceName = "AiOps.Monitoring";

    /// <summary>The span of closing the drift windows (tag <c>aiops.drift.results</c>: how many versions were judged).</summary>
    public const string DriftWindowsActivityName = "aiops.drift.close_windows";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(AiOpsMonitoringDiagnostics).Assembly.GetName().Version?.ToString());
}
