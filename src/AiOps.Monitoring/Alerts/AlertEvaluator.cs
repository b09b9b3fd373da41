using System.Globalization;
using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Incidents;
using AiOps.Monitoring.Metrics;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Alerts;

/// <summary>Default <see cref="IAlertEvaluator"/>: a pending/firing state machine per rule and subject.</summary>
internal sealed class AlertEvaluator : IAlertEvaluator, IDisposable
{
    private readonly VersionMetricsStore _store;
    private readonly IGpuTelemetry _gpu;
    private readonly IAlertPublisher _publisher;
    private readonly IncidentGrader _grader;
    private readonly TimeProvider _time;
    private readonly AlertRuleOptions _rules;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(string Rule, string Subject), RuleState> _states = [];

    public AlertEvaluator(
        VersionMetricsStore store,
        IGpuTelemetry gpu,
        IAlertPublisher publisher,
        IncidentGrader grader,
        TimeProvider time,
        IOptions<AiOpsMonitoringOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _gpu = gpu;
        _publisher = publisher;
        _grader = grader;
        _time = time;
        _rules = options.Value.Alerts;
    }

    public IReadOnlyList<AlertEvent> Firing
    {
        get
        {
            lock (_states)
            {
                return [.. _states.Values.Where(s => s.FiringEvent is not null).Select(s => s.FiringEvent!)];
            }
        }
    }

    public async ValueTask<IReadOnlyList<AlertEvent>> EvaluateAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var conditions = new List<Condition>();
            foreach (var key in _store.Keys.ToArray())
            {
                AddModelConditions(conditions, key, now);
            }

            AddGpuConditions(conditions, now);
            var events = new List<AlertEvent>();
            lock (_states)
            {
                var seen = new HashSet<(string, string)>();
                foreach (var c in conditions)
                {
                    seen.Add((c.Rule, c.Subject));
                    Step(c, now, events);
                }

                // A subject that disappeared (e.g. a GPU no longer reported) resolves its alerts.
                foreach (var (id, state) in _states.ToArray())
                {
                    if (!seen.Contains(id) && state.FiringEvent is { } firing)
                    {
                        events.Add(firing with { State = AlertState.Resolved, At = now, Message = $"{firing.Rule} resolved: {id.Subject} is no longer reported." });
                        _states.Remove(id);
                    }
                }
            }

            foreach (var e in events)
            {
                await _publisher.PublishAsync(e, cancellationToken).ConfigureAwait(false);
            }

            return events;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private void Step(Condition c, DateTimeOffset now, List<AlertEvent> events)
    {
        var id = (c.Rule, c.Subject);
        _states.TryGetValue(id, out var state);
        if (c.Holds)
        {
            state ??= new RuleState { PendingSince = now };
            _states[id] = state;
            if (state.FiringEvent is null && now - state.PendingSince >= c.For)
            {
                var e = new AlertEvent(c.Rule, AlertState.Firing, c.Severity, now, c.Message)
                {
                    Key = c.Key,
                    Value = c.Value,
                    Threshold = c.Threshold,
                    Priority = _grader.Grade(c.Rule, c.Severity, c.Value),
                };
                state.FiringEvent = e;
                events.Add(e);
            }
        }
        else if (state is not null)
        {
            _states.Remove(id);
            if (state.FiringEvent is { } firing)
            {
                events.Add(firing with
                {
                    State = AlertState.Resolved,
                    At = now,
                    Value = c.Value,
                    Message = $"{c.Rule} resolved for {c.Subject}: {c.ResolvedMessage}",
                });
            }
        }
    }

    private void AddModelConditions(List<Condition> conditions, ModelKey key, DateTimeOffset now)
    {
        var subject = key.ToString();
        var r = _rules;
        if (_store.TryGet(key, out var series) && series!.Runner is { } runner)
        {
            var status = runner.Status;
            conditions.Add(new Condition(
                AlertRuleOptions.ModelUnavailable, subject, key, !status.IsServing, r.UnavailableFor, AlertSeverity.Critical,
                null, null,
                $"{subject} cannot serve ({status.Readiness}): {status.Reason ?? "no reason given"}.",
                $"{subject} is {status.Readiness}."));
        }

        var snapshot = _store.GetSnapshot(key, now - r.Window);
        var enough = snapshot.Requests >= r.MinRequests;
        var p95Seconds = snapshot.P95LatencyMs / 1000;
        var windowText = $"over the last {r.Window.TotalMinutes:0.#} min ({snapshot.Requests} calls)";

        // Too little traffic is not a recovery: a rule resolved for that reason says so, with the counts.
        var tooFew = Invariant($"too few calls to judge ({snapshot.Requests} over the last {r.Window.TotalMinutes:0.#} min; at least {r.MinRequests} needed).");
        conditions.Add(new Condition(
            AlertRuleOptions.LatencyP95High, subject, key, enough && p95Seconds > r.LatencyP95Threshold.TotalSeconds, r.LatencyFor, AlertSeverity.Warning,
            p95Seconds, r.LatencyP95Threshold.TotalSeconds,
            Invariant($"p95 latency of {subject} is {p95Seconds * 1000:0.#} ms {windowText}; threshold {r.LatencyP95Threshold.TotalMilliseconds:0.#} ms."),
            enough ? Invariant($"p95 latency is {(p95Seconds ?? 0) * 1000:0.#} ms.") : tooFew));
        conditions.Add(new Condition(
            AlertRuleOptions.LatencyP95Critical, subject, key, enough && p95Seconds > r.LatencyP1Threshold.TotalSeconds, r.LatencyP1For, AlertSeverity.Critical,
            p95Seconds, r.LatencyP1Threshold.TotalSeconds,
            Invariant($"p95 latency of {subject} is {p95Seconds:0.###} s {windowText}; above the P1 threshold of {r.LatencyP1Threshold.TotalSeconds:0.###} s: roll back first."),
            enough ? Invariant($"p95 latency is {p95Seconds ?? 0:0.###} s.") : tooFew));
        var success = 1 - snapshot.ErrorRate;
        conditions.Add(new Condition(
            AlertRuleOptions.SuccessRateLow, subject, key, enough && success < r.SuccessRateThreshold, r.SuccessRateFor, AlertSeverity.Critical,
            enough ? success : null, r.SuccessRateThreshold,
            Invariant($"success rate of {subject} is {success:P2} {windowText} ({snapshot.Failures} failed); threshold {r.SuccessRateThreshold:P2}."),
            enough ? Invariant($"success rate is {success:P2}.") : tooFew));

        if (r.AccuracyBaselines.TryGetValue(key.Model.Value, out var baseline) && _store.AccuracyProvider is { } accuracyProvider)
        {
            var accuracy = accuracyProvider.GetAccuracy(key, now - r.AccuracyWindow);
            var change = accuracy is { } a ? Math.Abs(a - baseline) : (double?)null;
            var severity = change >= r.AccuracyP1Change ? AlertSeverity.Critical : AlertSeverity.Warning;

            // Hysteresis: a firing accuracy_changed holds until the change is back below the threshold by
            // AccuracyHysteresis points (at most half the threshold), so a wobble around 5 points does not flap.
            var holdBelow = IsFiring(AlertRuleOptions.AccuracyChanged, subject)
                ? r.AccuracyChangeThreshold - Math.Min(AccuracyHysteresis, r.AccuracyChangeThreshold / 2)
                : r.AccuracyChangeThreshold;
            conditions.Add(new Condition(
                AlertRuleOptions.AccuracyChanged, subject, key, change > holdBelow, r.AccuracyFor, severity,
                change, r.AccuracyChangeThreshold,
                Invariant($"accuracy of {subject} is {accuracy:P1} against a baseline of {baseline:P1} (moved {change * 100:0.#} points; threshold {r.AccuracyChangeThreshold * 100:0.#})."),
                Invariant($"accuracy is {accuracy:P1} (baseline {baseline:P1}).")));
        }

        if (_store.DriftProvider is { } driftProvider)
        {
            var drift = driftProvider.GetWorstSeverity(key, now - r.DriftWindow);
            conditions.Add(new Condition(
                AlertRuleOptions.DriftSevere, subject, key, drift == DriftSeverity.Severe, r.DriftFor, AlertSeverity.Critical,
                drift is null ? null : (double)drift, (double)DriftSeverity.Severe,
                $"input drift of {subject} is severe (PSI > 0.2 or missing share up > 20 points by default) in a window closed in the last {r.DriftWindow.TotalMinutes:0.#} min.",
                $"drift is {drift?.ToString() ?? "not measured"}."));
            conditions.Add(new Condition(
                AlertRuleOptions.DriftModerate, subject, key, drift == DriftSeverity.Moderate, r.DriftFor, AlertSeverity.Warning,
                drift is null ? null : (double)drift, (double)DriftSeverity.Moderate,
                $"input drift of {subject} is moderate (PSI 0.1-0.2 or missing share up 5-20 points by default) in a window closed in the last {r.DriftWindow.TotalMinutes:0.#} min.",
                $"drift is {drift?.ToString() ?? "not measured"}."));
        }
    }

    private void AddGpuConditions(List<Condition> conditions, DateTimeOffset now)
    {
        var r = _rules;
        foreach (var device in _gpu.Latest.Result.Devices)
        {
            var subject = "gpu:" + device.Index.ToString(CultureInfo.InvariantCulture);
            var average = _gpu.GetAverageUtilization(device.Index, now - r.GpuWindow);
            var window = $"{r.GpuWindow.TotalMinutes:0.#} min";
            conditions.Add(new Condition(
                AlertRuleOptions.GpuHot, subject, null, average > r.GpuHotThreshold, r.GpuHotFor, AlertSeverity.Warning,
                average, r.GpuHotThreshold,
                Invariant($"GPU {device.Index} ({device.Name}) was {average:P0} busy on average over {window}; above {r.GpuHotThreshold:P0}: add capacity or shed load."),
                Invariant($"GPU {device.Index} is {average:P0} busy.")));
            conditions.Add(new Condition(
                AlertRuleOptions.GpuIdle, subject, null, average < r.GpuIdleThreshold, r.GpuIdleFor, AlertSeverity.Info,
                average, r.GpuIdleThreshold,
                Invariant($"GPU {device.Index} ({device.Name}) was {average:P0} busy on average over {window}; below {r.GpuIdleThreshold:P0}: consider fewer or smaller GPUs (cost)."),
                Invariant($"GPU {device.Index} is {average:P0} busy.")));
            var memory = device.MemoryUsedRatio;
            conditions.Add(new Condition(
                AlertRuleOptions.GpuMemoryHigh, subject, null, memory > r.GpuMemoryThreshold, r.GpuMemoryFor, AlertSeverity.Warning,
                memory, r.GpuMemoryThreshold,
                Invariant($"GPU {device.Index} ({device.Name}) memory is {memory:P0} used; above {r.GpuMemoryThreshold:P0}."),
                Invariant($"GPU {device.Index} memory is {memory:P0} used.")));
        }
    }

    /// <summary>Points (0–1 scale) by which a firing <see cref="AlertRuleOptions.AccuracyChanged"/> must come back below its threshold to resolve.</summary>
    internal const double AccuracyHysteresis = 0.02;

    private bool IsFiring(string rule, string subject)
    {
        lock (_states)
        {
            return _states.TryGetValue((rule, subject), out var state) && state.FiringEvent is not null;
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Condition(
        string Rule,
        string Subject,
        ModelKey? Key,
        bool Holds,
        TimeSpan For,
        AlertSeverity Severity,
        double? Value,
        double? Threshold,
        string Message,
        string ResolvedMessage);

    private sealed class RuleState
    {
        public DateTimeOffset PendingSince { get; init; }

        public AlertEvent? FiringEvent { get; set; }
    }
}
