using System.Diagnostics.Metrics;
using AiOps.Routing;
using AiOps.State;

namespace AiOps.Release;

/// <summary>The instruments of the <c>AiOps.Release</c> meter.</summary>
internal sealed class ReleaseMetrics : IDisposable
{
    public const string MeterName = AiOpsReleaseDiagnostics.MeterName;

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _routed;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _shadowComparisons;
    private readonly Counter<long> _shadowDropped;
    private readonly Histogram<double> _shadowDifference;
    private readonly Counter<long> _stateWriteFailures;
    private readonly Counter<long> _storeResets;
    private Func<IEnumerable<Measurement<double>>> _weights = static () => [];

    public ReleaseMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _routed = _meter.CreateCounter<long>("aiops.release.routed", "{request}", "Requests routed, by model, version and reason (stable, canary_weight, stable_weight, override, fallback).");
        _decisions = _meter.CreateCounter<long>("aiops.release.decisions", "{decision}", "Rollout controller decisions, by model and action.");
        _meter.CreateObservableGauge("aiops.release.canary_weight", () => _weights(), "%", "The canary's share of traffic, by model, as this replica routes it.");
        _shadowComparisons = _meter.CreateCounter<long>("aiops.release.shadow.comparisons", "{comparison}", "Shadow answers compared with the caller's, by model, shadow version and outcome (match, mismatch, error).");
        _shadowDropped = _meter.CreateCounter<long>("aiops.release.shadow.dropped", "{request}", "Shadow copies dropped because the shadow queue was full, by model.");
        _shadowDifference = _meter.CreateHistogram<double>("aiops.release.shadow.max_abs_difference", null, "The largest absolute difference between caller and shadow output elements, by model.");
        _storeResets = _meter.CreateCounter<long>("aiops.release.state.resets", "{reset}", "Times the rollout state store was found reset (empty after holding a state), by model.");
        _stateWriteFailures = _meter.CreateCounter<long>("aiops.release.state.write_failures", "{write}", "Rollout state writes that failed (store unreachable) and were queued for retry, by model.");
    }

    public Meter Meter => _meter;

    public void SetWeightSource(Func<IEnumerable<Measurement<double>>> weights) => _weights = weights;

    public void Routed(ModelId model, RoutingDecision decision)
    {
        if (_routed.Enabled)
        {
            _routed.Add(1, new("model", model.Value), new("version", decision.Version.Value), new("reason", ReasonName(decision.Reason)));
        }
    }

    public void Decision(ModelId model, RolloutAction action) =>
        _decisions.Add(1, new("model", model.Value), new("action", ActionName(action)));

    public void ShadowCompared(ModelId model, ModelVersion shadow, string outcome, double? maxAbsDifference)
    {
        _shadowComparisons.Add(1, new("model", model.Value), new("version", shadow.Value), new("outcome", outcome));
        if (maxAbsDifference is { } d && !double.IsNaN(d))
        {
            _shadowDifference.Record(d, new KeyValuePair<string, object?>("model", model.Value));
        }
    }

    public void ShadowDropped(ModelId model) => _shadowDropped.Add(1, new KeyValuePair<string, object?>("model", model.Value));

    public void StoreReset(ModelId model) => _storeResets.Add(1, new KeyValuePair<string, object?>("model", model.Value));

    public void StateWriteFailed(ModelId model) => _stateWriteFailures.Add(1, new KeyValuePair<string, object?>("model", model.Value));

    public static string ReasonName(RouteReason reason) => reason switch
    {
        RouteReason.Stable => "stable",
        RouteReason.CanaryWeight => "canary_weight",
        RouteReason.StableWeight => "stable_weight",
        RouteReason.Override => "override",
        RouteReason.Fallback => "fallback",
        _ => "other",
    };

    public static string ActionName(RolloutAction action) => action switch
    {
        RolloutAction.Start => "start",
        RolloutAction.Hold => "hold",
        RolloutAction.Advance => "advance",
        RolloutAction.Promote => "promote",
        RolloutAction.Rollback => "rollback",
        _ => "other",
    };

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
