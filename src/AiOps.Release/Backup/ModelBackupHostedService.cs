using AiOps.Release.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Backup;

/// <summary>
/// Runs <see cref="IModelBackup"/> at start (when <see cref="ModelBackupOptions.RunOnStart"/>) and then every
/// <see cref="ModelBackupOptions.Interval"/> of <see cref="TimeProvider"/> time, counted from the host's start; never two
/// runs at once, and a failed run is logged and retried at the next interval. Does nothing when
/// <see cref="ModelBackupOptions.Scheduled"/> is <see langword="false"/>.
/// </summary>
internal sealed class ModelBackupHostedService(
    IModelBackup backup,
    IOptions<ModelBackupOptions> options,
    TimeProvider timeProvider,
    ILogger<ModelBackupHostedService> logger) : IHostedService, IDisposable
{
    private PeriodicJob? _job;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Scheduled)
        {
            return Task.CompletedTask; // the host calls IModelBackup.RunOnceAsync itself
        }

        // Started with the host, so time that passes after the host has started is never missed.
        _job ??= new PeriodicJob(
            "model backup",
            options.Value.Interval,
            options.Value.RunOnStart,
            async ct => await backup.RunOnceAsync(ct).ConfigureAwait(false),
            timeProvider,
            logger);
        _job.Start(CancellationToken.None); // the start token only bounds start-up; StopAsync stops the job
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _job?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => _job?.Dispose();
}
