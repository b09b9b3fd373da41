namespace AiOps.Monitoring;

/// <summary>The configuration sections AiOps.Monitoring binds when the host has configuration.</summary>
public static class AiOpsMonitoringSections
{
    /// <summary><see cref="AiOpsMonitoringOptions"/>, bound by <c>AddAiOpsMonitoring()</c>.</summary>
    public const string Monitoring = "AiOps:Monitoring";

    /// <summary><see cref="Drift.DriftOptions"/>, bound by <c>AddAiOpsDrift()</c>.</summary>
    public const string Drift = "AiOps:Monitoring:Drift";

    /// <summary><see cref="Quality.ModelQualityOptions"/>, bound by <c>AddAiOpsModelQuality()</c>.</summary>
    public const string Quality = "AiOps:Monitoring:Quality";
}
