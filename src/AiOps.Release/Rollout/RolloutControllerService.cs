using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Rollout;

/// <summary>Evaluates every configured model's rollout once per <see cref="AiOpsReleaseOptions.EvaluationInterval"/> (timer from <see cref="TimeProvider"/>).</summary>
internal sealed class RolloutControllerService(
    IRolloutManager manager,
    IEnumerable<ReleaseModelRegistration> models,
    IOptions<AiOpsReleaseOptions> options,
    TimeProvider time,
    ILogger<RolloutControllerService> logger) : BackgroundService
{
    private readonly ModelId[] _models = [.. models.Select(m => m.Model).Distinct()];
    private PeriodicTimer? _timer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The timer starts with the host (not when ExecuteAsync gets a thread), so the first evaluation is one interval after start.
        if (options.Value.EnableController && _models.Length > 0)
        {
            _timer = new PeriodicTimer(options.Value.EvaluationInterval, time);
        }

        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer)
        {
            return;
        }

        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await EvaluateAllAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutting down.
        }
    }

    internal async Task EvaluateAllAsync(CancellationToken cancellationToken)
    {
        foreach (var model in _models)
        {
            try
            {
                await manager.EvaluateAsync(model, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One model's failure (e.g. the metrics source) must not stop the others' rollouts.
                logger.LogError(ex, "Evaluating the rollout of {Model} failed; retrying at the next interval.", model);
            }
        }
    }
}
