using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Gates;

/// <summary>Where a gate run writes and what it masks.</summary>
public sealed class IngestOptions
{
    /// <summary>The admitted CSV; default <c>{AdmittedDirectory}/{dataset}.csv</c>. Written atomically, and only when the gate passes.</summary>
    public string? OutputPath { get; set; }

    /// <summary>The quarantine CSV; default <c>{QuarantineDirectory}/{dataset}.quarantine.csv</c>. Written atomically on every run: its first
    /// columns are <c>_line</c>, <c>_row</c>, <c>_rules</c> and <c>_reasons</c>, then the row's fields as read.</summary>
    public string? QuarantinePath { get; set; }

    /// <summary>Declared PII columns and the operator for each (<c>["phone"] = PiiOperator.Mask</c>). Each value is masked WHOLE,
    /// whatever it holds: detection only decides the shape (a recognised mobile keeps <c>138****5678</c>, an ID <c>110105********002X</c>);
    /// every character outside a recognised item becomes <c>*</c>, so a name or a bad-checksum ID is fully starred. Redact writes an
    /// empty field, Replace the kind's placeholder (<c>&lt;PII&gt;</c> when not one recognised item), Hash the keyed hash of the value.
    /// Rules see the raw values; no file the gate writes (admitted, quarantine), no report sample and no statistic holds them: the
    /// report withholds these columns' min, max, mean and deviation. A malformed row cannot be aligned with the columns, so all its
    /// fields are masked whole.</summary>
    public IDictionary<string, PiiOperator> MaskColumns { get; } = new Dictionary<string, PiiOperator>(StringComparer.Ordinal);
}

/// <summary>The outcome of one gate run. Nothing is lost: <c>RowsRead == RowsPassed + RowsQuarantined</c> (blank lines are not rows;
/// see <see cref="ValidationReport.BlankLines"/>).</summary>
/// <param name="Report">The validation report.</param>
/// <param name="Admitted">Whether the gate passed and the admitted file was published.</param>
/// <param name="AdmittedPath">The admitted CSV (header and every passing row, masked), or <see langword="null"/> when the gate failed.</param>
/// <param name="QuarantinePath">The quarantine CSV (every failing row with its line, rules and reasons).</param>
/// <param name="RowsRead">Rows read from the source.</param>
/// <param name="RowsPassed">Rows that passed every Error rule (written to <paramref name="AdmittedPath"/> when admitted).</param>
/// <param name="RowsQuarantined">Rows written to <paramref name="QuarantinePath"/>.</param>
public sealed record IngestResult(ValidationReport Report, bool Admitted, string? AdmittedPath, string QuarantinePath, long RowsRead, long RowsPassed, long RowsQuarantined)
{
    /// <summary>The summary other packages record.</summary>
    /// <returns>The summary.</returns>
    public ValidationSummary ToSummary() => Report.ToSummary();
}

/// <summary>Validates a dataset, sets failing rows aside in a quarantine file, and admits the rest only when every Error rule passes.</summary>
/// <example>
/// The quickstart: validate and mask a training CSV, admit it, snapshot it as <c>data_v1.0</c>.
/// <code>
/// var rules = RuleSet.Create("training").Key("id")
///     .Column("id", c =&gt; c.NotNull().Unique())
///     .Column("age", c =&gt; c.Between(0, 120))
///     .Column("phone", c =&gt; c.Matches(@"^1[3-9]\d{9}$"))
///     .Build();
/// var ingest = new IngestOptions { OutputPath = "data/train.admitted.csv", MaskColumns = { ["phone"] = PiiOperator.Mask } };
/// IngestResult result = await gate.IngestAsync(DataSource.FromCsv("data/train.csv"), rules, ingest);
/// if (result.Admitted)
/// {
///     DatasetVersion v1 = await store.SnapshotAsync("training", result.AdmittedPath!, new SnapshotOptions { Tag = "data_v1.0", Report = result.Report });
/// }
/// </code>
/// </example>
public interface IDataGate
{
    /// <summary>Runs the gate.</summary>
    /// <param name="source">The data.</param>
    /// <param name="rules">The rules.</param>
    /// <param name="options">Paths and masking; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the run; nothing is published.</param>
    /// <returns>The outcome.</returns>
    /// <exception cref="MalformedCsvException">The CSV cannot be parsed at all; nothing is published. A record with broken quoting does
    /// not throw: it is quarantined with its line.</exception>
    Task<IngestResult> IngestAsync(DataSource source, RuleSet rules, IngestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Runs the gate with a rule set configured in <see cref="AiOpsDataOptions.RuleSets"/>.</summary>
    /// <param name="source">The data.</param>
    /// <param name="ruleSetName">The rule set's name.</param>
    /// <param name="options">Paths and masking; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops the run; nothing is published.</param>
    /// <returns>The outcome.</returns>
    Task<IngestResult> IngestAsync(DataSource source, string ruleSetName, IngestOptions? options = null, CancellationToken cancellationToken = default);
}
