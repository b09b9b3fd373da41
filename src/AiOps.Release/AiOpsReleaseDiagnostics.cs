using System.Diagnostics;

namespace AiOps.Release;

/// <summary>
/// The names under which AiOps.Release reports: add them to OpenTelemetry (<c>AddMeter</c>, <c>AddSource</c>) or an
/// <see cref="ActivityListener"/>. Rollout decisions and checkpoint saves are traced.
/// </summary>
public static class AiOpsReleaseDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the package's instruments.</summary>
    public const string MeterName = "AiOps.Release";

    /// <summary>The <see cref="ActivitySource"/> of the package's spans; a failed operation's span has status Error and the exception as an event.</summary>
    public const string ActivitySourceName = "AiOps.Release";

    /// <summary>The span of starting a rollout (tags <c>aiops.model</c>, <c>aiops.rollout.canary</c>).</summary>
    public const string RolloutStartActivityName = "aiops.rollout.start";

    /// <summary>The span of one rollout evaluation: the gates judged and the decision taken (tags <c>aiops.model</c>, <c>aiops.rollout.action</c>, <c>aiops.rollout.step</c>, <c>aiops.rollout.canary_weight</c>; the reasons as a <c>decision</c> event).</summary>
    public const string RolloutEvaluateActivityName = "aiops.rollout.evaluate";

    /// <summary>The span of an operator or alert rollback (tags <c>aiops.model</c>, <c>aiops.rollout.reason</c>).</summary>
    public const string RolloutRollbackActivityName = "aiops.rollout.rollback";

    /// <summary>The span of an operator action: promote, pause, resume, abort, skip step, undo, approve (tags <c>aiops.model</c>, <c>aiops.rollout.action</c>, <c>aiops.rollout.actor</c>).</summary>
    public const string RolloutOperateActivityName = "aiops.rollout.operate";

    /// <summary>The span of writing one checkpoint (tags <c>aiops.checkpoint.step</c>, <c>aiops.checkpoint.id</c>, <c>aiops.outcome</c>).</summary>
    public const string CheckpointSaveActivityName = "aiops.checkpoint.save";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(AiOpsReleaseDiagnostics).Assembly.GetName().Version?.ToString());
}
