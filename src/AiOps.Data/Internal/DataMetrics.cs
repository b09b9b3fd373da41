using System.Diagnostics.Metrics;

namespace AiOps.Data.Internal;

/// <summary>The "AiOps.Data" meter: rows by outcome, gate runs by outcome, validation duration.</summary>
internal sealed class DataMetrics : IDisposable
{
    public const string MeterName = AiOpsDataDiagnostics.MeterName;
    private readonly Meter _meter;
    private readonly Counter<long> _rows;
    private readonly Counter<long> _gateRuns;
    private readonly Histogram<double> _duration;

    public DataMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _rows = _meter.CreateCounter<long>("aiops.data.rows", "{row}", "Rows through the gate by outcome: admitted, quarantined, or rejected (passed their rules but the gate failed).");
        _gateRuns = _meter.CreateCounter<long>("aiops.data.gate.runs", "{run}", "Gate runs by outcome: passed or failed.");
        _duration = _meter.CreateHistogram<double>("aiops.data.validation.duration", "s", "Time to validate one dataset.");
    }

    public void Rows(string outcome, long count)
    {
        if (count > 0)
        {
            _rows.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void GateRun(bool passed) => _gateRuns.Add(1, new KeyValuePair<string, object?>("outcome", passed ? "passed" : "failed"));

    public void Validated(TimeSpan duration, bool passed) =>
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", passed ? "passed" : "failed"));

    public void Dispose() => _meter.Dispose();
}
