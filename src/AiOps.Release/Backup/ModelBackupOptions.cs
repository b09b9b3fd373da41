namespace AiOps.Release.Backup;

/// <summary>Options of the model backup job registered by <c>services.AddAiOpsModelBackup(…)</c>.</summary>
public sealed class ModelBackupOptions
{
    /// <summary>Whether the package's own health check is registered (default <see langword="true"/>); set <see langword="false"/> to leave it out.</summary>
    public bool EnableHealthCheck { get; set; } = true;

    /// <summary>The configuration section bound by <c>AddAiOpsModelBackup</c>: <c>AiOps:Release:Backup</c>.</summary>
    public const string SectionName = "AiOps:Release:Backup";

    /// <summary>
    /// The folder backups are copied to, as <c>&lt;name&gt;_backup_&lt;yyyyMMdd&gt;.&lt;ext&gt;</c> (a later run of the same day as
    /// <c>&lt;name&gt;_backup_&lt;yyyyMMdd&gt;.1.&lt;ext&gt;</c>, <c>.2</c>, …: an earlier backup is never replaced). Required; created when missing.
    /// </summary>
    public string BackupDirectory { get; set; } = string.Empty;

    /// <summary>
    /// On Unix, write backups owner-only (0600), and the backup folder, when this job creates it, owner-only (0700).
    /// Default <see langword="true"/>; <see langword="false"/> keeps the process's umask.
    /// </summary>
    public bool OwnerOnlyPermissions { get; set; } = true;

    /// <summary>The model files to back up (their file names must differ).</summary>
    public IList<string> ModelFiles { get; } = [];

    /// <summary>
    /// How often the job runs. Default one day; at most <see cref="MaxInterval"/> (a timer's longest period, about
    /// 49.7 days).
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The longest <see cref="Interval"/> a timer can wait: 4,294,967,294 ms (about 49.7 days).</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>
    /// Whether the package runs the job on its own schedule (at start when <see cref="RunOnStart"/>, then every
    /// <see cref="Interval"/>). Default <see langword="true"/>. <see langword="false"/> registers no timer: the host
    /// runs backups itself through <see cref="IModelBackup.RunOnceAsync"/> (a cron job, an operator action, a test on
    /// simulated time); the health check still judges the last success against <see cref="MaxBackupAge"/>.
    /// </summary>
    public bool Scheduled { get; set; } = true;

    /// <summary>Whether the job also runs once when the host starts. Default <see langword="true"/>.</summary>
    public bool RunOnStart { get; set; } = true;

    /// <summary>How many days of backups to keep per model file (every run of those days), newest first. Default 7.</summary>
    public int KeepPerFile { get; set; } = 7;

    /// <summary>Folders whose <c>*.log</c> files (in sub-folders too, never through links) are deleted once old.</summary>
    public IList<string> LogDirectories { get; } = [];

    /// <summary>Delete <c>*.log</c> files not written for this many days. Default 7.</summary>
    public int LogRetentionDays { get; set; } = 7;

    /// <summary>
    /// The health check reports Unhealthy when the last successful backup (or the start, before the first one) is older
    /// than this. Default twice <see cref="Interval"/>.
    /// </summary>
    public TimeSpan? MaxBackupAge { get; set; }
}
