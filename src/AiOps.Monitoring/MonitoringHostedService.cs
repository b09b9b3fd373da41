using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace AiOps.Monitoring;

/// <summary>
/// Starts the Prometheus bridge (and the standalone metric server when configured), polls GPUs every
/// <see cref="GpuTelemetryOptions.PollInterval"/> and evaluates the alert rules every
/// <see cref="AlertRuleOptions.EvaluationInterval"/>, on the registered <see cref="TimeProvider"/>: each runs at start and
/// then once per interval, never two runs of one at once; a failure is logged and the next interval retries.
/// </summary>
internal sealed partial class MonitoringHostedService(
    AiOpsPrometheusExporter exporter,
    IGpuTelemetry gpu,
    IAlertEvaluator evaluator,
    TimeProvider time,
    IOptions<AiOpsMonitoringOptions> options,
    ILogger<MonitoringHostedService> logger) : IHostedService, IDisposable
{
    private readonly List<PeriodicJob> _jobs = [];
    private MetricServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var prometheus = options.Value.Prometheus;
        if (prometheus.MetricServerPort is { } port)
        {
            _server = new MetricServer(prometheus.MetricServerHostname, port, prometheus.MetricServerPath, exporter.Registry);
            _server.Start();
            LogServerStarted(logger, prometheus.MetricServerHostname, port, prometheus.MetricServerPath);
        }

        if (_jobs.Count == 0)
        {
            _jobs.Add(new PeriodicJob("alert evaluation", options.Value.Alerts.EvaluationInterval, runAtStart: true, async ct => await evaluator.EvaluateAsync(ct).ConfigureAwait(false), time, logger));
            if (options.Value.Gpu.Enabled)
            {
                _jobs.Add(new PeriodicJob("GPU poll", options.Value.Gpu.PollInterval, runAtStart: true, async ct => await gpu.PollAsync(ct).ConfigureAwait(false), time, logger));
            }
        }

        foreach (var job in _jobs)
        {
            job.Start(CancellationToken.None); // the start token only bounds start-up; StopAsync stops the jobs
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_jobs.Select(j => j.StopAsync(cancellationToken))).ConfigureAwait(false);
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
            _server.Dispose();
            _server = null;
        }
    }

    public void Dispose()
    {
        foreach (var job in _jobs)
        {
            job.Dispose();
        }

        _server?.Dispose();
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Prometheus metric server listening on {Host}:{Port}/{Path}")]
    private static partial void LogServerStarted(ILogger logger, string host, int port, string path);
}
