namespace AiOps.Monitoring.Quality;

/// <summary>
/// Settings of model-quality tracking (<c>services.AddAiOpsModelQuality(o =&gt; …)</c>): how predictions are read, how
/// long they wait for their label, the window and the accuracy-change alert.
/// </summary>
public sealed class ModelQualityOptions
{
    /// <summary>The configuration section bound by <c>AddAiOpsModelQuality</c>: <c>AiOps:Monitoring:Quality</c>.</summary>
    public const string SectionName = "AiOps:Monitoring:Quality";

    /// <summary>The output holding the scores or class; <see langword="null"/> for the first float output (or the first int64 output holding class ids).</summary>
    public string? PredictionOutput { get; set; }

    /// <summary>Whether the model classifies (default) or regresses: how <c>OnInference</c> reads its output.</summary>
    public QualityTask Task { get; set; } = QualityTask.Classification;

    /// <summary>The class precision, recall and AUC are computed for (one-vs-rest; default 1).</summary>
    public int PositiveClass { get; set; } = 1;

    /// <summary>Predictions waiting for a label, at most (default 100 000); beyond it the oldest are dropped and counted.</summary>
    public int MaxPendingPredictions { get; set; } = 100_000;

    /// <summary>How long a prediction waits for its label (default 72 hours, so labels a day or two late still join); older ones are dropped and counted as expired.</summary>
    public TimeSpan PredictionTimeToLive { get; set; } = TimeSpan.FromHours(72);

    /// <summary>Labels that arrived before their prediction and wait for it, at most (default 100 000); beyond it the oldest are dropped and counted unmatched.</summary>
    public int MaxPendingLabels { get; set; } = 100_000;

    /// <summary>How long a label that arrived before its prediction waits for it (default 1 hour); then it is dropped and counted unmatched.</summary>
    public TimeSpan LabelTimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Without a baseline set by <see cref="IModelQualityTracker.SetBaseline"/>, the first this-many labelled predictions
    /// of a version become its baseline (default 1 000: at 90 % accuracy its standard error is under 1 point, where the
    /// first window of 100 labels is ±3 points). Windows are compared with it from the window that completes it.
    /// </summary>
    public int BaselineMinimumLabels { get; set; } = 1_000;

    /// <summary>
    /// How far (absolute, default 0.02 = 2 points) accuracy must come back past a threshold before a firing accuracy alert
    /// steps down or resolves, so a window-to-window wobble around 5 or 10 points does not flap.
    /// </summary>
    public double AccuracyHysteresis { get; set; } = 0.02;

    /// <summary>Labelled predictions kept per version for windows and <c>GetAccuracy</c> (default 100 000, oldest dropped first);
    /// as many regression outcomes and prediction confidences (for the estimated accuracy) are kept.</summary>
    public int MaxOutcomesPerVersion { get; set; } = 100_000;

    /// <summary>The length of a tumbling window (default 1 hour). A window holds the outcomes whose label arrived in it.</summary>
    public TimeSpan WindowDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A window with fewer labelled outcomes than this is neither a baseline nor compared (default 100).</summary>
    public int MinimumLabels { get; set; } = 100;

    /// <summary>An accuracy drop from the baseline of at least this many points (absolute, 0.05 = 5 %) raises <c>accuracy_drop</c> as a P2 warning;
    /// a rise of as much raises <c>accuracy_rise</c> (info, P3: the model or the labels changed, the baseline may be stale).</summary>
    public double AccuracyDropWarning { get; set; } = 0.05;

    /// <summary>A drop of at least this (default 0.10 = 10 %) raises <c>accuracy_drop</c> as a critical P1.</summary>
    public double AccuracyDropCritical { get; set; } = 0.10;

    /// <summary>Whether windows raise <c>accuracy_drop</c> and <c>accuracy_rise</c> alerts (default true).</summary>
    public bool PublishAlerts { get; set; } = true;
}
