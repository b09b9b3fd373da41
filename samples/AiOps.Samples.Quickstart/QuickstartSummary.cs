using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiOps.Samples.Quickstart;

/// <summary>What one quickstart run did, written to <c>summary.json</c> in the output folder.</summary>
public sealed record QuickstartSummary
{
    /// <summary>The JSON settings of <c>summary.json</c> (camelCase, enums as strings, indented).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Whether every step reached the outcome it demonstrates.</summary>
    public bool Succeeded { get; init; }

    /// <summary>Why the run failed, when it did.</summary>
    public string? Failure { get; init; }

    /// <summary>The output folder (absolute).</summary>
    public string OutputDirectory { get; init; } = string.Empty;

    /// <summary>Real time the run took.</summary>
    public double WallSeconds { get; init; }

    /// <summary>Real time each step took, in seconds (host start-up is counted in the first).</summary>
    public IReadOnlyDictionary<string, double> StepWallSeconds { get; init; } = new Dictionary<string, double>();

    /// <summary>Where the simulated clock started.</summary>
    public DateTimeOffset SimulatedStart { get; init; }

    /// <summary>Where the simulated clock ended.</summary>
    public DateTimeOffset SimulatedEnd { get; init; }

    /// <summary>The training dataset and its gate run.</summary>
    public DatasetOutcome? Dataset { get; init; }

    /// <summary>Requests served, by version, and errors clients saw.</summary>
    public TrafficOutcome Traffic { get; init; } = new();

    /// <summary>Whether v2 went through every canary step and became stable.</summary>
    public bool V2Promoted { get; init; }

    /// <summary>The reasons of the promote decision.</summary>
    public IReadOnlyList<string> V2PromoteReasons { get; init; } = [];

    /// <summary>Whether the defective v3 was rolled back automatically.</summary>
    public bool V3RolledBack { get; init; }

    /// <summary>Why v3 was rolled back: the gates that failed, with their figures.</summary>
    public string? V3RollbackReason { get; init; }

    /// <summary>The stable version at the end.</summary>
    public string? FinalStableVersion { get; init; }

    /// <summary>The highest PSI of any feature in any closed drift window.</summary>
    public double MaxPsi { get; init; }

    /// <summary>The feature with <see cref="MaxPsi"/>.</summary>
    public string? MaxPsiFeature { get; init; }

    /// <summary>The worst drift severity seen (Stable, Moderate, Severe).</summary>
    public string? WorstDriftSeverity { get; init; }

    /// <summary>Every alert published (firing and resolved), in order.</summary>
    public IReadOnlyList<AlertOutcome> AlertsRaised { get; init; } = [];

    /// <summary>The checkpoints of the retraining run.</summary>
    public CheckpointOutcome? Checkpoints { get; init; }

    /// <summary>The nightly backup runs.</summary>
    public BackupOutcome? Backups { get; init; }

    /// <summary>The files written for operators (metrics, rules, dashboard, report, history, …).</summary>
    public IReadOnlyList<ArtifactOutcome> Artifacts { get; init; } = [];

    /// <summary>Serialises the summary.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}

/// <summary>The training dataset after the gate.</summary>
public sealed record DatasetOutcome(string Name, string Tag, string Version, long RowsRead, long RowsAdmitted, long RowsQuarantined, int PiiFindingsLeft);

/// <summary>Traffic served.</summary>
public sealed record TrafficOutcome
{
    /// <summary>Calls made by the simulated clients.</summary>
    public long Requests { get; init; }

    /// <summary>Calls that failed at the client (after fallback to stable).</summary>
    public long ClientErrors { get; init; }

    /// <summary>Calls answered, by version.</summary>
    public IReadOnlyDictionary<string, long> AnsweredByVersion { get; init; } = new Dictionary<string, long>();
}

/// <summary>One alert event.</summary>
public sealed record AlertOutcome(string Rule, string State, string Severity, string? Priority, string? Key, DateTimeOffset At, string Message);

/// <summary>The checkpoints kept after retention, and the one a restart resumes from.</summary>
public sealed record CheckpointOutcome(int Saved, IReadOnlyList<string> Kept, long RestoredStep, double RestoredValLoss);

/// <summary>The backup runs and what retention left.</summary>
public sealed record BackupOutcome(int Runs, int FilesBackedUp, IReadOnlyList<string> Kept, IReadOnlyList<string> DeletedBackups, IReadOnlyList<string> DeletedLogs);

/// <summary>An artifact file.</summary>
public sealed record ArtifactOutcome(string Name, string Path, long Bytes, string Description);
