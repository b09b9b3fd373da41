namespace AiOps.Monitoring.Observation;

/// <summary>
/// Receives every successful call that passes through a monitored runner: the drift tracker counts the input
/// features, the quality tracker keeps the output scores to join with labels later. Implementations must be cheap
/// and thread-safe (they run on the caller's path) and must not keep references to the request's memory after
/// returning.
/// </summary>
public interface IInferenceObserver
{
    /// <summary>Called after a successful call.</summary>
    /// <param name="key">The model version that answered.</param>
    /// <param name="request">The inputs.</param>
    /// <param name="response">The outputs.</param>
    void OnInference(ModelKey key, ModelRequest request, ModelResponse response);
}

/// <summary>Windowed accuracy of a model version, as the quality tracker computes it from joined labels.</summary>
public interface IVersionAccuracyProvider
{
    /// <summary>Accuracy of <paramref name="key"/>'s predictions whose label joined since <paramref name="since"/> (by label arrival, so labels
    /// hours late still count in a recent period), or <see langword="null"/> when none joined.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period.</param>
    double? GetAccuracy(ModelKey key, DateTimeOffset since);
}

/// <summary>The worst drift severity of a model version, as the drift monitor computes it over closed windows.</summary>
public interface IVersionDriftProvider
{
    /// <summary>The worst severity among windows of <paramref name="key"/> closed since <paramref name="since"/>, or <see langword="null"/> when none closed.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="since">The start of the period.</param>
    AiOps.Drift.DriftSeverity? GetWorstSeverity(ModelKey key, DateTimeOffset since);

    /// <summary>
    /// The severity of <paramref name="key"/>'s drift against <paramref name="baseline"/>'s over the windows of each
    /// closed since <paramref name="since"/>: the same statistics and thresholds, with the baseline version's counts of
    /// the period as the reference. A canary that sees the same (drifted) traffic as stable is stable here, whatever its
    /// severity against the training profile. <see langword="null"/> when either has no closed window in the period or
    /// they share no feature in the same bins (the default for providers that cannot compare).
    /// </summary>
    /// <param name="key">The version judged (a canary).</param>
    /// <param name="baseline">The version it is compared with (stable).</param>
    /// <param name="since">The start of the period.</param>
    AiOps.Drift.DriftSeverity? GetRelativeSeverity(ModelKey key, ModelKey baseline, DateTimeOffset since) => null;
}
