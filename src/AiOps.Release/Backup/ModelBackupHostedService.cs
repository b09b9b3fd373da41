using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Backup;

/// <summary>Runs <see cref="IModelBackup"/> at start (optionally) and then every <see cref="ModelBackupOptions.Interval"/> of <see cref="TimeProvider"/> time.</summary>
internal sealed partial class ModelBackupHostedService(
    IModelBackup backup,
    IOptions<ModelBackupOptions> options,
    TimeProvider timeProvider,
    ILogger<ModelBackupHostedService> logger) : BackgroundService
{
    private PeriodicTimer? _timer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Created before ExecuteAsync runs, so time that passes after the host has started is never missed.
        _timer = new PeriodicTimer(options.Value.Interval, timeProvider);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (options.Value.RunOnStart)
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
            }

            while (await _timer!.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await backup.RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A failed run must not stop the schedule; it is logged and counted, and the next one retries.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRunFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Model backup run failed; the next run retries.")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);
}
