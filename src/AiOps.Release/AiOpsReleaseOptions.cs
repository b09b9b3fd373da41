namespace AiOps.Release;

/// <summary>Settings shared by every model released through AiOps.Release.</summary>
public sealed class AiOpsReleaseOptions
{
    /// <summary>Whether the package's own health check is registered (default <see langword="true"/>); set <see langword="false"/> to leave it out.</summary>
    public bool EnableHealthCheck { get; set; } = true;

    /// <summary>The configuration section bound by <c>AddAiOpsRelease</c>: <c>AiOps:Release</c>.</summary>
    public const string SectionName = "AiOps:Release";

    /// <summary>
    /// The folder of the file state store (the embedded default). Relative paths are resolved against the current
    /// directory. Default: <c>aiops-state/rollouts</c>.
    /// </summary>
    public string StateDirectory { get; set; } = Path.Combine("aiops-state", "rollouts");

    /// <summary>
    /// Whether the file state store writes its state, lease and lock files owner-only on Unix (0600 files, 0700 for
    /// the folder it creates). Turn off only when processes of several users share the folder. Default: true.
    /// </summary>
    public bool OwnerOnlyStateFiles { get; set; } = true;

    /// <summary>How often the rollout controller evaluates every model. Default: 1 minute.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often routers re-read the weights from the state store even without a change notification (the polling
    /// fallback). Default: 1 second; at most 1 second so every replica sees a change within a second.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the controller lease lasts unless renewed; longer than <see cref="EvaluationInterval"/>. Default: 3 minutes.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>This replica's id for the controller lease. Default: host name, process id and a random suffix.</summary>
    public string InstanceId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>Whether the background rollout controller runs in this process. Default: <see langword="true"/>.</summary>
    public bool EnableController { get; set; } = true;

    /// <summary>The most decisions kept in a rollout's history (oldest are dropped). Default: 500.</summary>
    public int MaxHistory { get; set; } = 500;
}
