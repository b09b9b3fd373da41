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
}
