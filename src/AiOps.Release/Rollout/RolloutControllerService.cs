using AiOps.Release.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Rollout;

/// <summary>
/// Evaluates every configured model's rollout once per <see cref="AiOpsReleaseOptions.EvaluationInterval"/> of
/// <see cref="TimeProvider"/> time: the first evaluation one interval after the host starts, never two at once.
/// </summary>
internal sealed class RolloutControllerService(
    IRolloutManager manager,
    IEnumerable<ReleaseModelRegistration> models,
    IOptions<AiOpsReleaseOptions> options,
    TimeProvider time,
    ILogger<RolloutControllerService> logger) : IHostedService, IDisposable
{
    private readonly ModelId[] _models = [.. models.Select(m => m.Model).Distinct()];
    private PeriodicJob? _job;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The schedule starts with the host, so the first evaluation is one interval after start.
        if (options.Value.EnableController && _models.Length > 0)
        {
            _job ??= new PeriodicJob("rollout evaluation", options.Value.EvaluationInterval, runAtStart: false, EvaluateAllAsync, time, logger);
            _job.Start(CancellationToken.None); // the start token only bounds start-up; StopAsync stops the job
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _job?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose() => _job?.Dispose();

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
