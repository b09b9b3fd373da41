namespace AiOps.Monitoring.Quality;

/// <summary>What a quality period is selected by.</summary>
public enum QualityTimeBasis
{
    /// <summary>When the label joined its prediction (what windows and <see cref="Observation.IVersionAccuracyProvider"/> use: late labels count in the period they arrive).</summary>
    LabelArrival = 0,

    /// <summary>When the prediction was made (a period's figure keeps changing while its labels come in).</summary>
    PredictionTime,
}

/// <summary>What kind of prediction a model makes, for <see cref="ModelQualityOptions.Task"/>.</summary>
public enum QualityTask
{
    /// <summary>Classes (accuracy, precision, recall, F1, AUC): a float output holds scores or probabilities, an int64 one class ids.</summary>
    Classification = 0,

    /// <summary>Values (MAE, RMSE): each row of the float output is the predicted value (its first column).</summary>
    Regression,
}

/// <summary>
/// Joins predictions with ground-truth labels that arrive later (by request id, bounded memory, expiry after
/// <see cref="ModelQualityOptions.PredictionTimeToLive"/>, 72 h by default; a label that arrives before its prediction
/// waits for it), computes windowed accuracy, precision, recall, F1 and AUC (MAE and RMSE for regression) by label arrival or prediction time, compares each window with the
/// baseline (the first <see cref="ModelQualityOptions.BaselineMinimumLabels"/> labels, or one set explicitly) and raises
/// <c>accuracy_drop</c> when accuracy falls 5 points (P2) or 10 (P1) and <c>accuracy_rise</c> when it rises 5, with
/// hysteresis. Registered by <c>AddAiOpsModelQuality</c>; also an <see cref="Observation.IInferenceObserver"/> that
/// records the predictions of requests carrying a <see cref="ModelRequest.RequestId"/>.
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

    /// <summary>
    /// Joins a ground-truth label with its prediction. A label whose prediction is not (yet) known waits for it, up to
    /// <see cref="ModelQualityOptions.LabelTimeToLive"/> and <see cref="ModelQualityOptions.MaxPendingLabels"/>, and
    /// joins when the prediction is recorded.
    /// </summary>
    /// <param name="requestId">The request id.</param>
    /// <param name="label">The true class.</param>
    /// <param name="row">The row of a batched request.</param>
    /// <returns><see langword="true"/> when a waiting prediction was joined now; <see langword="false"/> when the label
    /// was kept to wait for its prediction (unknown, already labelled or expired predictions included).</returns>
    bool RecordLabel(string requestId, int label, int row = 0);

    /// <summary>Records a regression prediction to join with its observed value later (<see cref="RecordValueLabel"/>).</summary>
    /// <param name="key">The model version that predicted.</param>
    /// <param name="requestId">The id the observed value will arrive with.</param>
    /// <param name="predicted">The predicted value.</param>
    /// <param name="row">The row of a batched request (0 for a single row).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="predicted"/> is NaN or infinite.</exception>
    void RecordValuePrediction(ModelKey key, string requestId, double predicted, int row = 0);

    /// <summary>
    /// Joins an observed value with its regression prediction (MAE, RMSE); it waits for its prediction as a label does.
    /// Given for a classifier's prediction, an integral value is taken as the class and any other is counted unmatched.
    /// </summary>
    /// <param name="requestId">The request id.</param>
    /// <param name="actual">The observed value.</param>
    /// <param name="row">The row of a batched request.</param>
    /// <returns><see langword="true"/> when a waiting prediction was joined now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="actual"/> is NaN or infinite.</exception>
    bool RecordValueLabel(string requestId, double actual, int row = 0);

    /// <summary>The regression metrics of <paramref name="key"/>'s joined predictions in the period selected by <paramref name="basis"/>; <see langword="null"/> when none.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period.</param>
    /// <param name="basis">Whether the period is of label arrival or of prediction time.</param>
    RegressionMetrics? GetRegressionMetrics(ModelKey key, DateTimeOffset since, QualityTimeBasis basis);

    /// <summary>
    /// Sets the calibration of <paramref name="key"/>'s confidences for the estimated accuracy (fit it on a labelled
    /// reference set with <see cref="ConfidenceCalibrator.Fit"/>); <see langword="null"/> takes the confidences as calibrated.
    /// </summary>
    /// <param name="key">The model version.</param>
    /// <param name="calibrator">The calibrator, or <see langword="null"/>.</param>
    void SetCalibration(ModelKey key, ConfidenceCalibrator? calibrator);

    /// <summary>
    /// The accuracy of <paramref name="key"/>'s predictions made since <paramref name="since"/> estimated without labels
    /// (NannyML's CBPE): the mean over predictions of the calibrated probability that the predicted class is right (for a
    /// binary model, mean(max(p, 1 − p)) when calibrated), with the realised accuracy of those already labelled to check
    /// it against. The confidence is the predicted class's probability from the response (<c>OnInference</c>), or for
    /// <see cref="RecordPrediction"/> the score taken as the positive-class probability of a binary model.
    /// <see langword="null"/> when no prediction of the period has a confidence.
    /// </summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period (prediction time).</param>
    AccuracyEstimate? GetEstimatedAccuracy(ModelKey key, DateTimeOffset since);

    /// <summary>Predictions waiting for a label.</summary>
    int PendingCount { get; }

    /// <summary>Labels waiting for their prediction.</summary>
    int PendingLabelCount { get; }

    /// <summary>The metrics of <paramref name="key"/>'s predictions made since <paramref name="since"/> and labelled; <see langword="null"/> when none.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period (prediction time).</param>
    QualityMetrics? GetMetrics(ModelKey key, DateTimeOffset since);

    /// <summary>The metrics of <paramref name="key"/>'s labelled predictions in the period selected by <paramref name="basis"/>; <see langword="null"/> when none.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period.</param>
    /// <param name="basis">Whether the period is of label arrival or of prediction time.</param>
    QualityMetrics? GetMetrics(ModelKey key, DateTimeOffset since, QualityTimeBasis basis);

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
