using System.Globalization;
using System.Text.Json.Serialization;
using AiOps.Data.Internal;

namespace AiOps.Data.Quality;

/// <summary>When a row rule applies (<c>where</c>): a condition on one column of the row. Every clause that is set must hold; a row
/// where the condition does not hold is not evaluated by the rule (it neither passes nor fails it). A null field satisfies only
/// <see cref="IsNull"/> = <see langword="true"/>. In JSON: <c>"where": {"column": "country", "in": ["CN"]}</c>.</summary>
/// <example>
/// <code>
/// RuleSet.Create("users")
///     .Where(RuleCondition.Equal("country", "CN"), w =&gt; w.Column("phone", c =&gt; c.Matches(@"^1[3-9]\d{9}$")))
///     .Build();
/// </code>
/// </example>
[JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
public sealed class RuleCondition
{
    /// <summary>The column the condition reads.</summary>
    public string Column { get; set; } = string.Empty;

    /// <summary>The field must be one of these values (ordinal comparison); empty means no such clause.</summary>
    public IList<string> In { get; } = new List<string>();

    /// <summary>The field must be none of these values; empty means no such clause.</summary>
    public IList<string> NotIn { get; } = new List<string>();

    /// <summary><see langword="true"/>: the field must be null; <see langword="false"/>: it must not be; unset: no such clause.</summary>
    public bool? IsNull { get; set; }

    /// <summary>The field must be a number of at least this value.</summary>
    public double? Min { get; set; }

    /// <summary>The field must be a number of at most this value.</summary>
    public double? Max { get; set; }

    /// <summary>A condition that holds when <paramref name="column"/> equals <paramref name="value"/>.</summary>
    /// <param name="column">The column.</param>
    /// <param name="value">The value.</param>
    /// <returns>The condition.</returns>
    public static RuleCondition Equal(string column, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var c = new RuleCondition { Column = column };
        c.In.Add(value);
        return c;
    }

    /// <summary>A condition that holds when <paramref name="column"/> is one of <paramref name="values"/>.</summary>
    /// <param name="column">The column.</param>
    /// <param name="values">The values.</param>
    /// <returns>The condition.</returns>
    public static RuleCondition OneOf(string column, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var c = new RuleCondition { Column = column };
        foreach (var v in values)
        {
            c.In.Add(v);
        }

        return c;
    }

    /// <summary>A condition that holds when <paramref name="column"/> is not null.</summary>
    /// <param name="column">The column.</param>
    /// <returns>The condition.</returns>
    public static RuleCondition NotNull(string column) => new() { Column = column, IsNull = false };

    /// <summary>A condition that holds when <paramref name="column"/> is a number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="column">The column.</param>
    /// <param name="min">The least value, or <see langword="null"/>.</param>
    /// <param name="max">The largest value, or <see langword="null"/>.</param>
    /// <returns>The condition.</returns>
    public static RuleCondition Range(string column, double? min, double? max) => new() { Column = column, Min = min, Max = max };

    /// <summary>Why the condition cannot be used, or <see langword="null"/>.</summary>
    internal string? Problem()
    {
        if (string.IsNullOrWhiteSpace(Column))
        {
            return "Where.Column is empty; expected the column the condition reads";
        }

        if (In.Count == 0 && NotIn.Count == 0 && IsNull is null && Min is null && Max is null)
        {
            return $"Where on '{Column}' has no clause; expected at least one of In, NotIn, IsNull, Min, Max";
        }

        return Min is { } a && Max is { } b && a > b
            ? string.Create(CultureInfo.InvariantCulture, $"Where on '{Column}' has Min {a} above Max {b}; expected Min <= Max")
            : null;
    }

    /// <summary>A copy, so a rule set never changes when the caller's object does.</summary>
    internal RuleCondition Copy()
    {
        var c = new RuleCondition { Column = Column, IsNull = IsNull, Min = Min, Max = Max };
        foreach (var v in In)
        {
            c.In.Add(v);
        }

        foreach (var v in NotIn)
        {
            c.NotIn.Add(v);
        }

        return c;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var parts = new List<string>();
        if (In.Count == 1)
        {
            parts.Add($"{Column} = '{In[0]}'");
        }
        else if (In.Count > 1)
        {
            parts.Add($"{Column} in {{{string.Join(", ", In.Take(10))}}}");
        }

        if (NotIn.Count > 0)
        {
            parts.Add($"{Column} not in {{{string.Join(", ", NotIn.Take(10))}}}");
        }

        if (IsNull is { } n)
        {
            parts.Add(n ? $"{Column} is null" : $"{Column} is not null");
        }

        if (Min is not null || Max is not null)
        {
            parts.Add($"{Column} {Fmt.Range(Min, Max)}");
        }

        return string.Join(" and ", parts);
    }

    /// <summary>The condition bound to the column's ordinal for one run.</summary>
    internal sealed class Bound
    {
        private readonly int _ordinal;
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? _in;
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? _notIn;
        private readonly bool? _isNull;
        private readonly double _min;
        private readonly double _max;
        private readonly bool _numeric;

        public Bound(RuleCondition c, int ordinal)
        {
            _ordinal = ordinal;
            _in = c.In.Count > 0 ? new HashSet<string>(c.In, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>() : null;
            _notIn = c.NotIn.Count > 0 ? new HashSet<string>(c.NotIn, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>() : null;
            _isNull = c.IsNull;
            _numeric = c.Min is not null || c.Max is not null;
            _min = c.Min ?? double.NegativeInfinity;
            _max = c.Max ?? double.PositiveInfinity;
        }

        public bool Holds(RowContext row)
        {
            var isNull = row.IsNull[_ordinal];
            if (_isNull is { } wantNull && wantNull != isNull)
            {
                return false;
            }

            if (isNull)
            {
                return _in is null && _notIn is null && !_numeric;
            }

            var field = row.Reader.GetField(_ordinal);
            if ((_in is { } i && !i.Contains(field)) || (_notIn is { } x && x.Contains(field)))
            {
                return false;
            }

            return !_numeric || (row.IsNumber[_ordinal] && row.Number[_ordinal] >= _min && row.Number[_ordinal] <= _max);
        }
    }
}
