namespace AiOps;

/// <summary>
/// The tags every AiOps health check carries, so a host maps its probes the same way whatever packages it uses: every
/// check is tagged <see cref="All"/> and its package's area (<see cref="Inference"/>, <see cref="Monitoring"/>,
/// <see cref="Data"/>, <see cref="Release"/>); checks that decide whether the process should get traffic are also tagged
/// <see cref="Ready"/>, and those that decide whether it is alive <see cref="Live"/>. Names are kebab-case
/// and start with <c>aiops-</c> (<c>aiops-release</c>, <c>aiops-model-fraud-2</c>). Checks that a package adds by itself can be turned off in its options
/// (<c>EnableHealthCheck</c>); the others are added only by an explicit <c>AddAiOps…HealthChecks()</c>.
/// </summary>
public static class AiOpsHealthTags
{
    /// <summary>On every AiOps check.</summary>
    public const string All = "aiops";

    /// <summary>Checks that decide whether the process should receive traffic (a readiness probe).</summary>
    public const string Ready = "ready";

    /// <summary>Checks that decide whether the process is alive (never fail for a missing GPU or a bad model; a liveness probe).</summary>
    public const string Live = "live";

    /// <summary>AiOps.Inference's checks.</summary>
    public const string Inference = "inference";

    /// <summary>AiOps.Monitoring's checks.</summary>
    public const string Monitoring = "monitoring";

    /// <summary>AiOps.Data's checks.</summary>
    public const string Data = "data";

    /// <summary>AiOps.Release's checks.</summary>
    public const string Release = "release";
}
