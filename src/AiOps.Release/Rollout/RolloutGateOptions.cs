using AiOps.Drift;
using AiOps.Metrics;

namespace AiOps.Release.Rollout;

/// <summary>
/// The gates a canary must pass at every step, judged on canary against stable at every evaluation over a sliding
/// <see cref="AnalysisWindow"/> (Argo Rollouts / Flagger style), not since the step began: a fault that starts late in
/// a step is judged on its own minutes. A failing gate rolls back after <see cref="FailureLimit"/> consecutive failing
/// evaluations, a hard failure (the error-rate ceiling) at once. Before the canary leaves a step, the whole step is
/// judged too, so slow-burning differences the short window cannot resolve still stop it. A gate without enough data
/// never passes: the step holds (and, with <see cref="NoDataRollbackAfter"/>, rolls back when data never comes).
/// </summary>
public sealed class RolloutGateOptions
{
    /// <summary>
    /// The sliding period the canary is judged on at each evaluation: the last <c>AnalysisWindow</c> of the step (widened
    /// back, at most to the step start, until it holds <see cref="MinSamples"/> canary requests). Equal to the evaluation
    /// interval, consecutive evaluations judge disjoint periods. Default: 1 minute.
    /// </summary>
    public TimeSpan AnalysisWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many consecutive evaluations with a failing gate roll the canary back (at least 1). Default: 2.</summary>
    public int FailureLimit { get; set; } = 2;

    /// <summary>
    /// The significance level (0–0.5] of the error-rate tests: Fisher's exact test of canary against stable and the
    /// binomial test against <see cref="MaxErrorRate"/>. Judged at every evaluation, so it is small. Default: 0.001.
    /// </summary>
    public double ErrorRateAlpha { get; set; } = 0.001;

    /// <summary>
    /// How long verdicts may stay marginal (neither pass nor fail) in a row before <see cref="MarginalAction"/> is
    /// taken; <see langword="null"/> to hold as long as they stay marginal. Default: 4 hours.
    /// </summary>
    public TimeSpan? MarginalTimeout { get; set; } = TimeSpan.FromHours(4);

    /// <summary>What happens when <see cref="MarginalTimeout"/> is over. Default: <see cref="MarginalTimeoutAction.Rollback"/>.</summary>
    public MarginalTimeoutAction MarginalAction { get; set; } = MarginalTimeoutAction.Rollback;

    /// <summary>The fewest requests (and latency samples) each of canary and stable must have before any gate is judged. Default: 100.</summary>
    public int MinSamples { get; set; } = 100;

    /// <summary>
    /// The hard ceiling of the canary error rate (0–1), whatever stable does; <see langword="null"/> for none. A canary
    /// significantly above it (one-sided exact binomial test at <see cref="ErrorRateAlpha"/>) is rolled back at once,
    /// even with fewer than <see cref="MinSamples"/> requests. Default: 0.05.
    /// </summary>
    public double? MaxErrorRate { get; set; } = 0.05;

    /// <summary>
    /// The smallest excess of the canary error rate over stable's (0–1, absolute) that fails the gate: the canary fails
    /// when it is both significantly worse (Fisher's exact test at <see cref="ErrorRateAlpha"/>) and worse by more than
    /// this. Default: 0.01 (one point).
    /// </summary>
    public double MaxErrorRateIncrease { get; set; } = 0.01;

    /// <summary>The highest canary p95 latency in milliseconds; <see langword="null"/> for none. Default: 500 ms.</summary>
    public double? MaxP95LatencyMs { get; set; } = 500;

    /// <summary>The highest ratio of canary p95 latency to stable p95 latency (at least 1). Default: 1.25.</summary>
    public double MaxP95LatencyRatio { get; set; } = 1.25;

    /// <summary>The most the canary accuracy may fall below stable's (0–1, absolute). Default: 0.05, the field's P2 threshold.</summary>
    public double MaxAccuracyDrop { get; set; } = 0.05;

    /// <summary>Whether accuracy must be measured (labels arrived) before the canary can advance. Default: <see langword="false"/>.</summary>
    public bool RequireAccuracy { get; set; }

    /// <summary>The worst drift severity of the canary's inputs accepted. Default: <see cref="DriftSeverity.Moderate"/> (severe drift fails).</summary>
    public DriftSeverity MaxDriftSeverity { get; set; } = DriftSeverity.Moderate;

    /// <summary>Whether drift must be tracked for the canary before it can advance. Default: <see langword="false"/>.</summary>
    public bool RequireDrift { get; set; }

    /// <summary>Whether latency samples are judged with a one-sided Mann–Whitney U test. Default: <see langword="true"/>.</summary>
    public bool UseLatencyJudge { get; set; } = true;

    /// <summary>The significance level of the latency judge (0–0.5]. Default: 0.05.</summary>
    public double JudgeAlpha { get; set; } = 0.05;

    /// <summary>The latency score (0–100) at or above which the judge passes. Default: 80.</summary>
    public double JudgePassScore { get; set; } = 80;

    /// <summary>The latency score (0–100) at or above which the judge is marginal (hold); below it the canary fails. Default: 50.</summary>
    public double JudgeMarginalScore { get; set; } = 50;

    /// <summary>Roll back when a step has had too little data for this long; <see langword="null"/> to hold forever. Default: 48 hours.</summary>
    public TimeSpan? NoDataRollbackAfter { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Extra gates written by the application, run after the built-in ones.</summary>
    public IList<Func<RolloutGateContext, GateResult>> CustomGates { get; } = [];
}

/// <summary>What the controller does when verdicts stayed marginal for <see cref="RolloutGateOptions.MarginalTimeout"/>.</summary>
public enum MarginalTimeoutAction
{
    /// <summary>Roll the canary back.</summary>
    Rollback = 0,

    /// <summary>Pause the rollout (weights kept) and alert: a person decides (resume, promote or abort).</summary>
    Pause,
}

/// <summary>The outcome of one gate.</summary>
public enum GateOutcome
{
    /// <summary>The canary is as good as required.</summary>
    Pass = 0,

    /// <summary>Not clearly good nor bad: hold the step.</summary>
    Marginal,

    /// <summary>Too little data to judge: hold the step (never a pass).</summary>
    NoData,

    /// <summary>The canary is worse than allowed: roll back.</summary>
    Fail,
}

/// <summary>What one gate found.</summary>
/// <param name="Gate">The gate's name (e.g. <c>error_rate</c>).</param>
/// <param name="Outcome">Pass, marginal, no data or fail.</param>
/// <param name="Reason">Why, with the figures.</param>
public sealed record GateResult(string Gate, GateOutcome Outcome, string Reason)
{
    /// <summary>Whether a failure rolls back at once instead of after <see cref="RolloutGateOptions.FailureLimit"/> consecutive failing evaluations.</summary>
    public bool Immediate { get; init; }
}

/// <summary>What a custom gate sees: the model, the step and the figures of canary and stable.</summary>
/// <param name="Model">The model.</param>
/// <param name="StepIndex">The current step (0-based).</param>
/// <param name="Canary">The canary's figures over the analysis window (or the whole step, when the step is judged before leaving it), every attempt included.</param>
/// <param name="Stable">The stable version's figures since the rollout began, every attempt included.</param>
public sealed record RolloutGateContext(ModelId Model, int StepIndex, VersionMetricsSnapshot Canary, VersionMetricsSnapshot Stable);
