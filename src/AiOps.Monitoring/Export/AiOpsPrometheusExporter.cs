using System.Diagnostics.Metrics;
using AiOps.Monitoring.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace AiOps.Monitoring.Export;

/// <summary>
/// The Prometheus side of AiOps monitoring: a prometheus-net <see cref="CollectorRegistry"/> holding the monitored
/// runners' metrics and every measurement of the exported AiOps meters (bridged from System.Diagnostics.Metrics with
/// Prometheus names: <c>aiops.inference.duration</c> in seconds becomes <c>aiops_inference_duration_seconds</c>, a
/// counter gets <c>_total</c>). Serve it with <c>app.MapAiOpsMetrics()</c> on ASP.NET hosts, with the standalone
/// server (<see cref="PrometheusExportOptions.MetricServerPort"/>) on worker hosts, or write it yourself with
/// <see cref="WriteAsync"/>.
/// </summary>
public sealed class AiOpsPrometheusExporter : IDisposable
{
    /// <summary>The content type of the text exposition format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The content type of the OpenMetrics text format (with exemplars: the trace and span ids of a sampled call).</summary>
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private readonly MeterPrometheusBridge _bridge;

    internal AiOpsPrometheusExporter(IOptions<AiOpsMonitoringOptions> options, MetricLabelPolicy labels, ILogger<AiOpsPrometheusExporter> logger, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Registry = Prometheus.Metrics.NewCustomRegistry();
        LatencyBuckets = [.. options.Value.Prometheus.LatencyBuckets];
        _bridge = new MeterPrometheusBridge(Registry, labels, options.Value.Prometheus, LatencyBuckets, logger, meterFactory);
    }

    /// <summary>The registry every AiOps metric is exported through. Add your own collectors to it if you like.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The latency bucket bounds in seconds.</summary>
    public IReadOnlyList<double> LatencyBuckets { get; }

    /// <summary>Writes the current metrics in the Prometheus text format.</summary>
    /// <param name="destination">The stream to write to (e.g. the HTTP response body).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken = default) =>
        Registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    /// <summary>
    /// Writes the current metrics in the OpenMetrics text format, which carries exemplars: histogram buckets and counters
    /// recorded inside an <see cref="System.Diagnostics.Activity"/> point at its <c>trace_id</c> and <c>span_id</c>.
    /// </summary>
    /// <param name="destination">The stream to write to (e.g. the HTTP response body).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task WriteOpenMetricsAsync(Stream destination, CancellationToken cancellationToken = default) =>
        Registry.CollectAndExportAsTextAsync(destination, ExpositionFormat.OpenMetricsText, cancellationToken);

    /// <summary>Whether an <c>Accept</c> header asks for OpenMetrics (as Prometheus does when exemplar storage is on).</summary>
    /// <param name="accept">The header's value; <see langword="null"/> when absent.</param>
    public static bool AcceptsOpenMetrics(string? accept) =>
        accept is not null && accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the current metrics in the Prometheus text format.</summary>
    /// <param name="cancellationToken">Cancels the scrape.</param>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <inheritdoc />
    public void Dispose() => _bridge.Dispose();
}
