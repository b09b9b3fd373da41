using System.Diagnostics;

namespace AiOps.Inference;

/// <summary>
/// The names under which AiOps.Inference reports: add them to OpenTelemetry (<c>AddMeter</c>, <c>AddSource</c>) or an
/// <see cref="ActivityListener"/>.
/// </summary>
public static class AiOpsInferenceDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of every inference instrument (<c>aiops.inference.*</c>).</summary>
    public const string MeterName = "AiOps.Inference";

    /// <summary>
    /// The <see cref="ActivitySource"/> of the inference spans: <see cref="RunActivityName"/> for each call (tags
    /// <c>aiops.model</c>, <c>aiops.model.version</c>, <c>aiops.outcome</c>, <c>aiops.rows</c>, and for batched calls
    /// <c>aiops.queue_wait_seconds</c> and <c>aiops.batch.calls</c>) and <see cref="BatchActivityName"/> for each batched
    /// ONNX Runtime run (linked to its calls). A failed call's span has status Error and the exception as an event.
    /// </summary>
    public const string ActivitySourceName = "AiOps.Inference";

    /// <summary>The span of one call, from its arrival at the runner to its answer (queue wait and run included).</summary>
    public const string RunActivityName = "aiops.inference.run";

    /// <summary>The span of one batched ONNX Runtime run.</summary>
    public const string BatchActivityName = "aiops.inference.batch";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(AiOpsInferenceDiagnostics).Assembly.GetName().Version?.ToString());

    internal static Activity? StartRun(ModelKey key)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(RunActivityName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = $"infer {key}";
            activity.SetTag("aiops.model", key.Model.Value);
            activity.SetTag("aiops.model.version", key.Version.ToString());
        }

        return activity;
    }

    internal static void Stop(Activity? activity, string outcome, Exception? error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("aiops.outcome", outcome);
        if (error is not null)
        {
            Internal.Tracing.Fail(activity, error);
        }

        activity.Stop();
    }
}
