using System.Diagnostics.Metrics;
using AiOps.Monitoring.Export;
using Prometheus;

namespace AiOps.Monitoring.Metrics;

/// <summary>The outcome of one call through a monitored runner (the <c>outcome</c> label).</summary>
internal enum CallOutcome
{
    Ok = 0,
    BadInput,
    Rejected,
    Timeout,
    Cancelled,
    Unavailable,
    Error,
}

/// <summary>
/// The instruments of the <c>AiOps.Monitoring</c> meter. The per-call instruments of monitored runners are also bound
/// directly to prometheus-net children (one per outcome, resolved once per runner), so recording a call does no label
/// lookup and no allocation; the meter bridge skips them to avoid exporting them twice.
/// </summary>
internal sealed class MonitoringMetrics
{
    public const string MeterName = AiOpsMonitoringDiagnostics.MeterName;
    public const string RequestDurationName = "aiops.model.request.duration";
    public const string RequestsName = "aiops.model.requests";
    public const string InFlightName = "aiops.model.in_flight";

    internal static readonly string[] OutcomeNames = ["ok", "bad_input", "rejected", "timeout", "cancelled", "unavailable", "error"];

    private readonly Prometheus.Histogram _promDuration;
    private readonly Prometheus.Counter _promRequests;
    private readonly Prometheus.Gauge _promInFlight;
    private readonly MetricLabelPolicy _labels;

    public MonitoringMetrics(IMeterFactory meterFactory, AiOpsPrometheusExporter exporter, MetricLabelPolicy labels)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(exporter);
        _labels = labels;
        Meter = meterFactory.Create(MeterName);
        RequestDuration = Meter.CreateHistogram<double>(
            RequestDurationName,
            unit: "s",
            description: "Latency of calls through monitored model runners, including everything below the decorator.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = exporter.LatencyBuckets });
        Requests = Meter.CreateCounter<long>(RequestsName, unit: "{call}", description: "Calls through monitored model runners by outcome.");
        InFlight = Meter.CreateUpDownCounter<long>(InFlightName, unit: "{call}", description: "Calls in progress in monitored model runners.");
        ObserverErrors = Meter.CreateCounter<long>("aiops.monitoring.observer_errors", unit: "{error}", description: "Inference observers (drift, quality) that threw.");
        Alerts = Meter.CreateCounter<long>("aiops.alerts", unit: "{alert}", description: "Alert events published, by rule, severity and state.");

        var factory = Prometheus.Metrics.WithCustomRegistry(exporter.Registry);
        _promDuration = factory.CreateHistogram(
            "aiops_model_request_duration_seconds",
            "Latency of calls through monitored model runners, including everything below the decorator.",
            ["model", "version", "outcome"],
            new HistogramConfiguration { Buckets = [.. exporter.LatencyBuckets] });
        _promRequests = factory.CreateCounter("aiops_model_requests_total", "Calls through monitored model runners by outcome.", ["model", "version", "outcome"]);
        _promInFlight = factory.CreateGauge("aiops_model_in_flight", "Calls in progress in monitored model runners.", ["model", "version"]);
    }

    public Meter Meter { get; }

    public Histogram<double> RequestDuration { get; }

    public Counter<long> Requests { get; }

    public UpDownCounter<long> InFlight { get; }

    public Counter<long> ObserverErrors { get; }

    public Counter<long> Alerts { get; }

    /// <summary>Whether an instrument is exported natively (the bridge must skip it).</summary>
    public static bool IsNativelyExported(Instrument instrument) =>
        instrument.Meter.Name == MeterName && instrument.Name is RequestDurationName or RequestsName or InFlightName;

    /// <summary>Resolves the children and tags of one model version once.</summary>
    public RunnerInstruments Bind(ModelKey key)
    {
        _labels.RegisterModel(key.Model.Value);
        var model = _labels.MapModel(key.Model.Value);
        var version = _labels.MapVersion(model, key.Version.Value);
        var n = OutcomeNames.Length;
        var durations = new Prometheus.Histogram.Child[n];
        var requests = new Prometheus.Counter.Child[n];
        var tags = new KeyValuePair<string, object?>[n][];
        for (var i = 0; i < n; i++)
        {
            durations[i] = _promDuration.WithLabels(model, version, OutcomeNames[i]);
            requests[i] = _promRequests.WithLabels(model, version, OutcomeNames[i]);
            tags[i] =
            [
                new("model", key.Model.Value),
                new("version", key.Version.Value),
                new("outcome", OutcomeNames[i]),
            ];
        }

        KeyValuePair<string, object?>[] keyTags = [new("model", key.Model.Value), new("version", key.Version.Value)];
        return new RunnerInstruments(this, durations, requests, _promInFlight.WithLabels(model, version), tags, keyTags);
    }
}

/// <summary>Everything one monitored runner records into, resolved once.</summary>
internal sealed class RunnerInstruments(
    MonitoringMetrics metrics,
    Prometheus.Histogram.Child[] durations,
    Prometheus.Counter.Child[] requests,
    Prometheus.Gauge.Child inFlight,
    KeyValuePair<string, object?>[][] outcomeTags,
    KeyValuePair<string, object?>[] keyTags)
{
    public void Started()
    {
        inFlight.Inc();
        metrics.InFlight.Add(1, keyTags);
    }

    public void Completed(CallOutcome outcome, double seconds)
    {
        var i = (int)outcome;
        inFlight.Dec();
        durations[i].Observe(seconds);
        requests[i].Inc();
        metrics.InFlight.Add(-1, keyTags);
        metrics.RequestDuration.Record(seconds, outcomeTags[i]);
        metrics.Requests.Add(1, outcomeTags[i]);
    }
}
