namespace AiOps.Validation;

/// <summary>How serious a failed data-quality rule is.</summary>
public enum ValidationSeverity
{
    /// <summary>Reported only.</summary>
    Info = 0,

    /// <summary>Reported; does not fail the gate.</summary>
    Warning,

    /// <summary>Fails the gate.</summary>
    Error,
}

/// <summary>A short summary of one dataset validation, as other packages (the registry, the quickstart) record it.</summary>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="Passed">Whether the gate admitted the dataset.</param>
/// <param name="RowsChecked">Rows read.</param>
/// <param name="RowsQuarantined">Rows that failed a row-level rule and were set aside.</param>
/// <param name="RulesEvaluated">Rules evaluated.</param>
/// <param name="RulesFailed">Rules that failed.</param>
public sealed record ValidationSummary(string Dataset, bool Passed, long RowsChecked, long RowsQuarantined, int RulesEvaluated, int RulesFailed);

/// <summary>A reference to a versioned dataset: the one a model version was trained on.</summary>
/// <param name="Name">The dataset name.</param>
/// <param name="Version">The content hash (SHA-256, hex) of the snapshot's manifest.</param>
/// <param name="Tag">A human tag such as <c>data_v1.0</c>, if any.</param>
public sealed record DatasetVersionRef(string Name, string Version, string? Tag);
