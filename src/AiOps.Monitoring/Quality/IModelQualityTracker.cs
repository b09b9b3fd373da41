namespace AiOps.Monitoring.Quality;

/// <summary>
/// Joins predictions with ground-truth labels that arrive later (by request id, bounded memory, expiry), computes
/// windowed accuracy, precision, recall and AUC, compares each window with the baseline (the first window with enough
/// labels, or one set explicitly) and raises <c>accuracy_drop</c> when accuracy falls 5 % (P2) or 10 % (P1).
/// Registered by <c>AddAiOpsModelQuality</c>; also an <see cref="Observation.IInferenceObserver"/> that records the
/// predictions of requests carrying a <see cref="ModelRequest.RequestId"/>.
/// </summary>
public interface IModelQualityTracker
{
    /// <summary>Records a prediction to join with its label later.</summary>
    /// <param name="key">The model version that predicted.</param>
    /// <param name="requestId">The id the label will arrive with.</param>
    /// <param name="predictedClass">The predicted class.</param>
    /// <param name="score">The positive-class score, if any.</param>
    /// <param name="row">The row of a batched request (0 for a single row).</param>
    void RecordPrediction(ModelKey key, string requestId, int predictedClass, double? score = null, int row = 0);

    /// <summary>Joins a ground-truth label with its prediction.</summary>
    /// <param name="requestId">The request id.</param>
    /// <param name="label">The true class.</param>
    /// <param name="row">The row of a batched request.</param>
    /// <returns><see langword="true"/> when a waiting prediction was found; <see langword="false"/> when unknown, already labelled or expired.</returns>
    bool RecordLabel(string requestId, int label, int row = 0);

    /// <summary>Predictions waiting for a label.</summary>
    int PendingCount { get; }

    /// <summary>The metrics of <paramref name="key"/>'s predictions made since <paramref name="since"/> and labelled; <see langword="null"/> when none.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period (prediction time).</param>
    QualityMetrics? GetMetrics(ModelKey key, DateTimeOffset since);

    /// <summary>Sets the baseline windows are compared with (e.g. the offline test-set figures).</summary>
    /// <param name="key">The model version.</param>
    /// <param name="baseline">The baseline.</param>
    void SetBaseline(ModelKey key, QualityMetrics baseline);

    /// <summary>The baseline of <paramref name="key"/>, or <see langword="null"/>.</summary>
    /// <param name="key">The model version.</param>
    QualityMetrics? GetBaseline(ModelKey key);

    /// <summary>Closes every version's window now (as the timer does), raising alerts, and returns the closed windows.</summary>
    /// <param name="cancellationToken">Cancels publishing.</param>
    ValueTask<IReadOnlyList<QualityWindow>> CloseWindowsAsync(CancellationToken cancellationToken = default);
}
