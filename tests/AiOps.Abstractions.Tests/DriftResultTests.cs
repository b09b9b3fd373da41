using AiOps.Drift;

namespace AiOps.Abstractions.Tests;

/// <summary>The dataset drift share counts features (Evidently's share of drifted columns), not statistic rows.</summary>
public sealed class DriftResultTests
{
    private static readonly ModelKey s_key = new("churn", "1");

    private static DriftResult Result(params (string Feature, string Statistic, DriftSeverity Severity)[] rows) =>
        new(s_key, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), [.. rows.Select(r => new FeatureDrift(r.Feature, r.Statistic, 0.5, r.Severity))]);

    [Fact]
    public void DriftShare_OneOfTwoFeaturesSevereOnOneOfItsStatistics_IsOneHalf()
    {
        var result = Result(
            ("age", "psi", DriftSeverity.Severe),
            ("age", "ks", DriftSeverity.Stable),
            ("age", "missing_share", DriftSeverity.Stable),
            ("income", "psi", DriftSeverity.Moderate),
            ("income", "ks", DriftSeverity.Stable),
            ("income", "missing_share", DriftSeverity.Stable));

        Assert.Equal(0.5, result.DriftShare); // rows would say 1 of 6
    }

    [Fact]
    public void DriftShare_FeaturesWithoutEnoughData_AreLeftOutOfBothCounts()
    {
        var result = Result(
            ("age", "psi", DriftSeverity.Severe),
            ("flag", "psi", DriftSeverity.InsufficientData),
            ("flag", "chi_square", DriftSeverity.InsufficientData),
            ("plan", "chi_square", DriftSeverity.Stable));

        Assert.Equal(0.5, result.DriftShare);
        Assert.Equal(0, Result(("flag", "psi", DriftSeverity.InsufficientData)).DriftShare);
        Assert.Equal(0, Result().DriftShare);
    }
}
