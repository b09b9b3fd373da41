using AiOps.Release.Internal;
using System.Collections.Concurrent;
using System.Globalization;
using AiOps.Metrics;
using AiOps.Registry;
using AiOps.Release.State;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Rollout;

/// <summary>
/// The rollout state machine. Reads state from the store (or the last known state when the store is unreachable),
/// judges the gates, and writes the next state with optimistic concurrency. A decision whose write fails is kept
/// and written at the next evaluation; meanwhile this replica's routers follow it. Work on one model is serialised.
/// </summary>
internal sealed class RolloutManager : IRolloutManager, IDisposable
{
    private readonly IRolloutStateStore _store;
    private readonly IModelRunnerCatalog _catalog;
    private readonly IServiceProvider _services;
    private readonly RolloutStateMonitor _monitor;
    private readonly IOptionsMonitor<ModelReleaseOptions> _modelOptions;
    private readonly AiOpsReleaseOptions _options;
    private readonly TimeProvider _time;
    private readonly ReleaseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly HashSet<ModelId> _models;
    private readonly ConcurrentDictionary<ModelId, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<ModelId, RolloutState> _lastKnown = new();
    private readonly ConcurrentDictionary<ModelId, Pending> _pending = new();
    private readonly ConcurrentDictionary<ModelId, DateTimeOffset> _leaseUntil = new();

    public RolloutManager(
        IRolloutStateStore store,
        IModelRunnerCatalog catalog,
        IServiceProvider services,
        RolloutStateMonitor monitor,
        IEnumerable<ReleaseModelRegistration> models,
        IOptionsMonitor<ModelReleaseOptions> modelOptions,
        IOptions<AiOpsReleaseOptions> options,
        TimeProvider time,
        ReleaseMetrics metrics,
        ILogger<RolloutManager> logger)
    {
        _store = store;
        _catalog = catalog;
        _services = services;
        _monitor = monitor;
        _modelOptions = modelOptions;
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _models = [.. models.Select(m => m.Model)];
    }

    /// <summary>Raised after every decision (made, logged and metered), whether or not it is written yet.</summary>
    internal event Action<ModelId, RolloutDecision>? DecisionMade;

    public int PendingWrites => _pending.Count;

    public async ValueTask<RolloutState> StartAsync(ModelId model, ModelVersion candidate, CancellationToken cancellationToken = default)
    {
        using var activity = AiOpsReleaseDiagnostics.Source.StartActivity(AiOpsReleaseDiagnostics.RolloutStartActivityName);
        activity?.SetTag("aiops.model", model.Value);
        activity?.SetTag("aiops.rollout.canary", candidate.ToString());
        try
        {
            return await StartCoreAsync(model, candidate, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (activity is not null)
        {
            Tracing.Fail(activity, e);
            throw;
        }
    }

    public async ValueTask<RolloutDecision?> EvaluateAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        using var activity = AiOpsReleaseDiagnostics.Source.StartActivity(AiOpsReleaseDiagnostics.RolloutEvaluateActivityName);
        activity?.SetTag("aiops.model", model.Value);
        try
        {
            var decision = await EvaluateCoreAsync(model, cancellationToken).ConfigureAwait(false);
            if (activity is not null && decision is not null)
            {
                activity.SetTag("aiops.rollout.action", decision.Action.ToString());
                activity.SetTag("aiops.rollout.step", decision.StepIndex);
                activity.SetTag("aiops.rollout.canary_weight", decision.CanaryWeightPercent);
                activity.AddEvent(new System.Diagnostics.ActivityEvent("decision", tags: new System.Diagnostics.ActivityTagsCollection
                {
                    ["aiops.rollout.reasons"] = string.Join("; ", decision.Reasons),
                }));
            }

            return decision;
        }
        catch (Exception e) when (activity is not null)
        {
            Tracing.Fail(activity, e);
            throw;
        }
    }

    public async ValueTask<RolloutState?> RollbackAsync(ModelId model, string reason, CancellationToken cancellationToken = default)
    {
        using var activity = AiOpsReleaseDiagnostics.Source.StartActivity(AiOpsReleaseDiagnostics.RolloutRollbackActivityName);
        activity?.SetTag("aiops.model", model.Value);
        activity?.SetTag("aiops.rollout.reason", reason);
        try
        {
            return await RollbackCoreAsync(model, reason, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (activity is not null)
        {
            Tracing.Fail(activity, e);
            throw;
        }
    }

    private async ValueTask<RolloutState> StartCoreAsync(ModelId model, ModelVersion candidate, CancellationToken cancellationToken)
    {
        EnsureConfigured(model);
        var gate = Gate(model);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
            if (current is { Phase: RolloutPhase.Progressing })
            {
                throw new InvalidOperationException(
                    $"A rollout of {model} is already progressing (canary {current.Canary} at step {current.StepIndex + 1}, {current.CanaryWeightPercent} %); roll it back or let it finish before starting another.");
            }

            var stable = current?.Stable ?? await _monitor.ResolveInitialStableAsync(model, cancellationToken).ConfigureAwait(false)
                ?? throw new ModelNotFoundException($"No stable version of {model} is known: set ModelReleaseOptions.StableVersion, the registry alias 'stable', or load a version.");
            if (candidate == stable)
            {
                throw new ArgumentException($"Version {candidate} of {model} is already stable; expected another version to roll out.", nameof(candidate));
            }

            var candidateKey = new ModelKey(model, candidate);
            if (!_catalog.TryGetRunner(candidateKey, out var candidateRunner))
            {
                throw new ModelNotFoundException(
                    $"Cannot roll out {candidateKey}: it is not loaded in this process (loaded: {string.Join(", ", _catalog.Keys)}).") { Key = candidateKey };
            }

            // Callers are built for stable's inputs and outputs; a canary that cannot take them would fail its share of
            // the traffic with no fallback (bad input is never retried on stable), so it is refused before any moves.
            var stableKey = new ModelKey(model, stable);
            if (_catalog.TryGetRunner(stableKey, out var stableRunner)
                && stableRunner.Metadata.CheckReplacement(candidateRunner.Metadata) is { IsCompatible: false } compatibility)
            {
                throw new ModelSignatureMismatchException(
                    $"Cannot roll out {candidateKey} against stable {stableKey}: its signature is not compatible ({compatibility}); expected the candidate to accept stable's inputs and return its outputs.",
                    compatibility) { Key = candidateKey };
            }

            var o = _modelOptions.Get(model.Value);
            var now = _time.GetUtcNow();
            var decision = new RolloutDecision(now, RolloutAction.Start, 0, o.Steps[0],
            [
                F($"start: rolling out {candidate} against stable {stable}; steps {string.Join(" → ", o.Steps.Select(s => s.ToString(CultureInfo.InvariantCulture) + " %"))}, first step held {Duration(o.HoldFor(0))}"),
            ]);
            var state = new RolloutState(model, stable, candidate, RolloutPhase.Progressing, 0, o.Steps[0], now)
            {
                History = Append(current?.History, decision),
            };
            var expected = current?.Revision ?? 0;
            if (!await _store.TrySaveAsync(state, expected, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The rollout state of {model} changed while the rollout was being started; read it again and retry.");
            }

            var saved = state with { Revision = expected + 1 };
            Remember(saved);
            Record(model, decision, written: true);
            await UpdateAliasesAsync(model, decision.Action, stable, candidate, cancellationToken).ConfigureAwait(false);
            return saved;
        }
        finally
        {
            gate.Release();
        }
    }

    private async ValueTask<RolloutDecision?> EvaluateCoreAsync(ModelId model, CancellationToken cancellationToken)
    {
        EnsureConfigured(model);
        var gate = Gate(model);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pending.TryGetValue(model, out var pending))
            {
                var (done, flushed) = await TryFlushAsync(model, pending, cancellationToken).ConfigureAwait(false);
                if (!done || flushed is not null)
                {
                    return flushed;
                }
            }

            var state = await ReadAsync(model, cancellationToken).ConfigureAwait(false);
            if (state is not { Phase: RolloutPhase.Progressing, Canary: { } canary })
            {
                return null;
            }

            if (!await HoldsLeaseAsync(model, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            var o = _modelOptions.Get(model.Value);
            var now = _time.GetUtcNow();
            var verdict = await JudgeAsync(model, state, canary, o, cancellationToken).ConfigureAwait(false);
            var held = now - state.StepStartedAt;
            var hold = o.HoldFor(state.StepIndex);
            var figures = new Dictionary<string, double>(verdict.Figures, StringComparer.Ordinal)
            {
                ["step"] = state.StepIndex,
                ["canary_weight"] = state.CanaryWeightPercent,
                ["held_seconds"] = held.TotalSeconds,
                ["hold_seconds"] = hold.TotalSeconds,
            };
            var gateReasons = verdict.Gates
                .OrderBy(g => g.Outcome switch { GateOutcome.Fail => 0, GateOutcome.NoData => 1, GateOutcome.Marginal => 2, _ => 3 })
                .Select(g => $"{g.Gate}: {g.Reason}")
                .ToList();

            RolloutAction action;
            var reasons = new List<string>();
            switch (verdict.Outcome)
            {
                case GateOutcome.Fail:
                    action = RolloutAction.Rollback;
                    break;
                case GateOutcome.NoData when o.Gates.NoDataRollbackAfter is { } limit && held >= limit:
                    action = RolloutAction.Rollback;
                    reasons.Add(F($"no_data: step {state.StepIndex + 1} has had too little data for {Duration(held)} (limit {Duration(limit)})"));
                    break;
                case GateOutcome.NoData:
                case GateOutcome.Marginal:
                    action = RolloutAction.Hold;
                    break;
                default:
                    if (held < hold)
                    {
                        action = RolloutAction.Hold;
                        reasons.Add(F($"hold_time: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) held {Duration(held)} of {Duration(hold)}; gates pass"));
                    }
                    else
                    {
                        action = state.StepIndex < o.Steps.Count - 1 ? RolloutAction.Advance : RolloutAction.Promote;
                        reasons.Add(action == RolloutAction.Advance
                            ? F($"advance: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) held {Duration(held)} with every gate passing; next {o.Steps[state.StepIndex + 1]} %")
                            : F($"promote: last step ({state.CanaryWeightPercent} %) held {Duration(held)} with every gate passing; {canary} becomes stable"));
                    }

                    break;
            }

            reasons.AddRange(gateReasons);
            var next = Next(state, action, o, now);
            var decision = new RolloutDecision(now, action, next.StepIndex, next.CanaryWeightPercent, reasons) { Figures = figures };

            var last = state.History.Count > 0 ? state.History[^1] : null;
            var repeat = action == RolloutAction.Hold && last is { Action: RolloutAction.Hold } && last.StepIndex == state.StepIndex &&
                Kind(last) == Kind(decision);
            if (repeat)
            {
                // The same hold as last time: metered and logged, not written again (a day at one step is ~1 440 evaluations).
                Record(model, decision, written: false);
                return decision;
            }

            var desired = next with { History = Append(state.History, decision) };
            var written = await CommitAsync(model, state, desired, decision, cancellationToken).ConfigureAwait(false);
            return written ? decision : null;
        }
        finally
        {
            gate.Release();
        }
    }

    private async ValueTask<RolloutState?> RollbackCoreAsync(ModelId model, string reason, CancellationToken cancellationToken)
    {
        EnsureConfigured(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var gate = Gate(model);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = await ReadAsync(model, cancellationToken).ConfigureAwait(false);
            if (state is not { Phase: RolloutPhase.Progressing })
            {
                return null;
            }

            var o = _modelOptions.Get(model.Value);
            var now = _time.GetUtcNow();
            var next = Next(state, RolloutAction.Rollback, o, now);
            var decision = new RolloutDecision(now, RolloutAction.Rollback, next.StepIndex, 0, [reason])
            {
                Figures = new Dictionary<string, double>(StringComparer.Ordinal) { ["step"] = state.StepIndex, ["canary_weight"] = state.CanaryWeightPercent },
            };
            await CommitAsync(model, state, next with { History = Append(state.History, decision) }, decision, cancellationToken).ConfigureAwait(false);
            return _lastKnown.TryGetValue(model, out var after) ? after : null;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask<RolloutState?> GetStateAsync(ModelId model, CancellationToken cancellationToken = default) =>
        _pending.TryGetValue(model, out var pending)
            ? pending.Desired with { Revision = pending.ExpectedRevision + 1 }
            : await ReadAsync(model, cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }

    private static string Kind(RolloutDecision decision) =>
        decision.Reasons.Count == 0 ? string.Empty : decision.Reasons[0].Split(':', 2)[0];

    private static RolloutState Next(RolloutState state, RolloutAction action, ModelReleaseOptions o, DateTimeOffset now) => action switch
    {
        RolloutAction.Advance => state with { StepIndex = state.StepIndex + 1, CanaryWeightPercent = o.Steps[state.StepIndex + 1], StepStartedAt = now },
        RolloutAction.Promote => state with { Stable = state.Canary!.Value, Canary = null, Phase = RolloutPhase.Promoted, CanaryWeightPercent = 0, StepStartedAt = now },
        RolloutAction.Rollback => state with { Phase = RolloutPhase.RolledBack, CanaryWeightPercent = 0, StepStartedAt = now },
        _ => state,
    };

    private async Task<RolloutVerdict> JudgeAsync(ModelId model, RolloutState state, ModelVersion canary, ModelReleaseOptions o, CancellationToken cancellationToken)
    {
        if (_services.GetService<IVersionMetricsSource>() is not { } source)
        {
            return new RolloutVerdict(
                GateOutcome.NoData,
                [new GateResult("metrics", GateOutcome.NoData, "no IVersionMetricsSource is registered (add AiOps.Monitoring): nothing to judge the canary on")],
                new Dictionary<string, double>());
        }

        var rolloutStart = state.History.LastOrDefault(d => d.Action == RolloutAction.Start)?.At ?? state.StepStartedAt;
        var canarySnapshot = await source.GetSnapshotAsync(new ModelKey(model, canary), state.StepStartedAt, cancellationToken).ConfigureAwait(false);
        var stableSnapshot = await source.GetSnapshotAsync(new ModelKey(model, state.Stable), rolloutStart, cancellationToken).ConfigureAwait(false);
        return RolloutJudge.Judge(o.Gates, new RolloutGateContext(model, state.StepIndex, canarySnapshot, stableSnapshot));
    }

    /// <summary>Writes a decision's state; on a conflict a rollback is re-applied to the newer state, other decisions are dropped.</summary>
    private async Task<bool> CommitAsync(ModelId model, RolloutState basedOn, RolloutState desired, RolloutDecision decision, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            bool saved;
            try
            {
                saved = await _store.TrySaveAsync(desired, basedOn.Revision, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _pending[model] = new Pending(desired, basedOn.Revision, decision);
                var local = desired with { Revision = basedOn.Revision + 1 };
                _lastKnown[model] = local;
                _monitor.ApplyLocal(local);
                _metrics.StateWriteFailed(model);
                _logger.LogError(ex, "Cannot write the rollout state of {Model}; the {Action} decision is kept and will be written when the store is back.", model, decision.Action);
                Record(model, decision, written: false);
                return true;
            }

            if (saved)
            {
                await CommittedAsync(model, basedOn, desired with { Revision = basedOn.Revision + 1 }, decision, cancellationToken).ConfigureAwait(false);
                return true;
            }

            if (decision.Action != RolloutAction.Rollback)
            {
                _logger.LogWarning("The rollout state of {Model} changed while deciding ({Action}); the decision is dropped and the next evaluation decides again.", model, decision.Action);
                return false;
            }

            var current = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
            if (current is not { Phase: RolloutPhase.Progressing } || current.Canary != desired.Canary)
            {
                if (current is not null)
                {
                    Remember(current);
                }

                return false;
            }

            basedOn = current;
            desired = Next(current, RolloutAction.Rollback, _modelOptions.Get(model.Value), decision.At) with { History = Append(current.History, decision) };
        }

        return false;
    }

    private async Task CommittedAsync(ModelId model, RolloutState basedOn, RolloutState saved, RolloutDecision decision, CancellationToken cancellationToken)
    {
        Remember(saved);
        Record(model, decision, written: true);
        await UpdateAliasesAsync(model, decision.Action, basedOn.Stable, basedOn.Canary, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(bool Done, RolloutDecision? Decision)> TryFlushAsync(ModelId model, Pending pending, CancellationToken cancellationToken)
    {
        RolloutState? current;
        try
        {
            current = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
            if ((current?.Revision ?? 0) == pending.ExpectedRevision &&
                await _store.TrySaveAsync(pending.Desired, pending.ExpectedRevision, cancellationToken).ConfigureAwait(false))
            {
                _pending.TryRemove(model, out _);
                var saved = pending.Desired with { Revision = pending.ExpectedRevision + 1 };
                Remember(saved);
                _logger.LogInformation("Wrote the {Action} decision of {Model} kept while the state store was unreachable.", pending.Decision.Action, model);
                if (current is not null)
                {
                    await UpdateAliasesAsync(model, pending.Decision.Action, current.Stable, current.Canary, cancellationToken).ConfigureAwait(false);
                }

                return (true, pending.Decision);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("The rollout state store is still unreachable for {Model} ({Error}); {Count} decision(s) waiting.", model, ex.Message, _pending.Count);
            return (false, null);
        }

        _pending.TryRemove(model, out _);
        if (pending.Decision.Action == RolloutAction.Rollback && current is { Phase: RolloutPhase.Progressing } && current.Canary == pending.Desired.Canary)
        {
            var desired = Next(current, RolloutAction.Rollback, _modelOptions.Get(model.Value), pending.Decision.At) with { History = Append(current.History, pending.Decision) };
            await CommitAsync(model, current, desired, pending.Decision, cancellationToken).ConfigureAwait(false);
            return (true, pending.Decision);
        }

        _logger.LogWarning(
            "The rollout state of {Model} changed while the store was unreachable (revision {Revision}, expected {Expected}); the kept {Action} decision is dropped.",
            model,
            current?.Revision,
            pending.ExpectedRevision,
            pending.Decision.Action);
        if (current is not null)
        {
            Remember(current);
        }

        return (true, null);
    }

    private async Task<RolloutState?> ReadAsync(ModelId model, CancellationToken cancellationToken)
    {
        try
        {
            var state = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
            if (state is not null)
            {
                _lastKnown[model] = state;
            }

            return state;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("Cannot read the rollout state of {Model} ({Error}); deciding on the last known state.", model, ex.Message);
            return _lastKnown.TryGetValue(model, out var last) ? last : null;
        }
    }

    private async Task<bool> HoldsLeaseAsync(ModelId model, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        try
        {
            if (await _store.TryAcquireLeaseAsync(model, _options.InstanceId, _options.LeaseDuration, cancellationToken).ConfigureAwait(false))
            {
                _leaseUntil[model] = now + _options.LeaseDuration;
                return true;
            }

            _leaseUntil.TryRemove(model, out _);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The store is unreachable: keep deciding only while the lease this replica last renewed is still ours.
            return _leaseUntil.TryGetValue(model, out var until) && until > now;
        }
    }

    private async Task UpdateAliasesAsync(ModelId model, RolloutAction action, ModelVersion stable, ModelVersion? canary, CancellationToken cancellationToken)
    {
        if (_services.GetService<IModelRegistry>() is not { } registry || action is RolloutAction.Hold or RolloutAction.Advance)
        {
            return;
        }

        try
        {
            switch (action)
            {
                case RolloutAction.Start when canary is { } c:
                    await registry.SetAliasAsync(model, "canary", c, cancellationToken).ConfigureAwait(false);
                    break;
                case RolloutAction.Promote when canary is { } c:
                    await registry.SetAliasAsync(model, "previous", stable, cancellationToken).ConfigureAwait(false);
                    await registry.SetAliasAsync(model, "stable", c, cancellationToken).ConfigureAwait(false);
                    await registry.RemoveAliasAsync(model, "canary", cancellationToken).ConfigureAwait(false);
                    break;
                case RolloutAction.Rollback:
                    await registry.SetAliasAsync(model, "stable", stable, cancellationToken).ConfigureAwait(false);
                    await registry.RemoveAliasAsync(model, "canary", cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is ModelNotFoundException or IOException or UnauthorizedAccessException)
        {
            // The rollout state is the source of truth; aliases follow it on a best-effort basis.
            _logger.LogWarning(ex, "Cannot update the registry aliases of {Model} after {Action}.", model, action);
        }
    }

    private void Record(ModelId model, RolloutDecision decision, bool written)
    {
        _metrics.Decision(model, decision.Action);
        var level = decision.Action == RolloutAction.Rollback ? LogLevel.Warning : written ? LogLevel.Information : LogLevel.Debug;
        if (_logger.IsEnabled(level))
        {
            _logger.Log(
                level,
                "Rollout of {Model}: {Action} (step {Step}, canary weight {Weight} %): {Reasons}",
                model,
                decision.Action,
                decision.StepIndex + 1,
                decision.CanaryWeightPercent,
                string.Join("; ", decision.Reasons));
        }

        DecisionMade?.Invoke(model, decision);
    }

    private void Remember(RolloutState state)
    {
        _lastKnown[state.Model] = state;
        _monitor.ApplyLocal(state);
    }

    private List<RolloutDecision> Append(IReadOnlyList<RolloutDecision>? history, RolloutDecision decision)
    {
        var list = new List<RolloutDecision>(history ?? []) { decision };
        var max = Math.Max(1, _options.MaxHistory);
        if (list.Count > max)
        {
            list.RemoveRange(0, list.Count - max);
        }

        return list;
    }

    private void EnsureConfigured(ModelId model)
    {
        if (!_models.Contains(model))
        {
            throw new ModelNotFoundException(
                $"Model '{model}' is not configured for release; add it with AddAiOpsRelease().AddModel(\"{model}\", …). Configured: {string.Join(", ", _models)}.");
        }
    }

    private SemaphoreSlim Gate(ModelId model) => _gates.GetOrAdd(model, static _ => new SemaphoreSlim(1, 1));

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A duration as people read it in a decision reason: the largest non-zero unit and, when it is not zero, the next one
    /// (<c>1 d 2 h</c>, <c>1 d</c> for 1 d 0 h 5 min, <c>15 min</c>, <c>1 h 30 min</c>); under a second <c>0.25 s</c>.
    /// </summary>
    internal static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero)
        {
            return "-" + Duration(t.Negate());
        }

        if (t < TimeSpan.FromSeconds(1))
        {
            return F($"{t.TotalSeconds:0.###} s");
        }

        ReadOnlySpan<(int Value, string Unit)> units = [(t.Days, "d"), (t.Hours, "h"), (t.Minutes, "min"), (t.Seconds, "s")];
        var first = 0;
        while (units[first].Value == 0)
        {
            first++;
        }

        var text = F($"{units[first].Value} {units[first].Unit}");
        return first + 1 < units.Length && units[first + 1].Value != 0
            ? text + F($" {units[first + 1].Value} {units[first + 1].Unit}")
            : text;
    }

    private sealed record Pending(RolloutState Desired, long ExpectedRevision, RolloutDecision Decision);
}
