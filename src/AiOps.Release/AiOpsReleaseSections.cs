namespace AiOps.Release;

/// <summary>The configuration sections AiOps.Release binds when the host has configuration (configuration first, then code).</summary>
public static class AiOpsReleaseSections
{
    /// <summary><see cref="AiOpsReleaseOptions"/>, bound by <c>AddAiOpsRelease()</c>.</summary>
    public const string Release = "AiOps:Release";

    /// <summary>The parent of one section per model (<c>AiOps:Release:Models:&lt;model&gt;</c>) holding its <see cref="ModelReleaseOptions"/>, bound by <c>AddModel()</c>.</summary>
    public const string Models = "AiOps:Release:Models";

    /// <summary><see cref="Checkpoints.CheckpointOptions"/>, bound by <c>AddAiOpsCheckpoints()</c>.</summary>
    public const string Checkpoints = "AiOps:Release:Checkpoints";

    /// <summary><see cref="Backup.ModelBackupOptions"/>, bound by <c>AddAiOpsModelBackup()</c>.</summary>
    public const string Backup = "AiOps:Release:Backup";
}
