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

    /// <summary>The class precision, recall and AUC are computed for (one-vs-rest; default 1).</summary>
    public int PositiveClass { get; set; } = 1;

    /// <summary>Predictions waiting for a label, at most (default 100 000); beyond it the oldest are dropped and counted.</summary>
    public int MaxPendingPredictions { get; set; } = 100_000;

    /// <summary>How long a prediction waits for its label (default 24 hours); older ones are dropped and counted as expired.</summary>
    public TimeSpan PredictionTimeToLive { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Labelled predictions kept per version for windows and <c>GetAccuracy</c> (default 100 000, oldest dropped first).</summary>
    public int MaxOutcomesPerVersion { get; set; } = 100_000;

    /// <summary>The length of a tumbling window (default 1 hour). A window holds the outcomes whose label arrived in it.</summary>
    public TimeSpan WindowDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A window with fewer labelled outcomes than this is neither a baseline nor compared (default 100).</summary>
    public int MinimumLabels { get; set; } = 100;

    /// <summary>An accuracy drop from the baseline of at least this many points (absolute, 0.05 = 5 %) raises <c>accuracy_drop</c> as a P2 warning.</summary>
    public double AccuracyDropWarning { get; set; } = 0.05;

    /// <summary>A drop of at least this (default 0.10 = 10 %) raises <c>accuracy_drop</c> as a critical P1.</summary>
    public double AccuracyDropCritical { get; set; } = 0.10;

    /// <summary>Whether windows raise <c>accuracy_drop</c> alerts (default true).</summary>
    public bool PublishAlerts { get; set; } = true;
}
