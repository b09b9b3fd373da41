using AiOps.Release.Resilience;
using AiOps.Release.Rollout;
using AiOps.Release.Shadow;

namespace AiOps.Release;

/// <summary>
/// How one model is released: rollout steps and hold times, the metric gates judged at every step, the resilience of
/// the request path and an optional shadow version. The options name is the model name.
/// </summary>
public sealed class ModelReleaseOptions
{
    /// <summary>The configuration section prefix of the per-model settings bound by <c>AddModel</c>: <c>AiOps:Release:Models</c>, followed by the model name (<c>AiOps:Release:Models:fraud</c>, with subsections <c>:Gates</c>, <c>:Resilience</c> and <c>:Shadow</c>).</summary>
    public const string SectionPrefix = "AiOps:Release:Models";

    /// <summary>
    /// The stable version to serve before any rollout state exists. When <see langword="null"/>, the registry's
    /// <c>stable</c> alias is used, then the highest loaded version.
    /// </summary>
    public string? StableVersion { get; set; }

    /// <summary>The canary weight (percent, 0–100] of each step, strictly increasing. Default: 10, 50, 100.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Options are assigned with collection expressions (o.Steps = [10, 50, 100]) and bound from configuration.")]
    public IList<double> Steps { get; set; } = [10, 50, 100];

    /// <summary>How long each step is held (while its gates pass) before the next. Default: 24 hours, the field's practice for the first step.</summary>
    public TimeSpan StepHold { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Per-step hold times overriding <see cref="StepHold"/>; when not empty, one per step.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Options are assigned with collection expressions and bound from configuration.")]
    public IList<TimeSpan> StepHolds { get; set; } = [];

    /// <summary>
    /// The steps (0-based indices into <see cref="Steps"/>) a person must approve (<see cref="Rollout.IRolloutManager.ApproveAsync"/>)
    /// before the canary leaves them, once their hold time is over and their gates pass. Default: none.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Options are assigned with collection expressions and bound from configuration.")]
    public IList<int> ApprovalSteps { get; set; } = [];

    /// <summary>
    /// The seed of the sticky routing hash of a rollout. <see langword="null"/> (the default) derives it from the model
    /// and the candidate version, so each release samples its own users (a user stays on one side throughout one
    /// rollout, on every replica); set a fixed value to give several releases the same canary users.
    /// </summary>
    public string? RoutingSeed { get; set; }

    /// <summary>
    /// How long after a promotion a P1 alert on the new stable version undoes it (the previous stable serves again).
    /// Zero turns it off. Default: 24 hours.
    /// </summary>
    public TimeSpan UndoWatchPeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The metric gates and the statistical judge.</summary>
    public RolloutGateOptions Gates { get; set; } = new();

    /// <summary>Timeout, retry, circuit breaker and fallback of the request path.</summary>
    public ModelResilienceOptions Resilience { get; set; } = new();

    /// <summary>Shadow traffic: a copy of each request sent to a version whose answers are compared, never returned.</summary>
    public ShadowOptions Shadow { get; set; } = new();

    /// <summary>Returns the hold time of a step.</summary>
    /// <param name="stepIndex">The step (0-based).</param>
    public TimeSpan HoldFor(int stepIndex) =>
        StepHolds.Count > 0 && stepIndex >= 0 && stepIndex < StepHolds.Count ? StepHolds[stepIndex] : StepHold;
}
