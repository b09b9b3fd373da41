using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Gpu;
using AiOps.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Samples.OpsWorker.Jobs;

/// <summary>The GPU cost state of one device over the last status period.</summary>
public enum GpuCostState
{
    /// <summary>Busy between the idle and hot thresholds.</summary>
    Normal = 0,

    /// <summary>Busy less than 30 % of the time: paying for an idle GPU.</summary>
    Idle,

    /// <summary>Busy more than 85 % of the time: add capacity before latency suffers.</summary>
    Hot,
}

/// <summary>One status report: GPU state per device (or why there is none) and the alerts firing.</summary>
/// <param name="HasGpu">Whether a GPU was read.</param>
/// <param name="Reason">Why no GPU was read, when none was.</param>
/// <param name="Devices">Per device: index, name, average utilisation over the period and its cost state.</param>
/// <param name="FiringAlerts">The alert rules firing now.</param>
public sealed record OpsStatus(bool HasGpu, string? Reason, IReadOnlyList<(int Index, string Name, double? Utilization, GpuCostState State)> Devices, IReadOnlyList<string> FiringAlerts);

/// <summary>
/// Reports GPU use against the field's cost thresholds (idle below 30 %, hot above 85 %) and the alerts firing, every
/// <see cref="OpsWorkerOptions.StatusInterval"/> (from start; a failed report is logged and the next one runs). GPU telemetry and alert evaluation themselves run in AiOps.Monitoring;
/// on a machine without a GPU the report says so once, with the reason, and carries on.
/// </summary>
public sealed partial class OpsStatusJob(
    IGpuTelemetry gpu,
    IAlertEvaluator alerts,
    IOptions<OpsWorkerOptions> options,
    TimeProvider time,
    ILogger<OpsStatusJob> logger) : IHostedService, IDisposable
{
    /// <summary>Below this average utilisation a GPU is idle.</summary>
    public const double IdleBelow = 0.30;

    /// <summary>Above this average utilisation a GPU is hot.</summary>
    public const double HotAbove = 0.85;

    private bool _reportedNoGpu;
    private PeriodicJob? _job;

    /// <summary>Polls the GPU now and classifies each device over the last status period.</summary>
    /// <param name="cancellationToken">Cancels the poll.</param>
    /// <returns>The report.</returns>
    public async Task<OpsStatus> RunCycleAsync(CancellationToken cancellationToken = default)
    {
        var reading = await gpu.PollAsync(cancellationToken).ConfigureAwait(false);
        var firing = alerts.Firing.Select(a => a.ToString()).ToList();
        if (!reading.HasGpu)
        {
            if (!_reportedNoGpu)
            {
                _reportedNoGpu = true;
                LogNoGpu(logger, reading.Result.Source, reading.Result.Reason ?? "no device");
            }

            return new OpsStatus(false, reading.Result.Reason, [], firing);
        }

        var since = time.GetUtcNow() - options.Value.StatusInterval;
        var devices = new List<(int, string, double?, GpuCostState)>();
        foreach (var d in reading.Result.Devices)
        {
            var average = gpu.GetAverageUtilization(d.Index, since) ?? d.Utilization;
            var state = average switch
            {
                < IdleBelow => GpuCostState.Idle,
                > HotAbove => GpuCostState.Hot,
                _ => GpuCostState.Normal,
            };
            devices.Add((d.Index, d.Name, average, state));
            if (state != GpuCostState.Normal)
            {
                LogGpuState(logger, d.Index, d.Name, state, average ?? double.NaN);
            }
        }

        foreach (var alert in firing)
        {
            LogFiring(logger, alert);
        }

        return new OpsStatus(true, null, devices, firing);
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _job ??= new PeriodicJob("ops status report", options.Value.StatusInterval, runAtStart: true, RunCycleAsync, time, logger);
        _job.Start(CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => _job?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose() => _job?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "No GPU to watch (source {Source}): {Reason}. GPU cost alerts are off on this machine.")]
    private static partial void LogNoGpu(ILogger logger, string source, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU {Index} ({Name}) is {State}: average utilisation {Utilization:P0}.")]
    private static partial void LogGpuState(ILogger logger, int index, string name, GpuCostState state, double utilization);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert firing: {Alert}")]
    private static partial void LogFiring(ILogger logger, string alert);
}
