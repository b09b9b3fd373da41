using System.Globalization;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Internal;

/// <summary>One streaming pass that profiles every column (completeness, number and integer shares, min/max, exact distinct values while
/// they can still matter, the first few distinct values, boolean/date/PII shares) and turns the profile into rules that pass on it.
/// Memory: the exact distinct set of a column is dropped once the column has both a duplicate and more distinct values than an
/// allowed-values set may list, so it is kept whole only for columns that are unique so far.</summary>
internal static class RuleSuggester
{
    /// <summary>Probes (boolean, date, PII kinds) that match fewer than half of a column's first values stop being evaluated.</summary>
    private const int ProbeSample = 1000;

    private static readonly PiiKind[] PatternKinds = [PiiKind.ChinaMobile, PiiKind.ChinaResidentId, PiiKind.Email, PiiKind.BankCard, PiiKind.IPv4, PiiKind.IPv6];

    /// <summary>A loose pattern per kind: every value the recogniser takes whole matches it, so the suggested rule holds where the
    /// recogniser did (the rule checks the shape; the recogniser's checksums stay the masker's business).</summary>
    internal static string PatternOf(PiiKind kind) => kind switch
    {
        PiiKind.ChinaMobile => @"^(?:(?:\+|00)?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}$",
        PiiKind.ChinaResidentId => @"^(?:[0-9]{17}[0-9Xx]|[0-9]{15})$",
        PiiKind.Email => @"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        PiiKind.BankCard => @"^[0-9](?:[ -]?[0-9]){12,18}$",
        PiiKind.IPv4 => @"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$",
        PiiKind.IPv6 => @"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "expected a built-in kind with a pattern"),
    };

    private sealed class Probe
    {
        public long Matched;
        public bool Off;

        /// <summary>Records one test; turns the probe off after the sample when it matched less than half.</summary>
        public void Note(bool matched, long tested)
        {
            if (matched)
            {
                Matched++;
            }

            if (tested == ProbeSample && Matched * 2 < tested)
            {
                Off = true;
            }
        }
    }

    private sealed class Column(string name, int maxValues)
    {
        public string Name { get; } = name;
        public long Count;
        public long Nulls;
        public long Numeric;
        public long Integers;
        public double Min = double.PositiveInfinity;
        public double Max = double.NegativeInfinity;
        public ExactValueSet? Distinct = new();
        public bool Duplicated;
        public readonly List<string> Values = [];
        public readonly int MaxValues = maxValues;
        public readonly Probe Boolean = new();
        public readonly Probe Date = new();
        public readonly Probe[] Kinds = [.. PatternKinds.Select(_ => new Probe()), new Probe()]; // the last: custom recognisers
        public readonly Probe[] Patterns = [.. PatternKinds.Select(_ => new Probe())];
        public RowCheck?[] PatternChecks = [];

        public long NonNull => Count - Nulls;

        public bool AnyPiiProbe => Array.Exists(Kinds, k => !k.Off);
    }

    public static RuleSuggestion Suggest(DataSource source, RuleSuggestionOptions options, CancellationToken cancellationToken)
    {
        var masker = options.Masker ?? new PiiMasker(null);
        using var reader = source.OpenChecked();
        var names = reader.Columns;
        var n = names.Count;
        var row = new RowContext(reader);
        var cols = new Column[n];
        for (var i = 0; i < n; i++)
        {
            cols[i] = new Column(names[i], options.MaxAllowedValues);
            var ordinal = i;
            cols[i].PatternChecks = [.. PatternKinds.Select(k => (RowCheck?)new RegexRule(names[ordinal], PatternOf(k), 1, ValidationSeverity.Error).Bind(ordinal, new BindContext()))];
        }

        var nullTokens = source.NullValues?.GetAlternateLookup<ReadOnlySpan<char>>();
        long rows = 0, malformed = 0;
        while (reader.Read())
        {
            if ((++rows & 0x3FFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (reader.RowFieldCount != n || reader.Malformed is not null)
            {
                malformed++; // not evaluated by row rules, as in validation
                continue;
            }

            for (var i = 0; i < n; i++)
            {
                var c = cols[i];
                c.Count++;
                var field = reader.GetField(i);
                if (field.IsEmpty || (nullTokens is { } t && t.Contains(field)))
                {
                    c.Nulls++;
                    row.IsNull[i] = true;
                    row.IsNumber[i] = false;
                    continue;
                }

                row.IsNull[i] = false;
                var tested = c.NonNull;
                if (NumberParser.TryParse(field, out var v, out var integer))
                {
                    c.Numeric++;
                    c.Integers += integer ? 1 : 0;
                    c.Min = Math.Min(c.Min, v);
                    c.Max = Math.Max(c.Max, v);
                }

                if (c.Distinct is { } set)
                {
                    if (set.Add(field))
                    {
                        if (c.Values.Count <= c.MaxValues)
                        {
                            c.Values.Add(field.ToString());
                        }
                    }
                    else
                    {
                        c.Duplicated = true;
                    }

                    if (c.Duplicated && set.Count > c.MaxValues)
                    {
                        c.Distinct = null; // neither unique nor few-valued: the rest of the set cannot change a suggestion
                    }
                }

                if (!c.Boolean.Off)
                {
                    c.Boolean.Note(TypeRule.IsBoolean(field), tested);
                }

                if (!c.Date.Off)
                {
                    c.Date.Note(TypeRule.IsIsoDate(field), tested);
                }

                if (c.AnyPiiProbe)
                {
                    NotePii(c, masker, field.ToString(), tested);
                }

                for (var k = 0; k < c.Patterns.Length; k++)
                {
                    if (!c.Patterns[k].Off)
                    {
                        c.Patterns[k].Note(c.PatternChecks[k]!.Test(row), tested);
                    }
                }
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Build(options, masker, cols, rows, malformed);
    }

    private static void NotePii(Column c, IPiiMasker masker, string value, long tested)
    {
        // A kind counts when one finding covers the whole value (a column OF phone numbers, not one that mentions one).
        var whole = -1;
        foreach (var f in masker.Scan(value))
        {
            if (f.Masked && f.Start == 0 && f.Length == value.Length)
            {
                whole = Array.IndexOf(PatternKinds, f.Kind) is var k and >= 0 ? k : PatternKinds.Length;
                break;
            }
        }

        for (var k = 0; k < c.Kinds.Length; k++)
        {
            if (!c.Kinds[k].Off)
            {
                c.Kinds[k].Note(whole == k, tested);
            }
        }
    }

    /// <summary>A bound that could be one person's value, by the rule the reports use to withhold min/max: an integer of 15 to 20 digits
    /// (resident IDs, cards) or one of 7 to 14 digits that a recogniser takes (a phone number read as a number). Such a column gets no
    /// range, so the suggestion never carries the value.</summary>
    private static bool LooksPersonal(double v, IPiiMasker masker)
    {
        var a = Math.Abs(v);
        if (!double.IsFinite(v) || a < 1e6)
        {
            return false;
        }

        return (a >= 1e14 && a < 1e20 && Math.Floor(a) == a)
            || (a < 1e14 && masker.Scan(v.ToString("0.##########", CultureInfo.InvariantCulture)).Count > 0);
    }

    /// <summary>Hundredths, rounded down, never above <paramref name="share"/>: a rule with this <c>mostly</c> passes on the data it came from.</summary>
    internal static double Floor2(double share)
    {
        // k / 100.0 is the double nearest k/100, so it is at most the double nearest a/b whenever k/100 <= a/b.
        var k = Math.Floor((share * 100) + 1e-9);
        if (k / 100 > share)
        {
            k--;
        }

        return Math.Max(0, k / 100);
    }

    private static string Pct(long part, long whole) =>
        (whole == 0 ? 1.0 : part / (double)whole).ToString("P2", CultureInfo.InvariantCulture) + string.Create(CultureInfo.InvariantCulture, $" of {whole}");

    private static RuleSuggestion Build(RuleSuggestionOptions options, IPiiMasker masker, Column[] cols, long rows, long malformed)
    {
        var min = options.MinimumFraction;
        var def = new RuleSetDefinition { Name = options.Name };
        var why = new List<SuggestedRule>();
        var detected = new Dictionary<string, PiiKind>(StringComparer.Ordinal);
        long failing = malformed; // a bound on the rows failing some rule: the union of every rule's failures

        void Add(RuleDefinition r, string reason, long fails)
        {
            def.Rules.Add(r);
            failing += fails;
            why.Add(new SuggestedRule($"{r.Column}.{r.Type}", r.Type, r.Column, reason));
        }

        foreach (var c in cols)
        {
            var nonNull = c.NonNull;
            if (c.Count == 0 || nonNull == 0)
            {
                continue; // no data, or only nulls: nothing to propose
            }

            double Share(long part) => part / (double)nonNull;
            var completeness = nonNull / (double)c.Count;
            if (completeness >= min)
            {
                Add(new RuleDefinition { Type = "not_null", Column = c.Name, Mostly = Floor2(completeness) }, $"{Pct(nonNull, c.Count)} values present", c.Nulls);
            }
            else
            {
                // A row rule would quarantine every null row; below the bar the column's completeness is judged on the dataset.
                Add(new RuleDefinition { Type = "completeness", Column = c.Name, Min = Floor2(completeness) }, $"only {Pct(nonNull, c.Count)} values present", 0);
            }

            // PII: a kind the recogniser takes whole for most values.
            PiiKind? kind = null;
            var kindIndex = -1;
            for (var k = 0; k < c.Kinds.Length; k++)
            {
                if (!c.Kinds[k].Off && Share(c.Kinds[k].Matched) >= min)
                {
                    kindIndex = k;
                    kind = k < PatternKinds.Length ? PatternKinds[k] : PiiKind.Custom;
                    break;
                }
            }

            var declared = options.PiiColumns.Contains(c.Name);
            if (kind is { } found && !declared)
            {
                detected[c.Name] = found;
            }

            var pii = declared || kind is not null;
            if (c.Integers > 0 && Share(c.Integers) >= min)
            {
                Add(new RuleDefinition { Type = "type", Column = c.Name, DataType = ColumnType.Integer, Mostly = Floor2(Share(c.Integers)) }, $"{Pct(c.Integers, nonNull)} values integers", nonNull - c.Integers);
            }
            else if (c.Numeric > 0 && Share(c.Numeric) >= min)
            {
                Add(new RuleDefinition { Type = "type", Column = c.Name, DataType = ColumnType.Number, Mostly = Floor2(Share(c.Numeric)) }, $"{Pct(c.Numeric, nonNull)} values numbers", nonNull - c.Numeric);
            }
            else if (!c.Boolean.Off && Share(c.Boolean.Matched) >= min)
            {
                Add(new RuleDefinition { Type = "type", Column = c.Name, DataType = ColumnType.Boolean, Mostly = Floor2(Share(c.Boolean.Matched)) }, $"{Pct(c.Boolean.Matched, nonNull)} values booleans", nonNull - c.Boolean.Matched);
            }
            else if (!c.Date.Off && Share(c.Date.Matched) >= min)
            {
                Add(new RuleDefinition { Type = "type", Column = c.Name, DataType = ColumnType.Date, Mostly = Floor2(Share(c.Date.Matched)) }, $"{Pct(c.Date.Matched, nonNull)} values ISO-8601 dates", nonNull - c.Date.Matched);
            }

            if (!pii && c.Numeric > 0 && Share(c.Numeric) >= min && !LooksPersonal(c.Min, masker) && !LooksPersonal(c.Max, masker))
            {
                Add(new RuleDefinition { Type = "between", Column = c.Name, Min = c.Min, Max = c.Max, Mostly = Floor2(Share(c.Numeric)) },
                    string.Create(CultureInfo.InvariantCulture, $"numbers from {Fmt.N(c.Min)} to {Fmt.N(c.Max)} ({Pct(c.Numeric, nonNull)} values numeric)"), nonNull - c.Numeric);
            }

            if (c.Distinct is { } set && !c.Duplicated && set.Count == nonNull && nonNull >= 2)
            {
                Add(new RuleDefinition { Type = "unique", Column = c.Name, Mostly = 1 }, string.Create(CultureInfo.InvariantCulture, $"all {nonNull} values distinct"), 0);
            }
            else if (!pii && c.Distinct is not null && c.Duplicated && c.Values.Count <= options.MaxAllowedValues)
            {
                var def2 = new RuleDefinition { Type = "in_set", Column = c.Name, Mostly = 1 };
                foreach (var value in c.Values.Order(StringComparer.Ordinal))
                {
                    def2.Values.Add(value);
                }

                Add(def2, string.Create(CultureInfo.InvariantCulture, $"{c.Values.Count} distinct values over {nonNull}"), 0);
            }

            if (kindIndex >= 0 && kindIndex < PatternKinds.Length && !c.Patterns[kindIndex].Off && Share(c.Patterns[kindIndex].Matched) >= min)
            {
                var matched = c.Patterns[kindIndex].Matched;
                Add(new RuleDefinition { Type = "regex", Column = c.Name, Pattern = PatternOf(PatternKinds[kindIndex]), Mostly = Floor2(Share(matched)) },
                    $"{(declared ? "declared PII; " : "")}{Pct(c.Kinds[kindIndex].Matched, nonNull)} values recognised as {PatternKinds[kindIndex]}, {Pct(matched, nonNull)} match the pattern", nonNull - matched);
            }
        }

        // Each rule passes alone; together they could fail more rows than the default pass rate allows. The bar is the bound on the
        // rows that pass every rule (all rows less the union of failures), rounded down, and never above the default.
        var passBound = rows == 0 ? 1 : Math.Max(0, (rows - failing) / (double)rows);
        def.PassRate = Math.Min(RuleSet.DefaultAccuracy, Floor2(passBound));
        var wellFormed = rows == 0 ? 1 : (rows - malformed) / (double)rows;
        def.DefaultMostly = Math.Min(RuleSet.DefaultAccuracy, Floor2(wellFormed));
        return new RuleSuggestion(def, why, rows, detected);
    }
}
