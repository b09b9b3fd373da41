using AiOps.Release.Resilience;
using AiOps.Release.Rollout;
using AiOps.Release.Shadow;
using AiOps.Release.State;
using AiOps.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace AiOps.Release.Canary;

/// <summary>
/// The request path of one model: route (pin, sticky hash of the routing key against the canary weight), run the
/// chosen version through its resilience pipeline, fall back to stable when the canary fails the call, then queue a
/// shadow copy if configured (never awaited). Attempts the runner never completes (short-circuited by the open breaker,
/// cancelled by a timeout, version not loaded) and canary refusals of input stable accepts are written to the
/// <see cref="AttemptLedger"/>, so the rollout gates judge every canary attempt.
/// </summary>
internal sealed class CanaryModelClient : IModelClient
{
    private readonly RolloutStateMonitor _monitor;
    private readonly IModelRunnerCatalog _catalog;
    private readonly ResiliencePipelineProvider<string> _pipelines;
    private readonly ShadowDispatcher _shadow;
    private readonly ReleaseMetrics _metrics;
    private readonly IOptionsMonitor<ModelReleaseOptions> _options;
    private readonly ILogger _logger;
    private readonly AttemptLedger _ledger;
    private readonly TimeProvider _time;
    private ResiliencePipeline<ModelResponse>? _stablePipeline;
    private ResiliencePipeline<ModelResponse>? _canaryPipeline;

    public CanaryModelClient(
        ModelId model,
        RolloutStateMonitor monitor,
        IModelRunnerCatalog catalog,
        ResiliencePipelineProvider<string> pipelines,
        ShadowDispatcher shadow,
        ReleaseMetrics metrics,
        IOptionsMonitor<ModelReleaseOptions> options,
        AttemptLedger ledger,
        TimeProvider time,
        ILogger<CanaryModelClient> logger)
    {
        _ledger = ledger;
        _time = time;
        Model = model;
        _monitor = monitor;
        _catalog = catalog;
        _pipelines = pipelines;
        _shadow = shadow;
        _metrics = metrics;
        _options = options;
        _logger = logger;
    }

    public ModelId Model { get; }

    private ResiliencePipeline<ModelResponse> StablePipeline => _stablePipeline ??= _pipelines.GetPipeline<ModelResponse>(ReleasePipelines.StableKey(Model));

    private ResiliencePipeline<ModelResponse> CanaryPipeline => _canaryPipeline ??= _pipelines.GetPipeline<ModelResponse>(ReleasePipelines.CanaryKey(Model));

    public async ValueTask<ModelResponse> InferAsync(ModelRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var route = _monitor.Get(Model);
        await route.EnsureLoadedAsync(cancellationToken).ConfigureAwait(false);
        var decision = route.Router.Route(request.RoutingKey, request.PinnedVersion);
        ModelResponse response;
        if (decision.Reason == RouteReason.CanaryWeight)
        {
            try
            {
                response = await RunAsync(CanaryPipeline, decision.Version, request, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelInputException inputError) when (FallbackEnabled && route.Router.Table.Stable is { } stable)
            {
                // The canary refused the input. The caller is at fault only if stable refuses it too; if stable takes
                // it, the canary's inputs differ from stable's: a canary failure, answered by stable.
                ModelResponse stableResponse;
                try
                {
                    stableResponse = await RunAsync(StablePipeline, stable, request, cancellationToken).ConfigureAwait(false);
                }
                catch (ModelInputException)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inputError).Throw();
                    throw;
                }

                _ledger.RecordUnseenFailure(new ModelKey(Model, decision.Version), null);
                _logger.LogWarning(
                    "Canary {Model}:{Canary} refused an input stable {Stable} accepts ({Message}); answered with stable.",
                    Model,
                    decision.Version,
                    stable,
                    inputError.Message);
                decision = new RoutingDecision(stable, RouteReason.Fallback);
                response = stableResponse;
            }
            catch (Exception ex) when (ShouldFallBack(ex, cancellationToken) && route.Router.Table.Stable is { } stable)
            {
                _logger.LogWarning(
                    "Canary {Model}:{Canary} failed a call ({Error}: {Message}); answering with stable {Stable}.",
                    Model,
                    decision.Version,
                    ex.GetType().Name,
                    ex.Message,
                    stable);
                decision = new RoutingDecision(stable, RouteReason.Fallback);
                response = await RunAsync(StablePipeline, stable, request, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            response = await RunAsync(StablePipeline, decision.Version, request, cancellationToken).ConfigureAwait(false);
        }

        _metrics.Routed(Model, decision);
        if (route.ShadowVersion is { } shadow && shadow != response.Key.Version)
        {
            _shadow.TryEnqueue(Model, shadow, request, response);
        }

        return response;
    }

    private bool FallbackEnabled => _options.Get(Model.Value).Resilience.FallbackToStable;

    private bool ShouldFallBack(Exception ex, CancellationToken cancellationToken) =>
        FallbackEnabled &&
        ex is not ModelInputException &&
        !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private async ValueTask<ModelResponse> RunAsync(ResiliencePipeline<ModelResponse> pipeline, ModelVersion version, ModelRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(
                static (state, ct) => state.Client.AttemptAsync(state.Version, state.Request, ct, state.Caller),
                (Client: this, Version: version, Request: request, Caller: cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            // Short-circuited: the runner never saw the call, so no metrics source did; the gates must.
            _ledger.RecordUnseenFailure(new ModelKey(Model, version), null);
            throw;
        }
    }

    private async ValueTask<ModelResponse> AttemptAsync(ModelVersion version, ModelRequest request, CancellationToken attemptToken, CancellationToken callerToken)
    {
        var key = new ModelKey(Model, version);
        if (!_catalog.TryGetRunner(key, out var runner))
        {
            _ledger.RecordUnseenFailure(key, null);
            throw new ModelNotFoundException(
                $"Model version {key} is not loaded in this process; loaded: {string.Join(", ", _catalog.Keys)}.") { Key = key };
        }

        var start = _time.GetTimestamp();
        try
        {
            return await runner.RunAsync(request, attemptToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            // Cancelled by the attempt or total timeout, not by the caller: a metrics source records it as cancelled
            // (not a failure), but for the version it is a failure: a hung version must fail its gates.
            _ledger.RecordUnseenFailure(key, _time.GetElapsedTime(start).TotalMilliseconds);
            throw;
        }
    }
}
