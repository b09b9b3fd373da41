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

    /// <summary>Closes every open window now (as the timer does) and returns the results of windows that held rows.</summary>
    /// <param name="cancellationToken">Cancels publishing to sinks and alert publishers.</param>
    ValueTask<IReadOnlyList<DriftResult>> CloseWindowsAsync(CancellationToken cancellationToken = default);

    /// <summary>The closed windows kept for <paramref name="key"/>, oldest first (at most <see cref="DriftOptions.RetainedWindows"/>).</summary>
    /// <param name="key">The model version.</param>
    IReadOnlyList<DriftWindow> GetWindows(ModelKey key);

    /// <summary>The versions drift is tracked for.</summary>
    IReadOnlyList<ModelKey> TrackedVersions { get; }
}
