namespace AiOps.Samples.OpsWorker;

/// <summary>Settings of the operations worker (configuration section <c>OpsWorker</c>). Relative folders are resolved against <see cref="RootDirectory"/>.</summary>
public sealed class OpsWorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "OpsWorker";

    /// <summary>The folder everything else lives under, resolved against the content root. Default <c>aiops-worker</c>.</summary>
    public string RootDirectory { get; set; } = "aiops-worker";

    /// <summary>Where incoming CSV files are dropped. Default <c>incoming</c>.</summary>
    public string IncomingDirectory { get; set; } = "incoming";

    /// <summary>Where admitted (validated, masked) files are published. Default <c>admitted</c>.</summary>
    public string AdmittedDirectory { get; set; } = "admitted";

    /// <summary>Where failing rows, and whole files the gate rejected, are set aside. Default <c>quarantine</c>.</summary>
    public string QuarantineDirectory { get; set; } = "quarantine";

    /// <summary>Where the original of an admitted file is moved once published. Default <c>processed</c>.</summary>
    public string ProcessedDirectory { get; set; } = "processed";

    /// <summary>The rule set the gate applies: one declared under <c>AiOps:Data:RuleSets</c>, else the built-in <c>incoming</c> rules (id not null and unique, age 0–120, amount ≥ 0).</summary>
    public string RuleSet { get; set; } = "incoming";

    /// <summary>How often the incoming folder is checked. Default 1 minute.</summary>
    public TimeSpan GateInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The numeric columns of admitted files whose distribution is watched for drift. Default <c>age</c>, <c>amount</c>.</summary>
    public IList<string> DriftColumns { get; } = [];

    /// <summary>The model key drift is recorded under (the model these files train or feed). Default <c>incoming:1</c>.</summary>
    public string DriftModel { get; set; } = "incoming";

    /// <summary>How often GPU use and firing alerts are reported. Default 5 minutes.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Model files (or checkpoints) backed up daily into <c>backups</c>; their names must differ.</summary>
    public IList<string> BackupFiles { get; } = [];

    /// <summary>Folders whose <c>*.log</c> files older than <see cref="LogRetentionDays"/> are deleted. Default <c>logs</c>.</summary>
    public IList<string> LogDirectories { get; } = [];

    /// <summary>How many days of logs are kept. Default 7.</summary>
    public int LogRetentionDays { get; set; } = 7;

    /// <summary>Resolves a folder setting against <see cref="RootDirectory"/> (itself resolved against <paramref name="contentRoot"/>).</summary>
    /// <param name="contentRoot">The host's content root.</param>
    /// <param name="folder">The setting.</param>
    /// <returns>The absolute path.</returns>
    public string Resolve(string contentRoot, string folder) => Path.GetFullPath(folder, Path.GetFullPath(RootDirectory, contentRoot));
}
