using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AiOps.Inference.Diagnostics;

/// <summary>
/// The instruments of meter <c>AiOps.Inference</c>. Exported to Prometheus as <c>aiops_inference_duration_seconds</c>,
/// <c>aiops_inference_queue_time_seconds</c>, <c>aiops_inference_batch_size</c>, <c>aiops_inference_requests_total</c>,
/// <c>aiops_inference_in_flight</c> and <c>aiops_inference_reloads_total</c>, with the bounded labels <c>model</c>,
/// <c>version</c> and <c>outcome</c>.
/// </summary>
internal sealed class InferenceMetrics : IDisposable
{
    public const string MeterName = AiOpsInferenceDiagnostics.MeterName;

    private static readonly double[] s_secondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly long[] s_batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    private readonly Meter? _ownedMeter;

    /// <summary>Creates the instruments on the meter from <paramref name="meterFactory"/>, or on a private meter when none is given.</summary>
    public InferenceMetrics(IMeterFactory? meterFactory)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter(MeterName);
        }
        else
        {
            meter = meterFactory.Create(MeterName);
        }

        Duration = meter.CreateHistogram(
            "aiops.inference.duration",
            "s",
            "Time from the call to its answer, queueing included.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        QueueTime = meter.CreateHistogram(
            "aiops.inference.queue_time",
            "s",
            "Time a batched call waited before its batch ran.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        BatchSize = meter.CreateHistogram(
            "aiops.inference.batch_size",
            "{row}",
            "Rows (first-dimension size) in each ONNX Runtime run.",
            tags: null,
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = s_batchBuckets });
        Requests = meter.CreateCounter<long>("aiops.inference.requests", "{request}", "Calls by outcome: ok, bad_input, rejected, timeout, cancelled, error.");
        InFlight = meter.CreateUpDownCounter<long>("aiops.inference.in_flight", "{request}", "Calls queued or running.");
        Reloads = meter.CreateCounter<long>(
            "aiops.inference.reloads",
            "{reload}",
            "Hot-swap attempts by outcome: ok, failed (the file did not load), refused (signature not compatible with the serving version).");
        Sequences = meter.CreateCounter<long>(
            "aiops.inference.sequences",
            "{sequence}",
            "Stateful sequences by event: started, ended (SequenceEnd), expired (idle past Sequences:IdleTimeout), rejected (Sequences:MaxSequences held).");
        LiveSequences = meter.CreateUpDownCounter<long>("aiops.inference.sequences_live", "{sequence}", "Stateful sequences whose state is held.");
    }

    public Counter<long> Reloads { get; }

    public Counter<long> Sequences { get; }

    public UpDownCounter<long> LiveSequences { get; }

    public Histogram<double> Duration { get; }

    public Histogram<double> QueueTime { get; }

    public Histogram<long> BatchSize { get; }

    public Counter<long> Requests { get; }

    public UpDownCounter<long> InFlight { get; }

    public void Dispose() => _ownedMeter?.Dispose();
}

/// <summary>The outcome tag values.</summary>
internal static class Outcomes
{
    public const string Ok = "ok";
    public const string BadInput = "bad_input";
    public const string Rejected = "rejected";
    public const string Timeout = "timeout";
    public const string Cancelled = "cancelled";
    public const string Error = "error";

    /// <summary>A reload whose signature is not compatible with the serving version's (hot swap refused).</summary>
    public const string Refused = "refused";

    /// <summary>A reload that failed to load (missing, corrupt, pinned hash, warm-up).</summary>
    public const string Failed = "failed";
}

/// <summary>Pre-built tag values of one runner, so recording allocates nothing.</summary>
internal sealed class RunnerInstruments(InferenceMetrics metrics, ModelKey key)
{
    private readonly KeyValuePair<string, object?> _model = new("model", key.Model.Value);
    private readonly KeyValuePair<string, object?> _version = new("version", key.Version.Value);

    public void Completed(string outcome, double seconds)
    {
        var tags = new TagList { _model, _version, new("outcome", outcome) };
        metrics.Requests.Add(1, tags);
        metrics.Duration.Record(seconds, tags);
    }

    public void Rejected()
    {
        var tags = new TagList { _model, _version, new("outcome", Outcomes.Rejected) };
        metrics.Requests.Add(1, tags);
    }

    public void Reload(string outcome) => metrics.Reloads.Add(1, _model, _version, new("outcome", outcome));

    public void InFlight(int delta) => metrics.InFlight.Add(delta, _model, _version);

    public void Batch(long rows) => metrics.BatchSize.Record(rows, _model, _version);

    public void Sequence(string what) => metrics.Sequences.Add(1, _model, _version, new("event", what));

    public void LiveSequences(int delta) => metrics.LiveSequences.Add(delta, _model, _version);

    public void Queued(double seconds) => metrics.QueueTime.Record(seconds, _model, _version);
}
