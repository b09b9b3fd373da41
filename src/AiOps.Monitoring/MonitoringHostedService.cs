using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Gpu;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace AiOps.Monitoring;

/// <summary>
/// Starts the Prometheus bridge (and the standalone metric server when configured), polls GPUs every
/// <see cref="GpuTelemetryOptions.PollInterval"/> and evaluates the alert rules every
/// <see cref="AlertRuleOptions.EvaluationInterval"/>, on the registered <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class MonitoringHostedService(
    AiOpsPrometheusExporter exporter,
    IGpuTelemetry gpu,
    IAlertEvaluator evaluator,
    TimeProvider time,
    IOptions<AiOpsMonitoringOptions> options,
    ILogger<MonitoringHostedService> logger) : BackgroundService
{
    private MetricServer? _server;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var prometheus = options.Value.Prometheus;
        if (prometheus.MetricServerPort is { } port)
        {
            _server = new MetricServer(prometheus.MetricServerHostname, port, prometheus.MetricServerPath, exporter.Registry);
            _server.Start();
            LogServerStarted(logger, prometheus.MetricServerHostname, port, prometheus.MetricServerPath);
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
            _server.Dispose();
            _server = null;
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tasks = new List<Task> { RunEvery(options.Value.Alerts.EvaluationInterval, evaluator.EvaluateAsync, "alert evaluation", stoppingToken) };
        if (options.Value.Gpu.Enabled)
        {
            tasks.Add(RunEvery(options.Value.Gpu.PollInterval, async ct => await gpu.PollAsync(ct).ConfigureAwait(false), "GPU poll", stoppingToken));
        }

        return Task.WhenAll(tasks);
    }

    private async Task RunEvery<T>(TimeSpan interval, Func<CancellationToken, ValueTask<T>> work, string what, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await work(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(logger, what, ex);
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Prometheus metric server listening on {Host}:{Port}/{Path}")]
    private static partial void LogServerStarted(ILogger logger, string host, int port, string path);

    [LoggerMessage(EventId = 41, Level = LogLevel.Error, Message = "AiOps monitoring {What} failed; retrying at the next interval")]
    private static partial void LogLoopFailed(ILogger logger, string what, Exception exception);
}
