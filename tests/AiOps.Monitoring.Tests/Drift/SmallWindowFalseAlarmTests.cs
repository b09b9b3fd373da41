using AiOps.Drift;
using AiOps.Monitoring.Drift;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>Issue 16, item 3: at the defaults, 100-row windows without drift are not flagged, and tiny samples are insufficient.</summary>
public sealed class SmallWindowFalseAlarmTests
{
    private const int Runs = 200;

    private static double NextNormal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static readonly double[] s_categoryWeights = [0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.05, 0.03, 0.02, 0.01];

    private static long NextCategory(Random rng)
    {
        var u = rng.NextDouble();
        for (var k = 0; k < s_categoryWeights.Length; k++)
        {
            u -= s_categoryWeights[k];
            if (u < 0)
            {
                return k;
            }
        }

        return s_categoryWeights.Length - 1;
    }

    [Fact]
    public void NumericFeature_NoDrift_100RowWindows_FlaggedAtMost5PercentOf200SeededRuns()
    {
        var rng = new Random(16);
        var profile = ReferenceProfileBuilder.Numeric("x", Enumerable.Range(0, 10_000).Select(_ => NextNormal(rng)).ToArray());
        var calculator = new DriftCalculator();
        var effectSizeOnly = new DriftCalculator(new DriftOptions { SignificanceLevel = 1 }); // the behaviour before issue 16
        var flagged = 0;
        var flaggedBefore = 0;
        for (var run = 0; run < Runs; run++)
        {
            var window = new FeatureHistogram(profile);
            var w = new Random(1000 + run);
            window.Add(Enumerable.Range(0, 100).Select(_ => NextNormal(w)).ToArray());
            flagged += calculator.Evaluate(window).Any(r => r.Severity >= DriftSeverity.Moderate) ? 1 : 0;
            flaggedBefore += effectSizeOnly.Evaluate(window).Any(r => r.Severity >= DriftSeverity.Moderate) ? 1 : 0;
        }

        Assert.InRange(flagged, 0, Runs * 5 / 100);
        Assert.True(flaggedBefore > Runs / 5, $"effect sizes alone flagged {flaggedBefore} of {Runs}");
    }

    [Fact]
    public void CategoricalFeature_NoDrift_100RowWindows_FlaggedAtMost5PercentOf200SeededRuns()
    {
        var rng = new Random(17);
        var reference = Enumerable.Range(0, 10_000).Select(_ => NextCategory(rng).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var profile = ReferenceProfileBuilder.Categorical("c", reference);
        var calculator = new DriftCalculator();
        var effectSizeOnly = new DriftCalculator(new DriftOptions { SignificanceLevel = 1 }); // the behaviour before issue 16
        var flagged = 0;
        var flaggedBefore = 0;
        for (var run = 0; run < Runs; run++)
        {
            var window = new FeatureHistogram(profile);
            var w = new Random(5000 + run);
            window.AddCategories(Enumerable.Range(0, 100).Select(_ => NextCategory(w)).ToArray());
            flagged += calculator.Evaluate(window).Any(r => r.Severity >= DriftSeverity.Moderate) ? 1 : 0;
            flaggedBefore += effectSizeOnly.Evaluate(window).Any(r => r.Severity >= DriftSeverity.Moderate) ? 1 : 0;
        }

        Assert.InRange(flagged, 0, Runs * 5 / 100);
        Assert.True(flaggedBefore > Runs / 5, $"effect sizes alone flagged {flaggedBefore} of {Runs}");
    }

    [Fact]
    public void NumericFeature_RealShift_100RowWindow_IsStillSevere()
    {
        var rng = new Random(18);
        var profile = ReferenceProfileBuilder.Numeric("x", Enumerable.Range(0, 10_000).Select(_ => NextNormal(rng)).ToArray());
        var window = new FeatureHistogram(profile);
        window.Add(Enumerable.Range(0, 100).Select(_ => NextNormal(rng) + 1).ToArray());
        var rows = new DriftCalculator().Evaluate(window);
        Assert.Equal(DriftSeverity.Severe, rows.Single(r => r.Statistic == DriftStatisticNames.Psi).Severity);
    }

    [Fact]
    public void CompareSamples_FiveValues_IsInsufficientDataNotSevere()
    {
        double[] five = [1, 2, 3, 4, 5];
        var rows = new DriftCalculator().CompareSamples("x", five, five);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal(DriftSeverity.InsufficientData, r.Severity));
        var result = new DriftResult(new ModelKey("m", "1"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, rows);
        Assert.Equal(DriftSeverity.InsufficientData, result.Severity);
    }

    [Fact]
    public void DriftOptions_SignificanceLevelOutOfRange_FailsValidation()
    {
        var services = new ServiceCollection();
        services.AddAiOpsDrift(o => o.SignificanceLevel = 0);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DriftOptions>>().Value);
        Assert.Contains("AiOps:Monitoring:Drift:SignificanceLevel is 0", Assert.Single(ex.Failures), StringComparison.Ordinal);
    }
}
