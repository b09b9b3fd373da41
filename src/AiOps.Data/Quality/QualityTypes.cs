using System.Diagnostics.CodeAnalysis;
using AiOps.Validation;

namespace AiOps.Data.Quality;

/// <summary>The type a column's values are expected to have (or were inferred to have).</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members name data types on purpose (String, Integer), as schema languages do.")]
public enum ColumnType
{
    /// <summary>Any text.</summary>
    String = 0,

    /// <summary>Whole numbers (<c>-12</c>, <c>42</c>).</summary>
    Integer,

    /// <summary>Decimal numbers (<c>3.14</c>, <c>-1e-3</c>).</summary>
    Number,

    /// <summary><c>true</c>/<c>false</c>, <c>1</c>/<c>0</c>, <c>yes</c>/<c>no</c> (any case).</summary>
    Boolean,

    /// <summary>ISO-8601 dates or date-times (<c>2024-05-31</c>, <c>2024-05-31T08:00:00Z</c>).</summary>
    Date,
}

/// <summary>Whether a rule judges each row or the dataset as a whole.</summary>
public enum RuleScope
{
    /// <summary>Judged per row; passes when at least <see cref="DataRule.Mostly"/> of the non-null values pass. Failing rows go to quarantine.</summary>
    Row = 0,

    /// <summary>Judged once on the dataset's statistics (row count, mean, completeness…).</summary>
    Dataset,
}

/// <summary>How <see cref="ColumnRules.NoOutliers"/> draws the line.</summary>
public enum OutlierMethod
{
    /// <summary>Beyond <c>k</c> standard deviations from the mean (default k = 3).</summary>
    StdDev = 0,

    /// <summary>Beyond <c>k</c> inter-quartile ranges outside the quartiles (Tukey's fences, default k = 1.5).</summary>
    Iqr,
}

/// <summary>A custom check on one field. The span is only valid during the call.</summary>
/// <param name="value">The field's characters (never empty: nulls are skipped).</param>
/// <returns><see langword="true"/> when the value is acceptable.</returns>
public delegate bool FieldPredicate(ReadOnlySpan<char> value);

/// <summary>A custom check on a whole row.</summary>
/// <param name="row">The row; valid only during the call.</param>
/// <returns><see langword="true"/> when the row is acceptable.</returns>
public delegate bool RowPredicate(DataRowView row);

/// <summary>One data-quality rule (an expectation, in Great Expectations' words). Create rules with
/// <see cref="RuleSet.Create(string)"/> or load them with <see cref="RuleSet.FromJson(string)"/>.</summary>
public abstract class DataRule
{
    private protected DataRule(string kind, string? column, double? mostly, ValidationSeverity severity)
    {
        if (mostly is { } m && (double.IsNaN(m) || m < 0 || m > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(mostly), m, $"Rule '{kind}' on '{column}': mostly must be between 0 and 1.");
        }

        Kind = kind;
        Column = column;
        Mostly = mostly;
        Severity = severity;
    }

    /// <summary>The rule's kind, e.g. <c>between</c>, <c>not_null</c>, <c>row_count</c>.</summary>
    public string Kind { get; }

    /// <summary>The column it applies to, or <see langword="null"/> for a rule on the whole dataset or row.</summary>
    public string? Column { get; }

    /// <summary>For row rules, the fraction of evaluated values that must pass; <see langword="null"/> for dataset rules.</summary>
    public double? Mostly { get; }

    /// <summary>What a failure means: <see cref="ValidationSeverity.Error"/> fails the gate and quarantines the row.</summary>
    public ValidationSeverity Severity { get; }

    /// <summary>Whether the rule judges rows or the dataset.</summary>
    public RuleScope Scope => Mostly is null ? RuleScope.Dataset : RuleScope.Row;

    /// <summary>The rule's name in reports: the name given (<c>ColumnRules.Named</c>, JSON <c>name</c>), else <c>column.kind</c>, or
    /// <c>kind</c> without a column. Names are unique within a rule set.</summary>
    public string Name => CustomName ?? DefaultName;

    /// <summary>For a conditional row rule, when it applies (rows where the condition does not hold are not evaluated); otherwise
    /// <see langword="null"/>.</summary>
    public RuleCondition? Where { get; private set; }

    private protected virtual string DefaultName => Column is null ? Kind : $"{Column}.{Kind}";

    internal string? CustomName { get; private set; }

    /// <summary>The expectation with the condition, as reports show it.</summary>
    internal string Describe() => Where is null ? Expectation : $"{Expectation} where {Where}";

    internal DataRule WithName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        CustomName = name;
        return this;
    }

    internal DataRule WithCondition(RuleCondition condition)
    {
        if (Scope != RuleScope.Row)
        {
            throw new ArgumentException($"Rule '{Name}' is judged on the whole dataset; a where condition applies to row rules only.", nameof(condition));
        }

        if (condition.Problem() is { } problem)
        {
            throw new ArgumentException($"Rule '{Name}': {problem}.", nameof(condition));
        }

        if (Where is not null)
        {
            throw new ArgumentException($"Rule '{Name}' already has a where condition ({Where}); expected one condition per rule.", nameof(condition));
        }

        Where = condition.Copy();
        return this;
    }

    /// <summary>What the rule expects, in words (e.g. <c>a number between 0 and 120</c>).</summary>
    public abstract string Expectation { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Expectation}";
}

/// <summary>A read-only view of the current row for <see cref="RowPredicate"/>s.</summary>
public readonly ref struct DataRowView
{
    private readonly Internal.RowContext _row;

    internal DataRowView(Internal.RowContext row) => _row = row;

    /// <summary>The physical line (1-based, the header is line 1) where the row starts.</summary>
    public long Line => _row.Reader.Line;

    /// <summary>The row's number among data rows (1-based).</summary>
    public long Row => _row.Reader.Row;

    /// <summary>The field of <paramref name="column"/>.</summary>
    /// <param name="column">A column name.</param>
    /// <returns>The field's characters; empty for a null.</returns>
    /// <exception cref="ArgumentException">No such column.</exception>
    public ReadOnlySpan<char> this[string column] => _row.Reader.GetField(_row.Ordinal(column));

    /// <summary>Whether the field of <paramref name="column"/> is null (empty or a configured null token).</summary>
    /// <param name="column">A column name.</param>
    /// <returns><see langword="true"/> for a null.</returns>
    public bool IsNull(string column) => _row.IsNull[_row.Ordinal(column)];

    /// <summary>The field of <paramref name="column"/> as a number, when it is one.</summary>
    /// <param name="column">A column name.</param>
    /// <param name="value">The number.</param>
    /// <returns><see langword="true"/> when the field is a finite number.</returns>
    public bool TryGetNumber(string column, out double value)
    {
        var i = _row.Ordinal(column);
        value = _row.Number[i];
        return _row.IsNumber[i] && !_row.IsNull[i];
    }
}

/// <summary>A CSV file could not be parsed (bad quoting, a record larger than the buffer). Reading stops: nothing is admitted.
/// Ragged rows and invalid UTF-8 do not throw: they are quarantined with their line number.</summary>
public sealed class MalformedCsvException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The file or stream name.</param>
    /// <param name="line">The 1-based physical line where the bad record starts.</param>
    /// <param name="message">What was wrong and what was expected.</param>
    /// <param name="innerException">The parser's error.</param>
    public MalformedCsvException(string source, long line, string message, Exception? innerException = null)
        : base($"{source}, line {line}: {message}", innerException)
    {
        SourceName = source;
        Line = line;
    }

    /// <summary>The file or stream name.</summary>
    public string SourceName { get; }

    /// <summary>The 1-based physical line where the bad record starts.</summary>
    public long Line { get; }
}

/// <summary>The data names a column more than once (a CSV header <c>id,name,id</c>): rules, masks and diffs could not tell the columns
/// apart, so the source is refused before any row is read.</summary>
public sealed class DuplicateColumnException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The source's name.</param>
    /// <param name="duplicates">The names that occur more than once.</param>
    public DuplicateColumnException(string source, IReadOnlyList<string> duplicates)
        : base($"{source}: the header names column{(duplicates.Count > 1 ? "s" : "")} '{string.Join("', '", duplicates)}' more than once; expected unique column names (rename or drop the duplicates).")
    {
        SourceName = source;
        Duplicates = duplicates;
    }

    /// <summary>The source's name.</summary>
    public string SourceName { get; }

    /// <summary>The names that occur more than once, in header order.</summary>
    public IReadOnlyList<string> Duplicates { get; }
}
