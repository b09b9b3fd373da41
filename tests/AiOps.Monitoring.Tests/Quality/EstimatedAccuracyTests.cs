using System.Globalization;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Quality;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Quality;

/// <summary>
/// Issue 16: CBPE-style estimated accuracy without labels, checked against the labels when they come. The bound: when
/// the calibration is right, the realised accuracy of n predictions is a sum of Bernoulli(cᵢ) over n, with standard
/// deviation √(Σ cᵢ(1 − cᵢ)) / n (<see cref="AccuracyEstimate.StandardError"/>); the tests accept 3 of them.
/// </summary>
public sealed class EstimatedAccuracyTests
{
    private const int N = 5_000;
    private static readonly ModelKey s_key = new("fraud", "1");

    private static (ServiceProvider Provider, FakeTimeProvider Time, IModelQualityTracker Tracker, IInferenceObserver Observer) Build()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddAiOpsModelQuality();
        var provider = services.BuildServiceProvider();
        return (provider, time, provider.GetRequiredService<IModelQualityTracker>(), provider.GetServices<IInferenceObserver>().Single());
    }

    private static double Logistic(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>
    /// n cases: the true probability of class 1 is q ~ U(0.02, 0.98); the model reports p = q (calibrated) or
    /// σ(3·logit q) (over-confident); the label is drawn from q.
    /// </summary>
    private static (float[] Reported, int[] Labels) Cases(int n, bool overConfident, int seed)
    {
        var rng = new Random(seed);
        var reported = new float[n];
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            var q = 0.02 + (0.96 * rng.NextDouble());
            reported[i] = (float)(overConfident ? Logistic(3 * Math.Log(q / (1 - q))) : q);
            labels[i] = rng.NextDouble() < q ? 1 : 0;
        }

        return (reported, labels);
    }

    private static void Serve(IInferenceObserver observer, float[] reported)
    {
        for (var i = 0; i < reported.Length; i++)
        {
            var request = new ModelRequest(ModelTensor.Create("features", new float[4].AsMemory(), 1, 4)) { RequestId = $"r{i}" };
            observer.OnInference(s_key, request, new ModelResponse(s_key, [ModelTensor.Create("probability", new[] { reported[i] }.AsMemory(), 1, 1)]));
        }
    }

    [Fact]
    public async Task CalibratedModel_EstimateBeforeLabels_IsMeanMaxP_AndWithin3StandardErrorsOfTheRealisedAccuracy()
    {
        var (provider, time, tracker, observer) = Build();
        await using var _ = provider;
        using var gauge = new MetricCollector<double>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Monitoring", "aiops.quality.accuracy.estimated");
        var since = time.GetUtcNow();
        var (reported, labels) = Cases(N, overConfident: false, seed: 1);
        Serve(observer, reported);

        // No label yet: the estimate is there, E[acc] = mean(max(p, 1 - p)).
        var before = tracker.GetEstimatedAccuracy(s_key, since)!;
        Assert.Equal(N, before.Predictions);
        Assert.Equal(0, before.Labelled);
        Assert.Null(before.RealisedAccuracy);
        Assert.False(before.Calibrated);
        Assert.Equal(reported.Average(p => Math.Max(p, 1 - (double)p)), before.EstimatedAccuracy, 12);
        var se = Math.Sqrt(reported.Sum(p => Math.Max(p, 1 - (double)p) * (1 - Math.Max(p, 1 - (double)p)))) / N;
        Assert.Equal(se, before.StandardError, 12);

        time.Advance(TimeSpan.FromMinutes(30));
        var window = Assert.Single(await tracker.CloseWindowsAsync());
        Assert.Equal(before.EstimatedAccuracy, window.EstimatedAccuracy!.Value, 12);
        Assert.Equal(before.EstimatedAccuracy, gauge.LastMeasurement!.Value, 12);

        // The labels come: the realised accuracy is within 3 standard errors of the estimate.
        time.Advance(TimeSpan.FromHours(5));
        for (var i = 0; i < N; i++)
        {
            tracker.RecordLabel($"r{i}", labels[i]);
        }

        var after = tracker.GetEstimatedAccuracy(s_key, since)!;
        Assert.Equal(N, after.Labelled);
        Assert.InRange(after.RealisedAccuracy!.Value - after.EstimatedAccuracy, -3 * after.StandardError, 3 * after.StandardError);
    }

    [Theory]
    [InlineData(CalibrationMethod.Isotonic)]
    [InlineData(CalibrationMethod.HistogramBinning)]
    public async Task OverConfidentModel_RawEstimateIsOff_CalibrationOnTheReferenceFixesIt(CalibrationMethod method)
    {
        var (provider, time, tracker, observer) = Build();
        await using var _ = provider;
        var since = time.GetUtcNow();
        var (reported, labels) = Cases(N, overConfident: true, seed: 2);
        Serve(observer, reported);
        time.Advance(TimeSpan.FromHours(2));
        for (var i = 0; i < N; i++)
        {
            tracker.RecordLabel($"r{i}", labels[i]);
        }

        var raw = tracker.GetEstimatedAccuracy(s_key, since)!;
        Assert.True(raw.EstimatedAccuracy - raw.RealisedAccuracy!.Value > 6 * raw.StandardError, $"raw estimate {raw.EstimatedAccuracy:F3}, realised {raw.RealisedAccuracy:F3}");

        // A labelled reference set of the same model (another seed): confidence of the predicted class vs being right.
        var (refReported, refLabels) = Cases(N, overConfident: true, seed: 3);
        var confidences = refReported.Select(p => Math.Max(p, 1 - (double)p)).ToArray();
        var correct = refReported.Select((p, i) => (p >= 0.5f ? 1 : 0) == refLabels[i]).ToArray();
        tracker.SetCalibration(s_key, ConfidenceCalibrator.Fit(confidences, correct, method));

        var calibrated = tracker.GetEstimatedAccuracy(s_key, since)!;
        Assert.True(calibrated.Calibrated);
        Assert.Equal(raw.RealisedAccuracy, calibrated.RealisedAccuracy);
        Assert.InRange(calibrated.RealisedAccuracy!.Value - calibrated.EstimatedAccuracy, -3 * calibrated.StandardError, 3 * calibrated.StandardError);
    }

    [Fact]
    public void Isotonic_PoolsViolators_AndInterpolatesBetweenSteps_AsScikitLearn()
    {
        // sklearn IsotonicRegression().fit([.1,.2,.3,.4], [1,0,1,1]): fitted [.5,.5,1,1]; predict(.25) = .75, clipped outside.
        var c = ConfidenceCalibrator.Fit([0.1, 0.2, 0.3, 0.4], [true, false, true, true]);
        Assert.Equal(0.5, c.Calibrate(0.1), 12);
        Assert.Equal(0.5, c.Calibrate(0.2), 12);
        Assert.Equal(0.75, c.Calibrate(0.25), 12);
        Assert.Equal(1, c.Calibrate(0.35), 12);
        Assert.Equal(0.5, c.Calibrate(0.0), 12);
        Assert.Equal(1, c.Calibrate(0.9), 12);
    }

    [Fact]
    public void HistogramBinning_MapsEachEqualCountBinToItsShareCorrect()
    {
        double[] x = [0.55, 0.6, 0.65, 0.7, 0.8, 0.85, 0.9, 0.95];
        bool[] y = [false, true, false, true, true, true, true, false];
        var c = ConfidenceCalibrator.Fit(x, y, CalibrationMethod.HistogramBinning, bins: 2);
        Assert.Equal(0.5, c.Calibrate(0.6), 12);  // first four: 2 of 4
        Assert.Equal(0.75, c.Calibrate(0.85), 12); // last four: 3 of 4
        Assert.Equal(0.75, c.Calibrate(1.0), 12);
    }

    [Fact]
    public void Fit_BadInput_NamesWhatWasExpected()
    {
        Assert.Contains("one outcome per confidence", Assert.Throws<ArgumentException>(() => ConfidenceCalibrator.Fit([0.5, 0.6], [true])).Message, StringComparison.Ordinal);
        Assert.Contains("probability in [0, 1]", Assert.Throws<ArgumentException>(() => ConfidenceCalibrator.Fit([0.5, 1.5], [true, false])).Message, StringComparison.Ordinal);
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => ConfidenceCalibrator.Fit([0.5], [true])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ConfidenceCalibrator.Fit([0.5, 0.6], [true, false], CalibrationMethod.HistogramBinning, bins: 0));
    }
}
