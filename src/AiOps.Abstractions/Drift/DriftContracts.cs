namespace AiOps.Drift;

/// <summary>How far production data has moved from the reference. PSI defaults: &lt; 0.1 stable, 0.1–0.2 moderate, &gt; 0.2 severe.</summary>
/// <remarks>
/// <see cref="InsufficientData"/> sorts below <see cref="Stable"/> so that "the worst severity" of a set of results is
/// a real verdict whenever one exists; code that treats a severity as "no drift" must test for it explicitly (unknown is
/// never good: it is neither stable nor a reason to resolve an alert).
/// </remarks>
public enum DriftSeverity
{
    /// <summary>Not enough data to judge: a window with no evaluable feature (all values missing, or fewer than the minimum sample count).</summary>
    InsufficientData = -1,

    /// <summary>No meaningful shift.</summary>
    Stable = 0,

    /// <summary>A shift worth watching (PSI 0.1–0.2).</summary>
    Moderate,

    /// <summary>A shift that needs action (PSI &gt; 0.2).</summary>
    Severe,
}

/// <summary>One drift statistic for one feature over one window.</summary>
/// <param name="Feature">The feature name.</param>
/// <param name="Statistic">The statistic's name (<c>psi</c>, <c>ks</c>, <c>jensen_shannon</c>, …).</param>
/// <param name="Value">The statistic's value.</param>
/// <param name="Severity">The severity its thresholds give.</param>
public sealed record FeatureDrift(string Feature, string Statistic, double Value, DriftSeverity Severity)
{
    /// <summary>The p-value, for tests that have one (KS, chi-square); otherwise <see langword="null"/>.</summary>
    public double? PValue { get; init; }

    /// <summary>How many current values the window held.</summary>
    public long SampleCount { get; init; }
}

/// <summary>The drift of one model version's inputs (and outputs) over one closed window.</summary>
/// <param name="Key">The model version.</param>
/// <param name="WindowStart">When the window opened.</param>
/// <param name="WindowEnd">When it closed.</param>
/// <param name="Features">Per-feature results.</param>
public sealed record DriftResult(ModelKey Key, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, IReadOnlyList<FeatureDrift> Features)
{
    /// <summary>
    /// The dataset-level drift share: of the features that could be judged, the fraction whose worst statistic is
    /// <see cref="DriftSeverity.Severe"/> (0 when none could be judged). <see cref="Features"/> holds one row per feature
    /// and statistic; this counts features, not rows, and leaves out rows graded
    /// <see cref="DriftSeverity.InsufficientData"/>.
    /// </summary>
    public double DriftShare
    {
        get
        {
            var judged = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var f in Features)
            {
                if (f.Severity != DriftSeverity.InsufficientData)
                {
                    judged[f.Feature] = (judged.TryGetValue(f.Feature, out var severe) && severe) || f.Severity == DriftSeverity.Severe;
                }
            }

            return judged.Count == 0 ? 0 : judged.Count(p => p.Value) / (double)judged.Count;
        }
    }

    /// <summary>The worst severity over all features; <see cref="DriftSeverity.InsufficientData"/> when there are none (nothing could be judged).</summary>
    public DriftSeverity Severity => Features.Count == 0 ? DriftSeverity.InsufficientData : Features.Max(f => f.Severity);
}

/// <summary>Receives drift results as windows close (the health check, the rollout gates, the report writer).</summary>
public interface IDriftResultSink
{
    /// <summary>Called once per closed window.</summary>
    /// <param name="result">The window's result.</param>
    /// <param name="cancellationToken">Cancels the hand-off.</param>
    ValueTask OnDriftResultAsync(DriftResult result, CancellationToken cancellationToken = default);
}
