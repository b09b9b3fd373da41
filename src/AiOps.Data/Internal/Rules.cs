using System.Globalization;
using System.Text.RegularExpressions;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Internal;

internal sealed record PrePassColumn(ColumnStatistics Statistics, double Q1, double Q3);

internal sealed class BindContext
{
    public IReadOnlyDictionary<string, PrePassColumn> PrePass { get; init; } = new Dictionary<string, PrePassColumn>();

    /// <summary>The ordinal of a column of the data being validated (-1 when absent).</summary>
    public Func<string, int> Ordinal { get; set; } = static _ => -1;
}

internal sealed class DatasetFacts
{
    /// <summary>The rows admitted: read, not malformed, passing every Error row rule.</summary>
    public required long Rows { get; init; }

    public required IReadOnlyDictionary<string, ColumnStatistics> Columns { get; init; }
}

internal abstract class RowRule(string kind, string? column, double mostly, ValidationSeverity severity) : DataRule(kind, column, mostly, severity)
{
    internal virtual bool EvaluatesNulls => false;

    internal virtual bool NeedsPrePass => false;

    /// <summary>Every column the rule reads (its own and its condition's); each must exist for the rule to be evaluated.</summary>
    internal virtual IEnumerable<string> ReferencedColumns
    {
        get
        {
            if (Column is not null)
            {
                yield return Column;
            }

            if (Where is not null)
            {
                yield return Where.Column;
            }
        }
    }

    internal abstract RowCheck Bind(int ordinal, BindContext context);
}

/// <summary>The per-run state of one row rule.</summary>
internal abstract class RowCheck(RowRule rule, int ordinal)
{
    public RowRule Rule { get; } = rule;

    public int Ordinal { get; } = ordinal;

    public bool EvaluatesNulls { get; } = rule.EvaluatesNulls;

    public bool IsError { get; } = rule.Severity == ValidationSeverity.Error;

    /// <summary>When the rule applies (a conditional rule), bound to its column; <see langword="null"/>: every row.</summary>
    public RuleCondition.Bound? Where { get; set; }

    public long Evaluated;
    public long Unexpected;

    public List<FailingRow> Samples { get; } = [];

    public abstract bool Test(RowContext row);

    public virtual string Reason(RowContext row) => "expected " + Rule.Expectation;
}

internal abstract class DatasetRule(string kind, string? column, ValidationSeverity severity) : DataRule(kind, column, null, severity)
{
    internal abstract (bool Passed, double? Observed, string? Message) Evaluate(DatasetFacts facts);

    protected (bool, double?, string?) Missing() => (false, null, $"column '{Column}' not found");
}

internal static class Fmt
{
    public static string N(double v) => v.ToString("G10", CultureInfo.InvariantCulture);

    public static string Range(double? min, double? max) => (min, max) switch
    {
        ({ } a, { } b) => $"between {N(a)} and {N(b)}",
        ({ } a, null) => $"at least {N(a)}",
        (null, { } b) => $"at most {N(b)}",
        _ => "any value",
    };

    public static bool In(double v, double? min, double? max) => (min is not { } a || v >= a) && (max is not { } b || v <= b);
}

internal sealed class NotNullRule(string column, double mostly, ValidationSeverity severity) : RowRule("not_null", column, mostly, severity)
{
    public override string Expectation => "a value (not null)";

    internal override bool EvaluatesNulls => true;

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal);

    private sealed class Check(RowRule rule, int ordinal) : RowCheck(rule, ordinal)
    {
        public override bool Test(RowContext row) => !row.IsNull[Ordinal];

        public override string Reason(RowContext row) => "expected a value, got null";
    }
}

internal sealed class TypeRule(string column, ColumnType type, double mostly, ValidationSeverity severity) : RowRule("type", column, mostly, severity)
{
    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
    ];

    public ColumnType Type { get; } = type;

    public override string Expectation => Type switch
    {
        ColumnType.Integer => "an integer",
        ColumnType.Number => "a number",
        ColumnType.Boolean => "a boolean (true/false, 1/0, yes/no)",
        ColumnType.Date => "an ISO-8601 date or date-time",
        _ => "text",
    };

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal);

    internal static bool IsBoolean(ReadOnlySpan<char> v) =>
        v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase)
        || v is "1" or "0" || v.Equals("yes", StringComparison.OrdinalIgnoreCase) || v.Equals("no", StringComparison.OrdinalIgnoreCase);

    internal static bool IsIsoDate(ReadOnlySpan<char> v) =>
        DateFormatRule.IsIsoDay(v) || DateTimeOffset.TryParseExact(v, IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    private sealed class Check(TypeRule rule, int ordinal) : RowCheck(rule, ordinal)
    {
        private readonly ColumnType _type = rule.Type;

        public override bool Test(RowContext row) => _type switch
        {
            ColumnType.Integer => row.IsNumber[Ordinal] && row.IsInteger[Ordinal],
            ColumnType.Number => row.IsNumber[Ordinal],
            ColumnType.Boolean => IsBoolean(row.Reader.GetField(Ordinal)),
            ColumnType.Date => IsIsoDate(row.Reader.GetField(Ordinal)),
            _ => true,
        };
    }
}

internal sealed class BetweenRule(string column, double? min, double? max, double mostly, ValidationSeverity severity) : RowRule("between", column, mostly, severity)
{
    public override string Expectation => "a number " + Fmt.Range(min, max);

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal, min ?? double.NegativeInfinity, max ?? double.PositiveInfinity);

    private sealed class Check(RowRule rule, int ordinal, double min, double max) : RowCheck(rule, ordinal)
    {
        public override bool Test(RowContext row)
        {
            var v = row.Number[Ordinal];
            return row.IsNumber[Ordinal] && v >= min && v <= max;
        }

        public override string Reason(RowContext row) => row.IsNumber[Ordinal] ? base.Reason(row) : "expected a number, got text";
    }
}

internal sealed class SetRule : RowRule
{
    private readonly HashSet<string> _values;
    private readonly bool _negate;

    public SetRule(string column, IEnumerable<string> values, bool negate, double mostly, ValidationSeverity severity)
        : base(negate ? "not_in_set" : "in_set", column, mostly, severity)
    {
        _values = new HashSet<string>(values ?? throw new ArgumentNullException(nameof(values)), StringComparer.Ordinal);
        _negate = negate;
        if (_values.Count == 0 && !negate)
        {
            throw new ArgumentException($"Rule in_set on '{column}': expected at least one allowed value.", nameof(values));
        }
    }

    public override string Expectation => (_negate ? "none of " : "one of ") + "{" + string.Join(", ", _values.Take(10)) + (_values.Count > 10 ? ", …" : "") + "}";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal);

    private sealed class Check(SetRule rule, int ordinal) : RowCheck(rule, ordinal)
    {
        // Up to this many values a length check and an ordinal compare per value beat hashing the field.
        private const int LinearScanLimit = 8;
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup = rule._values.GetAlternateLookup<ReadOnlySpan<char>>();
        private readonly string[]? _few = rule._values.Count <= LinearScanLimit ? [.. rule._values] : null;
        private readonly ulong[]? _fewKeys = rule._values.Count <= LinearScanLimit ? [.. rule._values.Select(v => v.Length <= 4 ? Pack(v) : 0)] : null;
        private readonly bool _negate = rule._negate;

        public override bool Test(RowContext row) => Contains(row.Reader.GetField(Ordinal)) != _negate;

        /// <summary>Up to four characters as one integer (little-endian, zero-padded): equal for equal-length values exactly when the characters are.</summary>
        private static ulong Pack(ReadOnlySpan<char> v)
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(v);
            return v.Length switch
            {
                4 => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes),
                3 => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes) | ((ulong)v[2] << 32),
                2 => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes),
                1 => v[0],
                _ => 0,
            };
        }

        private bool Contains(ReadOnlySpan<char> value)
        {
            if (_few is null)
            {
                return _lookup.Contains(value);
            }

            if (value.Length <= 4)
            {
                // Short codes (categories, flags, country codes): one integer compare per allowed value.
                var key = Pack(value);
                var keys = _fewKeys!;
                for (var j = 0; j < keys.Length; j++)
                {
                    if (keys[j] == key && _few[j].Length == value.Length)
                    {
                        return true;
                    }
                }

                return false;
            }

            foreach (var candidate in _few)
            {
                if (candidate.Length == value.Length && value.SequenceEqual(candidate))
                {
                    return true;
                }
            }

            return false;
        }
    }
}

internal sealed class RegexRule : RowRule
{
    private readonly Regex _regex;
    private readonly Regex? _untimed;
    private readonly int _untimedMaxLength;

    public RegexRule(string column, string pattern, double mostly, ValidationSeverity severity)
        : base("regex", column, mostly, severity)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        try
        {
            _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

            // The 1 s timeout guards against catastrophic backtracking but costs tens of ns per field. Where the
            // pattern's worst case is provably small for a field's length, a timeout-free copy matches instead.
            _untimedMaxLength = RegexWorkBound.MaxSafeLength(pattern);
            if (_untimedMaxLength >= 0)
            {
                _untimed = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
            }
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Rule regex on '{column}': expected a valid .NET regular expression: {e.Message}", nameof(pattern), e);
        }
    }

    public override string Expectation => $"to match /{_regex}/";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal);

    private sealed class Check(RegexRule rule, int ordinal) : RowCheck(rule, ordinal)
    {
        private readonly Regex _regex = rule._regex;
        private readonly Regex? _untimed = rule._untimed;
        private readonly int _untimedMaxLength = rule._untimedMaxLength;

        public override bool Test(RowContext row)
        {
            var field = row.Reader.GetField(Ordinal);
            if (_untimed is not null && field.Length <= _untimedMaxLength)
            {
                return _untimed.IsMatch(field);
            }

            try
            {
                return _regex.IsMatch(field);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }
    }
}

internal sealed class LengthRule(string column, int? min, int? max, double mostly, ValidationSeverity severity) : RowRule("length", column, mostly, severity)
{
    public override string Expectation => "a length " + Fmt.Range(min, max) + " characters";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal, min ?? 0, max ?? int.MaxValue);

    private sealed class Check(RowRule rule, int ordinal, int min, int max) : RowCheck(rule, ordinal)
    {
        public override bool Test(RowContext row)
        {
            var n = row.Reader.GetField(Ordinal).Length;
            return n >= min && n <= max;
        }
    }
}

internal sealed class UniqueRule(string column, double mostly, ValidationSeverity severity) : RowRule("unique", column, mostly, severity)
{
    public override string Expectation => "a value not seen in an earlier row (exact; memory grows with distinct values)";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal);

    /// <summary>The seen values in an <see cref="ExactValueSet"/>: 64-bit hashes in an open-addressing table, characters compared only
    /// on an equal hash, no object per value (about 3x faster than a <see cref="HashSet{T}"/> of strings and less than half the memory).</summary>
    private sealed class Check(RowRule rule, int ordinal) : RowCheck(rule, ordinal)
    {
        private readonly ExactValueSet _seen = new();

        public override bool Test(RowContext row) => _seen.Add(row.Reader.GetField(Ordinal));

        public override string Reason(RowContext row) => "expected a unique value, got a duplicate of an earlier row";
    }
}

internal sealed class CompositeUniqueRule(string[] columns, double mostly, ValidationSeverity severity) : RowRule("unique", null, mostly, severity)
{
    public IReadOnlyList<string> Columns { get; } = columns;

    private protected override string DefaultName => string.Join("+", Columns) + ".unique";

    public override string Expectation => $"a combination of ({string.Join(", ", Columns)}) not seen in an earlier row (exact; memory grows with distinct combinations)";

    internal override bool EvaluatesNulls => true;

    internal override IEnumerable<string> ReferencedColumns => Where is null ? Columns : Columns.Append(Where.Column);

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, [.. Columns.Select(context.Ordinal)]);

    private sealed class Check : RowCheck
    {
        private readonly int[] _ordinals;
        private readonly ExactValueSet _seen = new();
        private char[] _key = new char[256];

        public Check(RowRule rule, int[] ordinals)
            : base(rule, -1) => _ordinals = ordinals;

        public override bool Test(RowContext row)
        {
            // The key is each field prefixed by its length (a null by U+FFFF), so no two different rows share one: "a,bc" vs "ab,c".
            var n = 0;
            var allNull = true;
            foreach (var o in _ordinals)
            {
                var isNull = row.IsNull[o];
                allNull &= isNull;
                var field = isNull ? [] : row.Reader.GetField(o);
                var need = n + field.Length + 3;
                if (need > _key.Length)
                {
                    Array.Resize(ref _key, Math.Max(need, _key.Length * 2));
                }

                if (isNull)
                {
                    _key[n++] = '\uFFFF';
                    continue;
                }

                _key[n++] = (char)(field.Length & 0xFFFF);
                _key[n++] = (char)((field.Length >> 16) & 0x7FFF);
                field.CopyTo(_key.AsSpan(n));
                n += field.Length;
            }

            return allNull || _seen.Add(_key.AsSpan(0, n));
        }

        public override string Reason(RowContext row) => "expected a unique combination, got a duplicate of an earlier row";
    }
}

internal sealed class DateFormatRule(string column, string format, double mostly, ValidationSeverity severity) : RowRule("date_format", column, mostly, severity)
{
    public string Format { get; } = string.IsNullOrEmpty(format) ? throw new ArgumentException($"Rule date_format on '{column}': expected a date format such as yyyy-MM-dd.", nameof(format)) : format;

    public override string Expectation => $"a date in the format '{Format}'";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal);

    /// <summary>A fast exact check for <c>yyyy-MM-dd</c>, the format training data uses most.</summary>
    internal static bool IsIsoDay(ReadOnlySpan<char> v)
    {
        if (v.Length != 10 || v[4] != '-' || v[7] != '-')
        {
            return false;
        }

        var year = D(v[0]) * 1000 + D(v[1]) * 100 + D(v[2]) * 10 + D(v[3]);
        var month = D(v[5]) * 10 + D(v[6]);
        var day = D(v[8]) * 10 + D(v[9]);
        return year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);

        static int D(char c) => (uint)(c - '0') <= 9 ? c - '0' : -100_000;
    }

    private sealed class Check(DateFormatRule rule, int ordinal) : RowCheck(rule, ordinal)
    {
        private readonly string _format = rule.Format;
        private readonly bool _isoDay = rule.Format == "yyyy-MM-dd";

        public override bool Test(RowContext row)
        {
            var v = row.Reader.GetField(Ordinal);
            return _isoDay ? IsIsoDay(v) : DateTime.TryParseExact(v, _format, CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
        }
    }
}

internal sealed class OutlierRule(string column, OutlierMethod method, double k, double mostly, ValidationSeverity severity) : RowRule("outliers", column, mostly, severity)
{
    public double K { get; } = k > 0 && double.IsFinite(k) ? k : throw new ArgumentOutOfRangeException(nameof(k), k, $"Rule outliers on '{column}': k must be a positive number.");

    public override string Expectation => method == OutlierMethod.StdDev
        ? $"within {Fmt.N(K)} standard deviations of the mean"
        : $"within {Fmt.N(K)} inter-quartile ranges of the quartiles";

    internal override bool NeedsPrePass => true;

    internal OutlierMethod Method => method;

    internal override RowCheck Bind(int ordinal, BindContext context)
    {
        var lo = double.NegativeInfinity;
        var hi = double.PositiveInfinity;
        if (context.PrePass.TryGetValue(Column!, out var p))
        {
            if (method == OutlierMethod.StdDev && p.Statistics.Mean is { } mean)
            {
                var sd = p.Statistics.StdDev ?? 0;
                (lo, hi) = (mean - (K * sd), mean + (K * sd));
            }
            else if (method == OutlierMethod.Iqr && !double.IsNaN(p.Q1))
            {
                var iqr = p.Q3 - p.Q1;
                (lo, hi) = (p.Q1 - (K * iqr), p.Q3 + (K * iqr));
            }
        }

        return new Check(this, ordinal, lo, hi);
    }

    private sealed class Check(RowRule rule, int ordinal, double lo, double hi) : RowCheck(rule, ordinal)
    {
        // Text is not an outlier; the type rule judges it.
        public override bool Test(RowContext row) => !row.IsNumber[Ordinal] || (row.Number[Ordinal] >= lo && row.Number[Ordinal] <= hi);

        public override string Reason(RowContext row) => $"expected a value between {Fmt.N(lo)} and {Fmt.N(hi)} ({Rule.Expectation})";
    }
}

internal sealed class FieldPredicateRule(string column, string name, FieldPredicate predicate, double mostly, ValidationSeverity severity) : RowRule(name, column, mostly, severity)
{
    public override string Expectation => $"to satisfy '{Kind}'";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, ordinal, predicate);

    private sealed class Check(RowRule rule, int ordinal, FieldPredicate predicate) : RowCheck(rule, ordinal)
    {
        public override bool Test(RowContext row) => predicate(row.Reader.GetField(Ordinal));
    }
}

internal sealed class RowPredicateRule(string name, RowPredicate predicate, double mostly, ValidationSeverity severity) : RowRule(name, null, mostly, severity)
{
    public override string Expectation => $"the row to satisfy '{Kind}'";

    internal override RowCheck Bind(int ordinal, BindContext context) => new Check(this, predicate);

    private sealed class Check(RowRule rule, RowPredicate predicate) : RowCheck(rule, -1)
    {
        public override bool Test(RowContext row) => predicate(new DataRowView(row));
    }
}

internal sealed class ColumnExistsRule(string column, ValidationSeverity severity) : DatasetRule("exists", column, severity)
{
    public override string Expectation => "the column to exist";

    internal override (bool, double?, string?) Evaluate(DatasetFacts facts) => facts.Columns.ContainsKey(Column!) ? (true, null, null) : Missing();
}

internal sealed class RowCountRule(long? min, long? max, ValidationSeverity severity) : DatasetRule("row_count", null, severity)
{
    public override string Expectation => "an admitted row count " + Fmt.Range(min, max);

    internal override (bool, double?, string?) Evaluate(DatasetFacts facts) => (Fmt.In(facts.Rows, min, max), facts.Rows, null);
}

internal enum ColumnStatistic
{
    Mean,
    Min,
    Max,
    StdDev,
}

internal sealed class ColumnStatisticRule(string column, ColumnStatistic statistic, double? min, double? max, ValidationSeverity severity)
    : DatasetRule(statistic.ToString().ToLowerInvariant(), column, severity)
{
    public override string Expectation => $"the column's {Kind} {Fmt.Range(min, max)}";

    internal override (bool, double?, string?) Evaluate(DatasetFacts facts)
    {
        if (!facts.Columns.TryGetValue(Column!, out var s))
        {
            return Missing();
        }

        double? value = statistic switch
        {
            ColumnStatistic.Mean => s.Mean,
            ColumnStatistic.Min => s.Min,
            ColumnStatistic.Max => s.Max,
            _ => s.StdDev,
        };
        return value is { } v ? (Fmt.In(v, min, max), v, null) : (false, null, "the column has too few numeric values");
    }
}

internal sealed class CompletenessRule(string column, double minimum, ValidationSeverity severity) : DatasetRule("completeness", column, severity)
{
    public double Minimum { get; } = minimum is >= 0 and <= 1 ? minimum : throw new ArgumentOutOfRangeException(nameof(minimum), minimum, $"Rule completeness on '{column}': the minimum must be between 0 and 1.");

    public override string Expectation => $"at least {Minimum.ToString("P2", CultureInfo.InvariantCulture)} non-null values";

    internal override (bool, double?, string?) Evaluate(DatasetFacts facts) =>
        facts.Columns.TryGetValue(Column!, out var s) ? (s.Completeness >= Minimum, s.Completeness, null) : Missing();
}

internal sealed class ApproxUniqueRule(string column, double maxDuplicateFraction, ValidationSeverity severity) : DatasetRule("unique_approx", column, severity)
{
    public double MaxDuplicateFraction { get; } = maxDuplicateFraction is >= 0 and < 1 ? maxDuplicateFraction : throw new ArgumentOutOfRangeException(nameof(maxDuplicateFraction), maxDuplicateFraction, $"Rule unique_approx on '{column}': the duplicate fraction must be in [0, 1).");

    public override string Expectation => $"at least {(1 - MaxDuplicateFraction).ToString("P2", CultureInfo.InvariantCulture)} distinct values (HyperLogLog estimate, about 0.8 % error)";

    internal override (bool, double?, string?) Evaluate(DatasetFacts facts)
    {
        if (!facts.Columns.TryGetValue(Column!, out var s))
        {
            return Missing();
        }

        var nonNull = s.Count - s.Nulls;
        var ratio = nonNull == 0 ? 1 : s.DistinctEstimate / (double)nonNull;
        return (ratio >= 1 - MaxDuplicateFraction, ratio, null);
    }
}
