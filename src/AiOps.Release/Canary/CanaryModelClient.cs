using AiOps.Release.Resilience;
using AiOps.Release.Shadow;
using AiOps.Release.State;
using AiOps.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;

namespace AiOps.Release.Canary;

/// <summary>
/// The request path of one model: route (pin, sticky hash of the routing key against the canary weight), run the
/// chosen version through its resilience pipeline, fall back to stable when the canary fails the call, then queue a
/// shadow copy if configured (never awaited).
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
        ILogger<CanaryModelClient> logger)
    {
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

    private bool ShouldFallBack(Exception ex, CancellationToken cancellationToken) =>
        _options.Get(Model.Value).Resilience.FallbackToStable &&
        ex is not ModelInputException &&
        !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private ValueTask<ModelResponse> RunAsync(ResiliencePipeline<ModelResponse> pipeline, ModelVersion version, ModelRequest request, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(
            static (state, ct) =>
            {
                var key = new ModelKey(state.Client.Model, state.Version);
                if (!state.Client._catalog.TryGetRunner(key, out var runner))
                {
                    throw new ModelNotFoundException(
                        $"Model version {key} is not loaded in this process; loaded: {string.Join(", ", state.Client._catalog.Keys)}.") { Key = key };
                }

                return runner.RunAsync(state.Request, ct);
            },
            (Client: this, Version: version, Request: request),
            cancellationToken);
}
