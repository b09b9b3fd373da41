using AiOps.Drift;

namespace AiOps.Monitoring.Drift;

/// <summary>A closed window: its result and the counts it was computed from (what the HTML report draws).</summary>
/// <param name="Result">The statistics.</param>
/// <param name="Histogram">The window's counts, in the bins of its profile.</param>
public sealed record DriftWindow(DriftResult Result, ProfileHistogram Histogram);

/// <summary>
/// The streaming drift monitor: counts each monitored request's inputs into the reference profile's bins, closes
/// windows (every <see cref="DriftOptions.WindowDuration"/> on the <see cref="TimeProvider"/>, or after
/// <see cref="DriftOptions.WindowSize"/> rows), computes the statistics, publishes the <c>aiops.drift.psi</c> gauge and
/// per-bin counters, feeds every <see cref="IDriftResultSink"/> and raises <c>drift_psi_moderate</c> /
/// <c>drift_psi_severe</c> alerts. Registered by <c>AddAiOpsDrift</c>; also an <see cref="Observation.IInferenceObserver"/>.
/// </summary>
public interface IDriftMonitor
{
    /// <summary>Sets (or replaces) the reference profile of one model version; its open window restarts.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="profile">The profile.</param>
    void SetProfile(ModelKey key, ReferenceProfile profile);

    /// <summary>Sets the reference profile used by every version of <paramref name="model"/> without its own profile.</summary>
    /// <param name="model">The model.</param>
    /// <param name="profile">The profile.</param>
    void SetProfile(ModelId model, ReferenceProfile profile);

    /// <summary>The profile that applies to <paramref name="key"/>, or <see langword="null"/> when drift is not tracked for it.</summary>
    /// <param name="key">The model version.</param>
    ReferenceProfile? GetProfile(ModelKey key);

    /// <summary>
    /// Counts the features of one request into the open window of <paramref name="key"/> (a no-op without a profile).
    /// A feature reads column <see cref="FeatureProfile.Column"/> of every row of its input (the last dimension is the
    /// row width; a rank-1 input is one row). NaN values are counted as missing.
    /// </summary>
    /// <param name="key">The model version that answered.</param>
    /// <param name="request">The request.</param>
    void Observe(ModelKey key, ModelRequest request);

    /// <summary>
    /// As <see cref="Observe(ModelKey, ModelRequest)"/>, and counts the features read from outputs
    /// (<see cref="FeatureProfile.Output"/>: scores, classes) from <paramref name="response"/>. The monitoring decorator
    /// calls this for every answered request (through <see cref="Observation.IInferenceObserver"/>).
    /// </summary>
    /// <param name="key">The model version that answered.</param>
    /// <param name="request">The request.</param>
    /// <param name="response">The response; <see langword="null"/> counts the input features only.</param>
    void Observe(ModelKey key, ModelRequest request, ModelResponse? response);

    /// <summary>Closes every open window now (as the timer does) and returns the results of windows that held rows.</summary>
    /// <param name="cancellationToken">Cancels publishing to sinks and alert publishers.</param>
    ValueTask<IReadOnlyList<DriftResult>> CloseWindowsAsync(CancellationToken cancellationToken = default);

    /// <summary>The closed windows kept for <paramref name="key"/>, oldest first (at most <see cref="DriftOptions.RetainedWindows"/>).</summary>
    /// <param name="key">The model version.</param>
    IReadOnlyList<DriftWindow> GetWindows(ModelKey key);

    /// <summary>
    /// Compares <paramref name="key"/>'s inputs with <paramref name="baseline"/>'s over the windows of each closed since
    /// <paramref name="since"/> (merged per version): every feature that both have in the same bins, evaluated with the
    /// baseline's counts as the reference (rows below <see cref="DriftOptions.MinimumSampleCount"/> on either side are
    /// <see cref="AiOps.Drift.DriftSeverity.InsufficientData"/>). Relative drift for a rollout gate: a canary with the drift
    /// stable sees equally is stable. <see langword="null"/> when either version has no closed window in the period.
    /// </summary>
    /// <param name="key">The version judged (a canary).</param>
    /// <param name="baseline">The version it is compared with (stable).</param>
    /// <param name="since">The start of the period.</param>
    AiOps.Drift.DriftResult? CompareVersions(ModelKey key, ModelKey baseline, DateTimeOffset since);

    /// <summary>The versions drift is tracked for.</summary>
    IReadOnlyList<ModelKey> TrackedVersions { get; }
}
