using System.Diagnostics.Metrics;

namespace AiOps.Inference.Serving;

/// <summary>
/// The serving edge's instrument on meter <c>AiOps.Inference</c>: <c>aiops.inference.request.duration</c> (unit
/// <c>s</c>), from the moment an endpoint starts on a request to the moment its answer is written: reading and parsing the
/// body, queueing, running, serialising and sending. Tags <c>model</c> (a served model's name, <c>unknown</c> otherwise,
/// so the label set stays bounded), <c>protocol</c> (<c>rest</c> or <c>grpc</c>) and <c>outcome</c>. Exported to
/// Prometheus by AiOps.Monitoring as <c>aiops_inference_request_duration_seconds</c>.
/// </summary>
internal sealed class ServingMetrics
{
    /// <summary>The instrument name.</summary>
    public const string RequestDurationName = "aiops.inference.request.duration";

    /// <summary>Bucket boundaries: 100 µs to 10 s.</summary>
    internal static readonly double[] Buckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Histogram<double> _duration;
    private readonly TimeProvider _time;

    public ServingMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(AiOpsInferenceDiagnostics.MeterName);
        _duration = meter.CreateHistogram(
            RequestDurationName,
            "s",
            "End-to-end time of an inference request at the serving edge: parse, queue, run and serialise.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
    }

    /// <summary>A timestamp of the host's <see cref="TimeProvider"/>, for <see cref="Record"/>.</summary>
    public long Start() => _time.GetTimestamp();

    /// <summary>Records one request that started at <paramref name="startTimestamp"/> (from <see cref="Start"/>).</summary>
    public void Record(long startTimestamp, string model, string protocol, string outcome) =>
        _duration.Record(
            _time.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("model", model),
            new KeyValuePair<string, object?>("protocol", protocol),
            new KeyValuePair<string, object?>("outcome", outcome));
}
