using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Internal;

/// <summary>Receives every row with its verdict (the gate writes admitted and quarantined files from it).</summary>
internal interface IRowSink
{
    void Begin(IReadOnlyList<string> columns);

    /// <param name="row">The row.</param>
    /// <param name="quarantined">Whether it failed an Error rule or is malformed.</param>
    /// <param name="failures">The failed checks (empty for a malformed row).</param>
    /// <param name="malformedReason">Why the row is malformed, or null.</param>
    void Row(RowContext row, bool quarantined, List<RowCheck> failures, string? malformedReason);
}

/// <summary>The one-pass (two with outlier rules) streaming validator. It retains no rows: per row it classifies each field once,
/// updates the column statistics, runs the row checks and hands the verdict to an optional sink.</summary>
/// <param name="masker">Masks sample values.</param>
/// <param name="sampleSize">Failing rows kept per rule.</param>
/// <param name="time">The clock of the report's times.</param>
/// <param name="maxDegreeOfParallelism">Threads one validation may use: with 2 or more (and 2 or more processors) a large CSV
/// file is validated in two lanes (ValidationEngine.Lanes.cs); the report is the same.</param>
internal sealed partial class ValidationEngine(IPiiMasker masker, int sampleSize, TimeProvider time, int maxDegreeOfParallelism = 1)
{
    private const int MaxSampleValueLength = 64;
    private PiiOperator?[]? _declared;

    /// <param name="source">The data.</param>
    /// <param name="rules">The rules.</param>
    /// <param name="sink">Receives every row with its verdict, or null.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <param name="declaredPii">Declared PII columns and their operators: their sample values are masked whole and their numeric
    /// statistics withheld, so no report carries a raw value of them.</param>
    public ValidationReport Run(DataSource source, RuleSet rules, IRowSink? sink, CancellationToken cancellationToken, IReadOnlyDictionary<string, PiiOperator>? declaredPii = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rules);
        var started = time.GetUtcNow();
        var context = new BindContext();
        if (rules.RequiresTwoPasses)
        {
            if (!source.CanReread)
            {
                throw new InvalidOperationException($"Rule set '{rules.Name}' has outlier rules, which need two passes, but source '{source.Name}' can be read only once: use a file path or in-memory records.");
            }

            context = new BindContext { PrePass = PrePass(source, rules, cancellationToken) };
        }

        using var reader = source.OpenChecked();
        var columns = reader.Columns;
        var n = columns.Count;
        var row = new RowContext(reader);
        context.Ordinal = row.TryOrdinal;
        _declared = null;
        if (declaredPii is { Count: > 0 })
        {
            _declared = new PiiOperator?[n];
            for (var i = 0; i < n; i++)
            {
                if (declaredPii.TryGetValue(columns[i], out var op))
                {
                    _declared[i] = op;
                }
            }
        }

        var accumulators = new ColumnAccumulator[n];
        for (var i = 0; i < n; i++)
        {
            accumulators[i] = new ColumnAccumulator();
        }

        var checks = new List<RowCheck>();
        var unbound = new List<RuleResult>();
        foreach (var rule in rules.Rules)
        {
            if (rule is not RowRule rr)
            {
                continue;
            }

            var missing = rr.ReferencedColumns.Where(c => row.TryOrdinal(c) < 0).Distinct(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                var names = string.Join("', '", missing);
                unbound.Add(Result(rr, false) with { Message = $"column{(missing.Count > 1 ? "s" : "")} '{names}' not found; the data has: {string.Join(", ", columns)}" });
                continue;
            }

            var ordinal = rr.Column is null ? -1 : row.TryOrdinal(rr.Column);
            var check = rr.Bind(ordinal, context);
            if (rr.Where is { } where)
            {
                check.Where = new RuleCondition.Bound(where, row.TryOrdinal(where.Column));
            }

            checks.Add(check);
        }

        var checkArray = checks.ToArray();
        var keyOrdinal = rules.KeyColumn is null ? -1 : row.TryOrdinal(rules.KeyColumn);
        var nullTokens = source.NullValues?.GetAlternateLookup<ReadOnlySpan<char>>();
        var hasNullTokens = nullTokens is not null;
        var failures = new List<RowCheck>();
        var malformedSamples = new List<FailingRow>();
        long rows = 0, failedRows = 0, malformed = 0;
        sink?.Begin(columns);

        if (CanUseLanes(source, sink, n, checkArray))
        {
            (rows, failedRows, malformed, var samples) = RunLanes(source, reader, row, accumulators, checkArray, hasNullTokens ? nullTokens : null, keyOrdinal, cancellationToken);
            malformedSamples.AddRange(samples);
        }
        else
        {
            ReadAll(reader, row, sink, accumulators, checkArray, failures, malformedSamples, hasNullTokens ? nullTokens : null, keyOrdinal, ref rows, ref failedRows, ref malformed, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var statistics = new ColumnStatistics[n];
        var byName = new Dictionary<string, ColumnStatistics>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            statistics[i] = WithholdPii(accumulators[i].ToStatistics(columns[i]), _declared?[i] is not null);
            byName.TryAdd(columns[i], statistics[i]);
        }

        var results = new List<RuleResult>(rules.Rules.Count + 1);
        var wellFormed = rows == 0 ? 1 : (rows - malformed) / (double)rows;
        results.Add(new RuleResult("well_formed", "well_formed", null, RuleScope.Row, ValidationSeverity.Error, wellFormed >= rules.DefaultMostly,
            $"every row to have {n} fields, valid UTF-8 and RFC 4180 quoting")
        {
            Observed = wellFormed,
            Mostly = rules.DefaultMostly,
            Evaluated = rows,
            Unexpected = malformed,
            FailingRows = malformedSamples,
        });

        // Dataset rules judge what would be admitted: row_count counts rows that passed, not rows read.
        var facts = new DatasetFacts { Rows = rows - failedRows, Columns = byName };
        foreach (var rule in rules.Rules)
        {
            if (rule is DatasetRule dr)
            {
                var (passed, observed, message) = dr.Evaluate(facts);
                results.Add(new RuleResult(dr.Name, dr.Kind, dr.Column, RuleScope.Dataset, dr.Severity, passed, dr.Expectation) { Observed = observed, Message = message });
            }
            else if (checks.Find(c => ReferenceEquals(c.Rule, rule)) is { } c)
            {
                var fraction = c.Evaluated == 0 ? 1 : (c.Evaluated - c.Unexpected) / (double)c.Evaluated;
                results.Add(Result(c.Rule, fraction >= c.Rule.Mostly!.Value) with
                {
                    Observed = fraction,
                    Evaluated = c.Evaluated,
                    Unexpected = c.Unexpected,
                    FailingRows = c.Samples,
                });
            }
            else if (unbound.Find(u => u.Name == rule.Name && u.Kind == rule.Kind) is { } u)
            {
                results.Add(u);
            }
        }

        // The field's accuracy bar: the share of rows that pass EVERY Error rule, next to each rule's own mostly.
        var passRate = rows == 0 ? 1 : (rows - failedRows) / (double)rows;
        results.Insert(1, new RuleResult(RuleSet.PassRateRuleName, RuleSet.PassRateRuleName, null, RuleScope.Dataset, ValidationSeverity.Error, passRate >= rules.PassRate,
            $"at least {rules.PassRate.ToString("P2", System.Globalization.CultureInfo.InvariantCulture)} of rows to pass every Error rule and be well formed")
        {
            Observed = passRate,
            Evaluated = rows,
            Unexpected = failedRows,
            Message = rows == 0 ? "no rows read (row_count judges emptiness)" : null,
        });

        var ok = results.TrueForAll(r => r.Passed || r.Severity != ValidationSeverity.Error);
        var histograms = new List<ColumnHistogram>();
        for (var i = 0; i < n; i++)
        {
            // Withheld like min/max: for declared PII columns and wherever min/max were withheld as looking like personal data.
            if (_declared?[i] is null && statistics[i].Min is not null && accumulators[i].Histogram() is { Count: > 0 } bins)
            {
                histograms.Add(new ColumnHistogram(columns[i], bins));
            }
        }

        return new ValidationReport(source.Name, ok, rows, failedRows, results, statistics)
        {
            Histograms = histograms,
            MalformedRows = malformed,
            BlankLines = reader.BlankLines,
            StartedAt = started,
            CompletedAt = time.GetUtcNow(),
        };
    }

    /// <summary>The one-thread pass: every row, every column, every rule, in order, each verdict handed to the sink.</summary>
    private void ReadAll(
        IRowReader reader,
        RowContext row,
        IRowSink? sink,
        ColumnAccumulator[] accumulators,
        RowCheck[] checkArray,
        List<RowCheck> failures,
        List<FailingRow> malformedSamples,
        HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? nullTokens,
        int keyOrdinal,
        ref long rows,
        ref long failedRows,
        ref long malformed,
        CancellationToken cancellationToken)
    {
        var n = accumulators.Length;
        while (reader.Read())
        {
            rows++;
            if ((rows & 0x3FFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var fieldCount = reader.RowFieldCount;
            if (fieldCount != n || reader.Malformed is not null)
            {
                // Structural failures are never evaluated (their fields are misaligned or garbled): they go to quarantine with their line.
                malformed++;
                failedRows++;
                var reason = reader.Malformed ?? $"expected {n} fields, found {fieldCount}";
                if (malformedSamples.Count < sampleSize)
                {
                    malformedSamples.Add(new FailingRow(reader.Line, reader.Row, null, null, reason));
                }

                failures.Clear();
                sink?.Row(row, true, failures, reason);
                continue;
            }

            var quarantined = EvaluateRow(reader, row, accumulators, checkArray, failures, nullTokens, keyOrdinal);
            if (quarantined)
            {
                failedRows++;
            }

            sink?.Row(row, quarantined, failures, null);
        }
    }

    /// <summary>Classifies and parses each field once, updates the column statistics and runs the row checks. Kept out of
    /// <see cref="Run"/> so the per-row code is compiled by normal tiering (with PGO) rather than as Run's on-stack-replacement
    /// variant, which a single long validation would otherwise run in for its whole life.</summary>
    /// <returns>Whether the row failed an Error check.</returns>
    private bool EvaluateRow(
        IRowReader reader,
        RowContext row,
        ColumnAccumulator[] accumulators,
        RowCheck[] checkArray,
        List<RowCheck> failures,
        HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? nullTokens,
        int keyOrdinal)
    {
        var isNull = row.IsNull;
        var isNumber = row.IsNumber;
        var isInteger = row.IsInteger;
        var numbers = row.Number;
        var n = accumulators.Length;
        for (var i = 0; i < n; i++)
        {
            ClassifyField(reader.GetField(i), i, isNull, isNumber, isInteger, numbers, accumulators[i], nullTokens);
        }

        return RunChecks(reader, row, checkArray, failures, keyOrdinal);
    }

    /// <summary>Classifies field <paramref name="i"/> once (null, number, integer; the number parsed) into the row's arrays and
    /// adds it to its column's statistics when <paramref name="accumulator"/> is given.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void ClassifyField(
        ReadOnlySpan<char> field,
        int i,
        bool[] isNull,
        bool[] isNumber,
        bool[] isInteger,
        double[] numbers,
        ColumnAccumulator? accumulator,
        HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? nullTokens)
    {
        if (field.IsEmpty || (nullTokens is { } tokens && tokens.Contains(field)))
        {
            isNull[i] = true;
            isNumber[i] = false;
            accumulator?.AddNull();
            return;
        }

        isNull[i] = false;
        var num = NumberParser.TryParse(field, out var value, out var integer);
        isNumber[i] = num;
        isInteger[i] = integer;
        numbers[i] = value;
        accumulator?.Add(field, num, integer, value);
    }

    /// <summary>Runs the row checks on a classified row; fills <paramref name="failures"/>.</summary>
    /// <returns>Whether the row failed an Error check.</returns>
    private bool RunChecks(IRowReader reader, RowContext row, RowCheck[] checkArray, List<RowCheck> failures, int keyOrdinal)
    {
        var isNull = row.IsNull;
        var quarantined = false;
        failures.Clear();
        foreach (var check in checkArray)
        {
            var o = check.Ordinal;
            if ((o >= 0 && isNull[o] && !check.EvaluatesNulls) || (check.Where is { } where && !where.Holds(row)))
            {
                continue;
            }

            check.Evaluated++;
            if (check.Test(row))
            {
                continue;
            }

            check.Unexpected++;
            quarantined |= check.IsError;
            failures.Add(check);
            if (check.Samples.Count < sampleSize)
            {
                check.Samples.Add(new FailingRow(
                    reader.Line,
                    reader.Row,
                    keyOrdinal >= 0 ? SafeValue(reader.GetField(keyOrdinal), keyOrdinal) : null,
                    o >= 0 ? SafeValue(reader.GetField(o), o) : null,
                    check.Reason(row)));
            }
        }

        return quarantined;
    }

    private static RuleResult Result(DataRule rule, bool passed) =>
        new(rule.Name, rule.Kind, rule.Column, rule.Scope, rule.Severity, passed, rule.Describe()) { Mostly = rule.Mostly };

    /// <summary>Min, max (and the mean of few rows) can be one person's value. A declared PII column's numeric statistics (min, max,
    /// mean, deviation) are always withheld. Otherwise they are withheld when one looks like personal data: an integral value of
    /// 15 to 20 digits (resident IDs, card numbers: a double cannot even hold them exactly) or one of 7 to 14 digits that the
    /// recognisers match when written out in full (never in E-notation, which would hide it from them).</summary>
    internal ColumnStatistics WithholdPii(ColumnStatistics s, bool declared)
    {
        if (declared)
        {
            return s with { Min = null, Max = null, Mean = null, StdDev = null };
        }

        bool Looks(double? v)
        {
            if (v is not { } x || !double.IsFinite(x))
            {
                return false;
            }

            var a = Math.Abs(x);
            if (a < 1e6)
            {
                return false;
            }

            if (a >= 1e14 && a < 1e20 && Math.Floor(a) == a)
            {
                return true;
            }

            return a < 1e14 && masker.Scan(x.ToString("0.##########", System.Globalization.CultureInfo.InvariantCulture)).Count > 0;
        }

        return Looks(s.Min) || Looks(s.Max) || Looks(s.Mean) ? s with { Min = null, Max = null, Mean = null } : s;
    }

    /// <summary>A sample value as it may appear in a report or a log: masked whole for a declared PII column, otherwise PII-masked by
    /// detection; then truncated.</summary>
    private string SafeValue(ReadOnlySpan<char> value, int ordinal)
    {
        if (_declared?[ordinal] is { } op)
        {
            var whole = masker.MaskValue(value.ToString(), op);
            return whole.Length > MaxSampleValueLength ? whole[..MaxSampleValueLength] + "…" : whole;
        }

        var text = value.Length > MaxSampleValueLength ? value[..MaxSampleValueLength].ToString() + "…" : value.ToString();
        return masker.Mask(text).Text;
    }

    private static Dictionary<string, PrePassColumn> PrePass(DataSource source, RuleSet rules, CancellationToken cancellationToken)
    {
        var wanted = rules.Rules.OfType<OutlierRule>().Select(r => (r.Column!, r.Method)).ToList();
        using var reader = source.OpenChecked();
        var n = reader.Columns.Count;
        var targets = new List<(int Ordinal, ColumnAccumulator Acc)>();
        for (var i = 0; i < n; i++)
        {
            var name = reader.Columns[i];
            if (wanted.Exists(w => w.Item1 == name))
            {
                var acc = new ColumnAccumulator();
                if (wanted.Exists(w => w.Item1 == name && w.Method == OutlierMethod.Iqr))
                {
                    acc.EnableReservoir(1 << 16, seed: 17);
                }

                targets.Add((i, acc));
            }
        }

        var nullTokens = source.NullValues?.GetAlternateLookup<ReadOnlySpan<char>>();
        long rows = 0;
        while (reader.Read())
        {
            if ((++rows & 0x3FFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (reader.RowFieldCount != n || reader.Malformed is not null)
            {
                continue; // malformed rows are judged (and quarantined) in the main pass
            }

            foreach (var (ordinal, acc) in targets)
            {
                var field = reader.GetField(ordinal);
                if (field.IsEmpty || (nullTokens is { } t && t.Contains(field)))
                {
                    acc.AddNull();
                }
                else
                {
                    var num = NumberParser.TryParse(field, out var v, out var integer);
                    acc.Add(field, num, integer, v);
                }
            }
        }

        var result = new Dictionary<string, PrePassColumn>(StringComparer.Ordinal);
        foreach (var (ordinal, acc) in targets)
        {
            var (q1, q3) = acc.Quartiles();
            result[reader.Columns[ordinal]] = new PrePassColumn(acc.ToStatistics(reader.Columns[ordinal]), q1, q3);
        }

        return result;
    }
}
