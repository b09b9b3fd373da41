using AiOps.Drift;

namespace AiOps.Monitoring.Drift;

/// <summary>Feature-level views of a <see cref="DriftResult"/>.</summary>
public static class DriftResultExtensions
{
    /// <summary>
    /// The dataset-level drift share: the fraction of the features that could be judged whose worst statistic is severe
    /// (features graded <see cref="DriftSeverity.InsufficientData"/> are left out of both counts). The same as
    /// <see cref="DriftResult.DriftShare"/>, which now counts features too.
    /// </summary>
    /// <param name="result">The result.</param>
    public static double FeatureDriftShare(this DriftResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.DriftShare;
    }

    /// <summary>The worst severity per feature, in first-seen order.</summary>
    /// <param name="result">The result.</param>
    public static IReadOnlyList<KeyValuePair<string, DriftSeverity>> FeatureSeverities(this DriftResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Features
            .GroupBy(f => f.Feature, StringComparer.Ordinal)
            .Select(g => new KeyValuePair<string, DriftSeverity>(g.Key, g.Max(f => f.Severity)))
            .ToList();
    }

    /// <summary>The value of one statistic for one feature, or <see langword="null"/>.</summary>
    /// <param name="result">The result.</param>
    /// <param name="feature">The feature name.</param>
    /// <param name="statistic">The statistic name (<see cref="DriftStatisticNames"/>).</param>
    public static FeatureDrift? Find(this DriftResult result, string feature, string statistic)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Features.FirstOrDefault(f =>
            string.Equals(f.Feature, feature, StringComparison.Ordinal) && string.Equals(f.Statistic, statistic, StringComparison.Ordinal));
    }
}
