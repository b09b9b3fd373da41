using System.Globalization;
using System.Text;
using AiOps.Data.Gates;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using Microsoft.Extensions.Options;

namespace AiOps.Data.Internal;

internal sealed class DataGate(DataValidator validator, IPiiMasker masker, IOptions<AiOpsDataOptions> options, RuleSetCatalog catalog, DataMetrics metrics) : IDataGate
{
    public Task<IngestResult> IngestAsync(DataSource source, string ruleSetName, IngestOptions? options = null, CancellationToken cancellationToken = default) =>
        IngestAsync(source, catalog.Get(ruleSetName), options, cancellationToken);

    public Task<IngestResult> IngestAsync(DataSource source, RuleSet rules, IngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rules);
        return Task.Run(() => Ingest(source, rules, options ?? new IngestOptions(), cancellationToken), cancellationToken);
    }

    private IngestResult Ingest(DataSource source, RuleSet rules, IngestOptions ingest, CancellationToken cancellationToken)
    {
        using var activity = AiOpsDataDiagnostics.Source.StartActivity(AiOpsDataDiagnostics.GateActivityName);
        activity?.SetTag("aiops.data.source", source.Name);
        try
        {
            var result = IngestCore(source, rules, ingest, cancellationToken);
            if (activity is not null)
            {
                activity.SetTag("aiops.data.passed", result.Admitted);
                activity.SetTag("aiops.data.rows", result.RowsRead);
                activity.SetTag("aiops.data.quarantined", result.RowsQuarantined);
            }

            return result;
        }
        catch (Exception e) when (activity is not null)
        {
            Tracing.Fail(activity, e);
            throw;
        }
    }

    private IngestResult IngestCore(DataSource source, RuleSet rules, IngestOptions ingest, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var output = Path.GetFullPath(ingest.OutputPath ?? Path.Combine(o.AdmittedDirectory, source.Name + ".csv"));
        var quarantine = Path.GetFullPath(ingest.QuarantinePath ?? Path.Combine(o.QuarantineDirectory, source.Name + ".quarantine.csv"));
        if (string.Equals(output, quarantine, StringComparison.Ordinal))
        {
            throw new ArgumentException($"IngestOptions.OutputPath and QuarantinePath must differ; both are '{output}'.", nameof(ingest));
        }

        // Both files are written atomically: a failed or cancelled run leaves the previous ones as they were and no
        // temporary file behind; a rejected file's admitted output is discarded (disposed without a commit).
        using var admittedWriter = AtomicFile.Create(output);
        using var quarantineWriter = AtomicFile.Create(quarantine);
        ValidationReport report;
        long passed, quarantined;
        var declared = new Dictionary<string, PiiOperator>(ingest.MaskColumns, StringComparer.Ordinal);
        // One masker everywhere: the host's registered IPiiMasker masks the declared columns too (its MaskValue).
        if (declared.ContainsValue(PiiOperator.Hash) && masker is PiiMasker { HasHashKey: false })
        {
            throw new InvalidOperationException("IngestOptions.MaskColumns uses the Hash PII operator but no key is configured: set AiOpsDataOptions.PiiHashKey (at least 16 characters).");
        }

        using (var sink = new GateSink(admittedWriter.Stream, quarantineWriter.Stream, masker, declared))
        {
            report = validator.Validate(source, rules, sink, cancellationToken, declared);
            sink.Flush();
            passed = sink.Passed;
            quarantined = sink.Quarantined;
        }

        quarantineWriter.Commit();
        string? admittedPath = null;
        if (report.Passed)
        {
            admittedWriter.Commit();
            admittedPath = output;
        }

        metrics.GateRun(report.Passed);
        metrics.Rows(report.Passed ? "admitted" : "rejected", passed);
        metrics.Rows("quarantined", quarantined);
        return new IngestResult(report, report.Passed, admittedPath, quarantine, report.RowsChecked, passed, quarantined);
    }

    private sealed class GateSink : IRowSink, IDisposable
    {
        private const char Delimiter = ',';
        private readonly StreamWriter _admitted;
        private readonly StreamWriter _quarantine;
        private readonly IPiiMasker _masker;
        private readonly IDictionary<string, PiiOperator> _maskColumns;
        private readonly StringBuilder _text = new();
        private PiiOperator?[] _policies = [];

        public GateSink(Stream admitted, Stream quarantine, IPiiMasker masker, IDictionary<string, PiiOperator> maskColumns)
        {
            var utf8 = new UTF8Encoding(false);
            _admitted = new StreamWriter(admitted, utf8, 1 << 16, leaveOpen: true) { NewLine = "\n" };
            _quarantine = new StreamWriter(quarantine, utf8, 1 << 16, leaveOpen: true) { NewLine = "\n" };
            _masker = masker;
            _maskColumns = maskColumns;
        }

        public long Passed { get; private set; }

        public long Quarantined { get; private set; }

        public void Begin(IReadOnlyList<string> columns)
        {
            _policies = new PiiOperator?[columns.Count];
            foreach (var (column, op) in _maskColumns)
            {
                var i = -1;
                for (var j = 0; j < columns.Count && i < 0; j++)
                {
                    i = columns[j] == column ? j : -1;
                }

                if (i < 0)
                {
                    throw new ArgumentException($"IngestOptions.MaskColumns names column '{column}', which the data does not have; it has: {string.Join(", ", columns)}.");
                }

                _policies[i] = op;
            }

            WriteHeader(_admitted, columns);
            _quarantine.Write("_line,_row,_rules,_reasons");
            foreach (var c in columns)
            {
                _quarantine.Write(Delimiter);
                CsvText.WriteField(_quarantine, c, Delimiter);
            }

            _quarantine.WriteLine();
        }

        public void Row(RowContext row, bool quarantined, List<RowCheck> failures, string? malformedReason)
        {
            var reader = row.Reader;
            if (!quarantined)
            {
                Passed++;
                WriteFields(_admitted, reader, reader.RowFieldCount);
                _admitted.WriteLine();
                return;
            }

            Quarantined++;
            var w = _quarantine;
            w.Write(reader.Line.ToString(CultureInfo.InvariantCulture));
            w.Write(Delimiter);
            w.Write(reader.Row.ToString(CultureInfo.InvariantCulture));
            w.Write(Delimiter);
            _text.Clear();
            if (malformedReason is not null)
            {
                CsvText.WriteField(w, "well_formed", Delimiter);
                w.Write(Delimiter);
                CsvText.WriteField(w, malformedReason, Delimiter);
            }
            else
            {
                foreach (var f in failures)
                {
                    _text.Append(_text.Length == 0 ? "" : ";").Append(f.Rule.Name);
                }

                CsvText.WriteField(w, _text.ToString(), Delimiter);
                w.Write(Delimiter);
                _text.Clear();
                foreach (var f in failures)
                {
                    _text.Append(_text.Length == 0 ? "" : "; ").Append(f.Rule.Name).Append(": ").Append(f.Reason(row));
                }

                CsvText.WriteField(w, _text.ToString(), Delimiter);
            }

            // A malformed row keeps every field it had, so nothing is lost. Its fields cannot be aligned with the columns, so when
            // any column is declared PII, every field of it is masked whole (a declared column's operator at its position, Mask elsewhere).
            var maskAll = malformedReason is not null && _maskColumns.Count > 0;
            for (var i = 0; i < reader.RowFieldCount; i++)
            {
                w.Write(Delimiter);
                if (maskAll)
                {
                    var op = i < _policies.Length && _policies[i] is { } declared ? declared : PiiOperator.Mask;
                    CsvText.WriteField(w, _masker.MaskValue(reader.GetField(i).ToString(), op), Delimiter);
                }
                else
                {
                    WriteValue(w, reader.GetField(i), i);
                }
            }

            w.WriteLine();
        }

        private void WriteFields(StreamWriter w, IRowReader reader, int count)
        {
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    w.Write(Delimiter);
                }

                WriteValue(w, reader.GetField(i), i);
            }
        }

        private void WriteValue(StreamWriter w, ReadOnlySpan<char> value, int ordinal)
        {
            if (ordinal < _policies.Length && _policies[ordinal] is { } op && !value.IsEmpty)
            {
                // A declared column is masked whole, whatever it holds; detection only chooses the shape.
                CsvText.WriteField(w, _masker.MaskValue(value.ToString(), op), Delimiter);
            }
            else
            {
                CsvText.WriteField(w, value, Delimiter);
            }
        }

        private static void WriteHeader(StreamWriter w, IReadOnlyList<string> values)
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    w.Write(Delimiter);
                }

                CsvText.WriteField(w, values[i], Delimiter);
            }

            w.WriteLine();
        }

        public void Flush()
        {
            _admitted.Flush();
            _quarantine.Flush();
        }

        public void Dispose()
        {
            _admitted.Dispose();
            _quarantine.Dispose();
        }
    }
}
