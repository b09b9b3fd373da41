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
    private readonly ConcurrentDictionary<ModelId, Streak> _streaks = new();
    private readonly AttemptLedger _ledger;

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
        AttemptLedger ledger,
        ILogger<RolloutManager> logger)
    {
        _ledger = ledger;
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

    public ValueTask<RolloutState> StartAsync(ModelId model, ModelVersion candidate, CancellationToken cancellationToken = default) =>
        StartTracedAsync(model, candidate, actor: null, reason: null, cancellationToken);

    public ValueTask<RolloutState> StartAsync(ModelId model, ModelVersion candidate, string actor, string? reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        return StartTracedAsync(model, candidate, actor, string.IsNullOrWhiteSpace(reason) ? null : reason, cancellationToken);
    }

    private async ValueTask<RolloutState> StartTracedAsync(ModelId model, ModelVersion candidate, string? actor, string? reason, CancellationToken cancellationToken)
    {
        using var activity = AiOpsReleaseDiagnostics.Source.StartActivity(AiOpsReleaseDiagnostics.RolloutStartActivityName);
        activity?.SetTag("aiops.model", model.Value);
        activity?.SetTag("aiops.rollout.canary", candidate.ToString());
        if (actor is not null)
        {
            activity?.SetTag("aiops.rollout.actor", actor);
        }

        try
        {
            return await StartCoreAsync(model, candidate, actor, reason, cancellationToken).ConfigureAwait(false);
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

    private async ValueTask<RolloutState> StartCoreAsync(ModelId model, ModelVersion candidate, string? actor, string? reason, CancellationToken cancellationToken)
    {
        EnsureConfigured(model);
        var gate = Gate(model);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
            if (current is null && NewestKnown(model) is { } known)
            {
                current = await ReseedAsync(model, known, cancellationToken).ConfigureAwait(false);
            }

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
            var text = F($"start: rolling out {candidate} against stable {stable}; steps {string.Join(" → ", o.Steps.Select(s => s.ToString(CultureInfo.InvariantCulture) + " %"))}, first step held {Duration(o.HoldFor(0))}");
            if (actor is not null)
            {
                text += reason is null ? F($"; by {actor}") : F($"; by {actor}: {reason}");
            }

            var decision = new RolloutDecision(now, RolloutAction.Start, 0, o.Steps[0], [text]) { Actor = actor };
            var state = new RolloutState(model, stable, candidate, RolloutPhase.Progressing, 0, o.Steps[0], now)
            {
                History = Append(current?.History, decision),
                Epoch = current?.Epoch ?? NewEpoch(),
                PreviousStable = current?.PreviousStable,
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
            if (state is null && NewestKnown(model) is { } newest)
            {
                // The store was reset: the lease holder re-seeds it from the newest state known here.
                if (!await HoldsLeaseAsync(model, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                state = await ReseedAsync(model, newest, cancellationToken).ConfigureAwait(false);
            }

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
            var verdict = await JudgeAsync(model, state, canary, o, wholeStep: false, cancellationToken).ConfigureAwait(false);
            var held = now - state.StepStartedAt;
            var hold = o.HoldFor(state.StepIndex);
            var streak = _streaks.TryGetValue(model, out var remembered) && remembered.Canary == canary && remembered.StepIndex == state.StepIndex
                ? remembered
                : new Streak(canary, state.StepIndex, state.Epoch, 0, null, state.StepStartedAt);
            var figures = new Dictionary<string, double>(verdict.Figures, StringComparer.Ordinal)
            {
                ["step"] = state.StepIndex,
                ["canary_weight"] = state.CanaryWeightPercent,
                ["held_seconds"] = held.TotalSeconds,
                ["hold_seconds"] = hold.TotalSeconds,
            };
            var gateReasons = Reasons(verdict);

            var action = RolloutAction.Hold;
            var pause = false;
            var reasons = new List<string>();
            switch (verdict.Outcome)
            {
                case GateOutcome.Fail:
                    var failures = streak.Failures + 1;
                    figures["consecutive_failures"] = failures;
                    streak = streak with { Failures = failures, MarginalSince = null, LastDataAt = now };
                    if (failures >= o.Gates.FailureLimit || verdict.Gates.Any(g => g is { Outcome: GateOutcome.Fail, Immediate: true }))
                    {
                        action = RolloutAction.Rollback;
                    }
                    else
                    {
                        reasons.Add(F($"gate_failed: evaluation {failures} of {o.Gates.FailureLimit} consecutive failing ones that roll back"));
                    }

                    break;
                case GateOutcome.NoData:
                    streak = streak with { Failures = 0 };
                    var quiet = now - streak.LastDataAt;
                    if (o.Gates.NoDataRollbackAfter is { } limit && quiet >= limit)
                    {
                        action = RolloutAction.Rollback;
                        reasons.Add(F($"no_data: step {state.StepIndex + 1} has had too little data for {Duration(quiet)} (limit {Duration(limit)})"));
                    }

                    break;
                case GateOutcome.Marginal:
                    var since = streak.MarginalSince ?? now;
                    streak = streak with { Failures = 0, MarginalSince = since, LastDataAt = now };
                    figures["marginal_seconds"] = (now - since).TotalSeconds;
                    if (o.Gates.MarginalTimeout is { } timeout && now - since >= timeout)
                    {
                        var text = F($"marginal_timeout: verdicts marginal for {Duration(now - since)} (limit {Duration(timeout)})");
                        if (o.Gates.MarginalAction == MarginalTimeoutAction.Rollback)
                        {
                            action = RolloutAction.Rollback;
                            reasons.Add(text + "; rolling back");
                        }
                        else if (!state.Paused)
                        {
                            action = RolloutAction.Pause;
                            pause = true;
                            reasons.Add(text + "; paused for a person to decide (resume, promote or abort)");
                            _logger.LogWarning("Rollout of {Model} paused: canary {Canary} stayed marginal for {Duration}.", model, canary, Duration(now - since));
                        }
                    }

                    break;
                default:
                    streak = streak with { Failures = 0, MarginalSince = null, LastDataAt = now };
                    if (state.Paused)
                    {
                        reasons.Add(F($"paused: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) is paused; gates pass"));
                    }
                    else if (held < hold)
                    {
                        reasons.Add(F($"hold_time: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) held {Duration(held)} of {Duration(hold)}; gates pass"));
                    }
                    else
                    {
                        // Before leaving the step, judge all of it: differences too small for one window still stop the canary.
                        var whole = await JudgeAsync(model, state, canary, o, wholeStep: true, cancellationToken).ConfigureAwait(false);
                        foreach (var (name, value) in whole.Figures)
                        {
                            figures["step_" + name] = value;
                        }

                        if (whole.Outcome == GateOutcome.Fail)
                        {
                            action = RolloutAction.Rollback;
                            reasons.Add(F($"step_check: the whole of step {state.StepIndex + 1} fails its gates"));
                            gateReasons.InsertRange(0, Reasons(whole).Select(r => "step " + r));
                        }
                        else if (whole.Outcome != GateOutcome.Pass)
                        {
                            reasons.Add(F($"step_check: the whole of step {state.StepIndex + 1} is {whole.Outcome}; holding"));
                            gateReasons.InsertRange(0, Reasons(whole).Select(r => "step " + r));
                        }
                        else if (o.ApprovalSteps.Contains(state.StepIndex) && state.ApprovedStep != state.StepIndex)
                        {
                            reasons.Add(F($"approval: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) passed its gates and waits for a person to approve it"));
                        }
                        else
                        {
                            action = state.StepIndex < o.Steps.Count - 1 ? RolloutAction.Advance : RolloutAction.Promote;
                            reasons.Add(action == RolloutAction.Advance
                                ? F($"advance: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) held {Duration(held)} with every gate passing; next {o.Steps[state.StepIndex + 1]} %")
                                : F($"promote: last step ({state.CanaryWeightPercent} %) held {Duration(held)} with every gate passing; {canary} becomes stable"));
                        }
                    }

                    break;
            }

            _streaks[model] = streak;
            reasons.AddRange(gateReasons);
            var next = pause ? state with { Paused = true } : Next(state, action, o, now);
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
            var state = await ReadForWriteAsync(model, cancellationToken).ConfigureAwait(false);
            if (state is not { Phase: RolloutPhase.Progressing })
            {
                return null;
            }

            // An automatic rollback is a controller write: it needs the lease like every other (the holder decides).
            if (!await HoldsLeaseAsync(model, cancellationToken).ConfigureAwait(false))
            {
                _logger.LogWarning("Not rolling back {Model} from this replica ({Reason}): another replica holds the controller lease.", model, reason);
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

    public ValueTask<RolloutState> PromoteAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.Promote, cancellationToken);

    public ValueTask<RolloutState> PauseAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.Pause, cancellationToken);

    public ValueTask<RolloutState> ResumeAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.Resume, cancellationToken);

    public ValueTask<RolloutState> AbortAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.Abort, cancellationToken);

    public ValueTask<RolloutState> SkipStepAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.SkipStep, cancellationToken);

    public ValueTask<RolloutState> UndoAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.Undo, cancellationToken);

    public ValueTask<RolloutState> ApproveAsync(ModelId model, string actor, string reason, CancellationToken cancellationToken = default) =>
        OperateAsync(model, actor, reason, RolloutAction.Approve, cancellationToken);

    /// <summary>
    /// An operator action: read the state, check the action applies, write the next state with the actor and reason
    /// in the history. Operator actions are people's decisions and may come from any replica (the write is still
    /// revision-checked); a write the store refuses (unreachable) is kept and retried like the controller's.
    /// </summary>
    private async ValueTask<RolloutState> OperateAsync(ModelId model, string actor, string reason, RolloutAction action, CancellationToken cancellationToken)
    {
        EnsureConfigured(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        using var activity = AiOpsReleaseDiagnostics.Source.StartActivity(AiOpsReleaseDiagnostics.RolloutOperateActivityName);
        activity?.SetTag("aiops.model", model.Value);
        activity?.SetTag("aiops.rollout.action", action.ToString());
        activity?.SetTag("aiops.rollout.actor", actor);
        var gate = Gate(model);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var state = await ReadForWriteAsync(model, cancellationToken).ConfigureAwait(false);
                var o = _modelOptions.Get(model.Value);
                var now = _time.GetUtcNow();
                var (recorded, next, text) = Operate(model, state, action, o, now);
                var decision = new RolloutDecision(now, recorded, next.StepIndex, next.CanaryWeightPercent, [F($"{text} by {actor}: {reason}")])
                {
                    Actor = actor,
                    Figures = new Dictionary<string, double>(StringComparer.Ordinal) { ["step"] = state!.StepIndex, ["canary_weight"] = state.CanaryWeightPercent },
                };
                if (await CommitAsync(model, state, next with { History = Append(state.History, decision) }, decision, cancellationToken).ConfigureAwait(false))
                {
                    _streaks.TryRemove(model, out _);
                    return _lastKnown[model];
                }
            }

            throw new InvalidOperationException($"The rollout state of {model} kept changing while {action} was being applied; read it again and retry.");
        }
        catch (Exception e) when (activity is not null)
        {
            Tracing.Fail(activity, e);
            throw;
        }
        finally
        {
            gate.Release();
        }
    }

    private static (RolloutAction Recorded, RolloutState Next, string Text) Operate(ModelId model, RolloutState? state, RolloutAction action, ModelReleaseOptions o, DateTimeOffset now)
    {
        if (action == RolloutAction.Undo)
        {
            if (state is not { Phase: RolloutPhase.Promoted, PreviousStable: { } previous })
            {
                throw new InvalidOperationException(
                    $"Cannot undo the rollout of {model}: expected a promoted rollout with a previous stable version; the state is {Describe(state)}.");
            }

            return (action, state with { Stable = previous, PreviousStable = state.Stable, Canary = null, Phase = RolloutPhase.RolledBack, CanaryWeightPercent = 0, StepStartedAt = now, Paused = false },
                F($"undo: {previous} is stable again instead of {state.Stable}"));
        }

        if (state is not { Phase: RolloutPhase.Progressing, Canary: { } canary })
        {
            throw new InvalidOperationException($"Cannot {action} the rollout of {model}: expected a progressing rollout; the state is {Describe(state)}.");
        }

        var last = state.StepIndex >= o.Steps.Count - 1;
        return action switch
        {
            RolloutAction.Promote => (action, Next(state, action, o, now), F($"promote: {canary} becomes stable, skipping the remaining steps")),
            RolloutAction.Pause => (action, state with { Paused = true }, F($"pause: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) paused")),
            RolloutAction.Resume => (action, state with { Paused = false }, F($"resume: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) resumed")),
            RolloutAction.Abort => (action, Next(state, action, o, now), F($"abort: {canary} removed from traffic, {state.Stable} kept")),
            RolloutAction.SkipStep when last => (RolloutAction.Promote, Next(state, RolloutAction.Promote, o, now), F($"skip_step: last step skipped, {canary} becomes stable")),
            RolloutAction.SkipStep => (action, Next(state, action, o, now), F($"skip_step: step {state.StepIndex + 1} skipped; next {o.Steps[state.StepIndex + 1]} %")),
            RolloutAction.Approve => (action, state with { ApprovedStep = state.StepIndex }, F($"approve: step {state.StepIndex + 1} ({state.CanaryWeightPercent} %) approved")),
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Expected an operator action."),
        };
    }

    private static string Describe(RolloutState? state) =>
        state is null ? "no rollout" : F($"{state.Phase} (stable {state.Stable}, canary {state.Canary?.ToString() ?? "none"})");

    public async ValueTask<RolloutState?> GetStateAsync(ModelId model, CancellationToken cancellationToken = default) =>
        _pending.TryGetValue(model, out var pending)
            ? pending.Desired with { Revision = pending.ExpectedRevision + 1 }
            : await ReadAsync(model, cancellationToken).ConfigureAwait(false) ?? NewestKnown(model);

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
        RolloutAction.Advance or RolloutAction.SkipStep => state with { StepIndex = state.StepIndex + 1, CanaryWeightPercent = o.Steps[state.StepIndex + 1], StepStartedAt = now },
        RolloutAction.Promote => state with { Stable = state.Canary!.Value, PreviousStable = state.Stable, Canary = null, Phase = RolloutPhase.Promoted, CanaryWeightPercent = 0, StepStartedAt = now, Paused = false },
        RolloutAction.Rollback or RolloutAction.Abort => state with { Phase = RolloutPhase.RolledBack, CanaryWeightPercent = 0, StepStartedAt = now, Paused = false },
        _ => state,
    };

    private static List<string> Reasons(RolloutVerdict verdict) =>
        [.. verdict.Gates
            .OrderBy(g => g.Outcome switch { GateOutcome.Fail => 0, GateOutcome.NoData => 1, GateOutcome.Marginal => 2, _ => 3 })
            .Select(g => $"{g.Gate}: {g.Reason}")];

    /// <summary>
    /// Judges the canary over the analysis window (widened back to the step start until it holds enough requests), or
    /// over the whole step; stable over the whole rollout. Attempts no metrics source saw (ledger) are added to both.
    /// </summary>
    private async Task<RolloutVerdict> JudgeAsync(ModelId model, RolloutState state, ModelVersion canary, ModelReleaseOptions o, bool wholeStep, CancellationToken cancellationToken)
    {
        if (_services.GetService<IVersionMetricsSource>() is not { } source)
        {
            return new RolloutVerdict(
                GateOutcome.NoData,
                [new GateResult("metrics", GateOutcome.NoData, "no IVersionMetricsSource is registered (add AiOps.Monitoring): nothing to judge the canary on")],
                new Dictionary<string, double>());
        }

        var now = _time.GetUtcNow();
        var rolloutStart = state.History.LastOrDefault(d => d.Action == RolloutAction.Start)?.At ?? state.StepStartedAt;
        if (rolloutStart > state.StepStartedAt)
        {
            rolloutStart = state.StepStartedAt;
        }

        var canaryKey = new ModelKey(model, canary);
        var window = o.Gates.AnalysisWindow;
        var since = wholeStep ? state.StepStartedAt : Max(state.StepStartedAt, now - window);
        var canarySnapshot = await SnapshotAsync(source, canaryKey, since, cancellationToken).ConfigureAwait(false);
        for (var widen = 0; widen < 16 && canarySnapshot.Requests < o.Gates.MinSamples && since > state.StepStartedAt; widen++)
        {
            window *= 2;
            since = Max(state.StepStartedAt, now - window);
            canarySnapshot = await SnapshotAsync(source, canaryKey, since, cancellationToken).ConfigureAwait(false);
        }

        var stableSnapshot = await SnapshotAsync(source, new ModelKey(model, state.Stable), rolloutStart, cancellationToken).ConfigureAwait(false);
        var verdict = RolloutJudge.Judge(o.Gates, new RolloutGateContext(model, state.StepIndex, canarySnapshot, stableSnapshot));
        var figures = new Dictionary<string, double>(verdict.Figures, StringComparer.Ordinal) { ["window_seconds"] = (now - since).TotalSeconds };
        return verdict with { Figures = figures };
    }

    private async Task<VersionMetricsSnapshot> SnapshotAsync(IVersionMetricsSource source, ModelKey key, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var snapshot = await source.GetSnapshotAsync(key, since, cancellationToken).ConfigureAwait(false);
        var (unseen, latency) = _ledger.Read(key, since);
        return unseen == 0
            ? snapshot
            : snapshot with
            {
                Requests = snapshot.Requests + unseen,
                Failures = snapshot.Failures + unseen,
                LatencySamplesMs = latency.Count == 0 ? snapshot.LatencySamplesMs : [.. snapshot.LatencySamplesMs, .. latency],
            };
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

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
                _monitor.ApplyLocal(local, provisional: true);
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
        await UpdateAliasesAsync(model, decision.Action, decision.Action == RolloutAction.Undo ? saved.Stable : basedOn.Stable, basedOn.Canary, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(bool Done, RolloutDecision? Decision)> TryFlushAsync(ModelId model, Pending pending, CancellationToken cancellationToken)
    {
        RolloutState? current;
        try
        {
            current = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);

            // The lease holds for every write of the controller, kept rollbacks included: a replica that lost it while the
            // store was away does not overwrite what the holder decided since. People's actions are written regardless.
            if (pending.Decision.Actor is null && !await HoldsLeaseAsync(model, cancellationToken).ConfigureAwait(false))
            {
                _pending.TryRemove(model, out _);
                _logger.LogWarning("The kept {Action} decision of {Model} is dropped: another replica holds the controller lease now; following the store.", pending.Decision.Action, model);
                if (current is not null)
                {
                    Remember(current, force: true);
                }

                return (true, null);
            }

            if (current is null && pending.ExpectedRevision > 0)
            {
                // The store was reset while the decision waited: it seeds the new generation.
                _pending.TryRemove(model, out _);
                var seeded = await ReseedAsync(model, pending.Desired, cancellationToken).ConfigureAwait(false);
                Record(model, pending.Decision, written: seeded is not null);
                return (true, pending.Decision);
            }

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
            Remember(current, force: true);
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

    /// <summary>The state an action is based on: the store's (re-seeded first when it was reset), or the last known one when the store is unreachable.</summary>
    private async Task<RolloutState?> ReadForWriteAsync(ModelId model, CancellationToken cancellationToken)
    {
        var state = await ReadAsync(model, cancellationToken).ConfigureAwait(false);
        return state is null && NewestKnown(model) is not null
            ? await ReseedAsync(model, null, cancellationToken).ConfigureAwait(false)
            : state;
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
        if (_services.GetService<IModelRegistry>() is not { } registry || action is not (RolloutAction.Start or RolloutAction.Promote or RolloutAction.Rollback or RolloutAction.Abort or RolloutAction.Undo))
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
                case RolloutAction.Rollback or RolloutAction.Abort or RolloutAction.Undo:
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
        var level = decision.Action is RolloutAction.Rollback or RolloutAction.Abort or RolloutAction.Undo or RolloutAction.Pause ? LogLevel.Warning : written ? LogLevel.Information : LogLevel.Debug;
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

    private void Remember(RolloutState state, bool force = false)
    {
        _lastKnown[state.Model] = state;
        _monitor.ApplyLocal(state, provisional: false, force: force);
    }

    private static string NewEpoch() => Guid.NewGuid().ToString("N");

    /// <summary>The newest state this process knows of a model: a decision waiting to be written, the last state read or written here, or the routers' last read.</summary>
    private RolloutState? NewestKnown(ModelId model)
    {
        RolloutState?[] known =
        [
            _pending.TryGetValue(model, out var p) ? p.Desired with { Revision = p.ExpectedRevision + 1 } : null,
            _lastKnown.TryGetValue(model, out var last) ? last : null,
            _monitor.TryGet(model, out var route) ? route!.LastState : null,
        ];
        return known
            .Where(s => s is not null)
            .OrderByDescending(s => s!.History.Count > 0 ? s.History[^1].At : s.StepStartedAt)
            .ThenByDescending(s => s!.Revision)
            .FirstOrDefault();
    }

    /// <summary>
    /// Writes <paramref name="known"/> (or the newest known state) into a store found empty, as the first state of a new
    /// generation, with a <see cref="RolloutAction.Reseed"/> decision in its history; every router accepts it whatever
    /// the revisions it saw before. When another replica re-seeded first, its state is returned.
    /// </summary>
    private async Task<RolloutState?> ReseedAsync(ModelId model, RolloutState? known, CancellationToken cancellationToken)
    {
        known ??= NewestKnown(model);
        if (known is null)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        var decision = new RolloutDecision(now, RolloutAction.Reseed, known.StepIndex, known.Phase == RolloutPhase.Progressing ? known.CanaryWeightPercent : 0,
        [
            F($"store_reset: the state store held no state of {model}; re-seeded from revision {known.Revision} of generation {known.Epoch ?? "none"} ({known.Phase}, stable {known.Stable}, canary {known.Canary?.ToString() ?? "none"} at {known.CanaryWeightPercent} %)"),
        ]);
        var seeded = known with { Epoch = NewEpoch(), History = Append(known.History, decision) };
        if (await _store.TrySaveAsync(seeded, 0, cancellationToken).ConfigureAwait(false))
        {
            var saved = seeded with { Revision = 1 };
            Remember(saved);
            Record(model, decision, written: true);
            _logger.LogWarning("Re-seeded the reset rollout state store of {Model} (new generation {Epoch}) from revision {Revision} of generation {Previous}.", model, saved.Epoch, known.Revision, known.Epoch ?? "none");
            return saved;
        }

        var current = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
        if (current is not null)
        {
            Remember(current);
        }

        return current;
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

    /// <summary>What the controller remembers between evaluations of one step: consecutive failing evaluations, since when verdicts are marginal, when data was last seen.</summary>
    private sealed record Streak(ModelVersion Canary, int StepIndex, string? Epoch, int Failures, DateTimeOffset? MarginalSince, DateTimeOffset LastDataAt);
}
