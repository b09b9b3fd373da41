using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiOps.Validation;

namespace AiOps.Data.Quality;

/// <summary>One failing row kept as a sample. Values are PII-masked and truncated.</summary>
/// <param name="Line">The 1-based physical line where the row starts (the header is line 1).</param>
/// <param name="Row">The 1-based data-row number.</param>
/// <param name="Key">The key column's value (masked), when the rule set names one.</param>
/// <param name="Value">The offending value (masked, at most 64 characters), when the rule is on a column.</param>
/// <param name="Reason">What was expected.</param>
public sealed record FailingRow(long Line, long Row, string? Key, string? Value, string Reason);

/// <summary>The outcome of one rule.</summary>
/// <param name="Name">The rule's name (<c>column.kind</c>).</param>
/// <param name="Kind">The rule's kind.</param>
/// <param name="Column">The column, if any.</param>
/// <param name="Scope">Row or dataset.</param>
/// <param name="Severity">What a failure means.</param>
/// <param name="Passed">Whether the rule passed.</param>
/// <param name="Expectation">What the rule expects, in words.</param>
public sealed record RuleResult(string Name, string Kind, string? Column, RuleScope Scope, ValidationSeverity Severity, bool Passed, string Expectation)
{
    /// <summary>For row rules, the fraction of evaluated values that passed; for dataset rules, the statistic observed.</summary>
    public double? Observed { get; init; }

    /// <summary>For row rules, the fraction required to pass.</summary>
    public double? Mostly { get; init; }

    /// <summary>Values evaluated (row rules skip nulls, except <c>not_null</c>).</summary>
    public long Evaluated { get; init; }

    /// <summary>Values that failed.</summary>
    public long Unexpected { get; init; }

    /// <summary>The first failing rows, with their line numbers.</summary>
    public IReadOnlyList<FailingRow> FailingRows { get; init; } = [];

    /// <summary>Why the rule could not be evaluated (e.g. a missing column), if so.</summary>
    public string? Message { get; init; }
}

/// <summary>Statistics of one column gathered while validating (Welford mean and deviation, HyperLogLog distinct count).</summary>
/// <param name="Name">The column.</param>
public sealed record ColumnStatistics(string Name)
{
    /// <summary>The type inferred from the values: Integer or Number when every non-null value parses, otherwise String.</summary>
    public ColumnType InferredType { get; init; }

    /// <summary>Values seen (well-formed rows).</summary>
    public long Count { get; init; }

    /// <summary>Null values among them.</summary>
    public long Nulls { get; init; }

    /// <summary>Non-null values that are numbers.</summary>
    public long NumericCount { get; init; }

    /// <summary>The smallest number, if any; withheld (null) when it looks like personal data (e.g. a phone column read as numbers).</summary>
    public double? Min { get; init; }

    /// <summary>The largest number, if any; withheld like <see cref="Min"/>.</summary>
    public double? Max { get; init; }

    /// <summary>The mean of the numbers, if any; withheld like <see cref="Min"/>.</summary>
    public double? Mean { get; init; }

    /// <summary>The sample standard deviation of the numbers, if at least two.</summary>
    public double? StdDev { get; init; }

    /// <summary>The shortest non-null value, in characters.</summary>
    public int? MinLength { get; init; }

    /// <summary>The longest non-null value, in characters.</summary>
    public int? MaxLength { get; init; }

    /// <summary>The estimated number of distinct non-null values (HyperLogLog, about 0.8 % error).</summary>
    public long DistinctEstimate { get; init; }

    /// <summary>The share of non-null values (1 for an empty column).</summary>
    public double Completeness => Count == 0 ? 1 : (Count - Nulls) / (double)Count;
}

/// <summary>One bin of a column's histogram: values in [<paramref name="Lower"/>, <paramref name="Upper"/>).</summary>
/// <param name="Lower">The bin's lower edge (included).</param>
/// <param name="Upper">The bin's upper edge (excluded).</param>
/// <param name="Count">The values in the bin.</param>
public sealed record HistogramBin(double Lower, double Upper, long Count);

/// <summary>The histogram of a numeric column (at most 32 bins of equal, power-of-two width, built in the one pass).</summary>
/// <param name="Column">The column.</param>
/// <param name="Bins">The non-empty span of bins, lowest first.</param>
public sealed record ColumnHistogram(string Column, IReadOnlyList<HistogramBin> Bins);

/// <summary>The result of validating one dataset against a rule set.</summary>
/// <param name="Dataset">The dataset's name.</param>
/// <param name="Passed">Whether every rule of severity Error passed.</param>
/// <param name="RowsChecked">Rows read.</param>
/// <param name="RowsFailed">Rows that failed an Error rule or were malformed (the rows a gate quarantines).</param>
/// <param name="Rules">Per-rule outcomes, in rule-set order; the built-in <c>well_formed</c> rule comes first.</param>
/// <param name="Columns">Per-column statistics, in file order.</param>
public sealed record ValidationReport(string Dataset, bool Passed, long RowsChecked, long RowsFailed, IReadOnlyList<RuleResult> Rules, IReadOnlyList<ColumnStatistics> Columns)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,

        // A statistic that overflowed (std of 1e200 values) is written as the string "Infinity", "-Infinity" or "NaN" and read back.
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Rows that were ragged, held invalid UTF-8 or had broken quoting (included in <see cref="RowsFailed"/>).</summary>
    public long MalformedRows { get; init; }

    /// <summary>Histograms of the numeric columns, in file order. Withheld (absent) for a declared PII column and for one whose
    /// min/max are withheld because they look like personal data: bin edges would reveal the values.</summary>
    public IReadOnlyList<ColumnHistogram> Histograms { get; init; } = [];

    /// <summary>Blank lines skipped: they are not rows (not in <see cref="RowsChecked"/>, neither admitted nor quarantined).</summary>
    public long BlankLines { get; init; }

    /// <summary>When validation started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When validation finished.</summary>
    public DateTimeOffset CompletedAt { get; init; }

    /// <summary>The summary other packages record (the registry, the quickstart).</summary>
    /// <returns>The summary.</returns>
    public ValidationSummary ToSummary() => new(Dataset, Passed, RowsChecked, RowsFailed, Rules.Count, Rules.Count(r => !r.Passed));

    /// <summary>The report as indented JSON (camelCase, enums as snake_case strings). A non-finite statistic (the deviation of values
    /// near 1e200 overflows) is written as the JSON string <c>"Infinity"</c>, <c>"-Infinity"</c> or <c>"NaN"</c>, never as an error; the
    /// same holds for snapshot manifests and the metrics history, and <see cref="FromJson"/> reads them back.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The report.</returns>
    /// <exception cref="JsonException">The text is not a report.</exception>
    public static ValidationReport FromJson(string json) =>
        JsonSerializer.Deserialize<ValidationReport>(json, Json) ?? throw new JsonException("Expected a validation report object, got null.");

    /// <summary>The report as one self-contained HTML page a team reads (no script, no external resource): the verdict, every
    /// rule with its pass rate and masked failing samples, and column profiles with histograms. Every value is HTML-escaped; values
    /// are the report's own, so declared PII columns appear only masked. The markup is well-formed XML (XHTML syntax). JSON
    /// (<see cref="ToJson"/>) stays the machine format.</summary>
    /// <returns>The HTML text.</returns>
    public string ToHtml() => Internal.HtmlReport.Render(this);

    /// <summary>The report for people: one line per rule with its failing rows, then the column statistics.</summary>
    /// <returns>The text.</returns>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"Dataset '{Dataset}': {(Passed ? "PASSED" : "FAILED")} — {RowsChecked} rows, {RowsFailed} failing ({MalformedRows} malformed), {Rules.Count(r => !r.Passed)} of {Rules.Count} rules failed").AppendLine();
        foreach (var r in Rules)
        {
            sb.Append(c, $"  [{(r.Passed ? "PASS" : r.Severity == ValidationSeverity.Error ? "FAIL" : "WARN")}] {r.Name}: expected {r.Expectation}");
            if (r.Observed is { } o)
            {
                sb.Append(c, $"; observed {o:G6}");
            }

            if (r.Scope == RuleScope.Row)
            {
                sb.Append(c, $"; {r.Unexpected} of {r.Evaluated} unexpected (mostly {r.Mostly:G4})");
            }

            if (r.Message is not null)
            {
                sb.Append("; ").Append(r.Message);
            }

            sb.AppendLine();
            foreach (var f in r.FailingRows)
            {
                sb.Append(c, $"      line {f.Line}");
                if (f.Key is not null)
                {
                    sb.Append(c, $" key={f.Key}");
                }

                if (f.Value is not null)
                {
                    sb.Append(c, $" value='{f.Value}'");
                }

                sb.Append(": ").Append(f.Reason).AppendLine();
            }
        }

        sb.AppendLine("  Columns:");
        foreach (var s in Columns)
        {
            sb.Append(c, $"    {s.Name} ({s.InferredType}): count {s.Count}, nulls {s.Nulls}, completeness {s.Completeness:P2}, distinct ~{s.DistinctEstimate}");
            if (s.Mean is { } mean)
            {
                sb.Append(c, $", min {s.Min:G6}, max {s.Max:G6}, mean {mean:G6}, stdev {s.StdDev ?? 0:G6}");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }
}
