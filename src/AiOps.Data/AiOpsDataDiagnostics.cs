using System.Diagnostics;

namespace AiOps.Data;

/// <summary>
/// The names under which AiOps.Data reports: add them to OpenTelemetry (<c>AddMeter</c>, <c>AddSource</c>) or an
/// <see cref="ActivityListener"/>. Gate runs are traced.
/// </summary>
public static class AiOpsDataDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the package's instruments.</summary>
    public const string MeterName = "AiOps.Data";

    /// <summary>The <see cref="ActivitySource"/> of the package's spans; a failed operation's span has status Error and the exception as an event.</summary>
    public const string ActivitySourceName = "AiOps.Data";

    /// <summary>The span of one gate run (tags <c>aiops.data.source</c>, <c>aiops.data.passed</c>, <c>aiops.data.rows</c>, <c>aiops.data.quarantined</c>).</summary>
    public const string GateActivityName = "aiops.data.gate";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(AiOpsDataDiagnostics).Assembly.GetName().Version?.ToString());
}
