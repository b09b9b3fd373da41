namespace AiOps.Monitoring.Export;

/// <summary>How AiOps meters are exposed to Prometheus through prometheus-net.</summary>
public sealed class PrometheusExportOptions
{
    /// <summary>The meters exported. Default: every AiOps meter (Inference, Release, Data, Monitoring).</summary>
    public IList<string> Meters { get; } = ["AiOps.Inference", "AiOps.Release", "AiOps.Data", AiOpsMonitoringDiagnostics.MeterName];

    /// <summary>
    /// When set, a standalone prometheus-net <c>MetricServer</c> serves <see cref="MetricServerPath"/> on this port
    /// (for worker hosts without ASP.NET Core). Default <see langword="null"/>: no standalone server.
    /// </summary>
    public int? MetricServerPort { get; set; }

    /// <summary>The host name the standalone server binds (<c>+</c> for every interface). Default <c>+</c>.</summary>
    public string MetricServerHostname { get; set; } = "+";

    /// <summary>The path of the standalone server's scrape endpoint. Default <c>metrics/</c>.</summary>
    public string MetricServerPath { get; set; } = "metrics/";

    /// <summary>
    /// Bucket bounds (seconds) of the monitored runners' latency histogram, of every exported AiOps duration histogram
    /// that gives no advice of its own, and of the HTTP server's. Default: 100 µs to 10 s, so sub-millisecond models get
    /// measured quantiles rather than ones interpolated inside a 0-1 ms bucket (the 500 ms alert threshold and the 3 s
    /// P1 threshold are bucket bounds).
    /// </summary>
    public IList<double> LatencyBuckets { get; } = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5, 10];

    /// <summary>
    /// Whether the ASP.NET Core server's <c>http.server.request.duration</c> (meter <c>Microsoft.AspNetCore.Hosting</c>)
    /// is exported, as <c>http_server_request_duration_seconds</c> with the latency buckets: the time clients wait,
    /// including what the model metrics cannot see (queueing in Kestrel, parsing, serialising). Default
    /// <see langword="true"/>.
    /// </summary>
    public bool ExportHttpMetrics { get; set; } = true;

    /// <summary>
    /// Whether the .NET runtime's metrics (meter <c>System.Runtime</c>: process CPU time and memory, GC collections and
    /// heap, thread pool threads and queue, exceptions, as <c>dotnet_*</c>) are exported. Default <see langword="true"/>.
    /// </summary>
    public bool ExportRuntimeMetrics { get; set; } = true;

    /// <summary>
    /// Distinct values one label other than <c>model</c> and <c>version</c> may take per metric before further values
    /// are exported as <c>other</c>. Default 32.
    /// </summary>
    public int MaxValuesPerLabel { get; set; } = 32;

    /// <summary>
    /// Distinct values of the <c>feature</c> label per model (each model has its own budget, so one model's features
    /// do not use up another's) before further ones are exported as <c>other</c>. Default 256. The <c>bin</c> label of
    /// the drift bin counters is bounded by the profiles' bin counts and takes at least 64 values.
    /// </summary>
    public int MaxFeaturesPerModel { get; set; } = 256;

    /// <summary>Distinct versions of one registered model exported as labels before further ones become <c>other</c>. Default 16.</summary>
    public int MaxVersionsPerModel { get; set; } = 16;
}
