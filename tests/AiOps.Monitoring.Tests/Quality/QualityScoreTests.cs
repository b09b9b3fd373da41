using System.Globalization;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Quality;
using AiOps.Monitoring.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Quality;

/// <summary>Issue 16: precision / recall / F1 and MAE / RMSE by label arrival and by prediction time, exported as gauges.</summary>
public sealed class QualityScoreTests
{
    private static readonly ModelKey s_key = new("churn", "1");
    private static readonly DateTimeOffset s_start = DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture);

    private static (ServiceProvider Provider, FakeTimeProvider Time, IModelQualityTracker Tracker) Build(Action<ModelQualityOptions>? configure = null)
    {
        var time = new FakeTimeProvider(s_start);
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddAiOpsModelQuality(configure);
        var provider = services.BuildServiceProvider();
        return (provider, time, provider.GetRequiredService<IModelQualityTracker>());
    }

    private static LabeledPrediction P(int predicted, int label) => new(predicted, label, null, s_start, s_start);

    /// <summary>A binary fixture with TP = 40, FP = 10, FN = 20, TN = 30, as (predicted, label) pairs in a shuffled order.</summary>
    private static List<(int Predicted, int Label)> Confusion()
    {
        var pairs = new List<(int, int)>();
        pairs.AddRange(Enumerable.Repeat((1, 1), 40));
        pairs.AddRange(Enumerable.Repeat((1, 0), 10));
        pairs.AddRange(Enumerable.Repeat((0, 1), 20));
        pairs.AddRange(Enumerable.Repeat((0, 0), 30));
        var rng = new Random(7);
        return [.. pairs.OrderBy(_ => rng.Next())];
    }

    [Fact]
    public void Binary_KnownConfusionMatrix_GivesSklearnPrecisionRecallF1AndMacroAverages()
    {
        var m = QualityMetrics.Compute(Confusion().Select(p => P(p.Predicted, p.Label)).ToList())!;

        // sklearn: precision_score = TP/(TP+FP), recall_score = TP/(TP+FN), f1_score = 2TP/(2TP+FP+FN).
        Assert.Equal(0.7, m.Accuracy, 12);
        Assert.Equal(40.0 / 50, m.Precision!.Value, 12);
        Assert.Equal(40.0 / 60, m.Recall!.Value, 12);
        Assert.Equal(80.0 / 110, m.F1!.Value, 12);

        // average='macro': class 0 has TP 30, FP 20, FN 10.
        Assert.Equal(((40.0 / 50) + (30.0 / 50)) / 2, m.MacroPrecision!.Value, 12);
        Assert.Equal(((40.0 / 60) + (30.0 / 40)) / 2, m.MacroRecall!.Value, 12);
        Assert.Equal(((80.0 / 110) + (60.0 / 90)) / 2, m.MacroF1!.Value, 12);
    }

    [Fact]
    public void Multiclass_KnownConfusionMatrix_GivesSklearnMacroAverages()
    {
        // Rows: true class, columns: predicted class.
        int[,] confusion = { { 5, 1, 0 }, { 2, 3, 1 }, { 0, 0, 4 } };
        var outcomes = new List<LabeledPrediction>();
        for (var t = 0; t < 3; t++)
        {
            for (var p = 0; p < 3; p++)
            {
                outcomes.AddRange(Enumerable.Repeat(P(p, t), confusion[t, p]));
            }
        }

        var m = QualityMetrics.Compute(outcomes, positiveClass: 2)!;
        Assert.Equal(12.0 / 16, m.Accuracy, 12);
        Assert.Equal(((5.0 / 7) + (3.0 / 4) + (4.0 / 5)) / 3, m.MacroPrecision!.Value, 12);
        Assert.Equal(((5.0 / 6) + (3.0 / 6) + (4.0 / 4)) / 3, m.MacroRecall!.Value, 12);
        Assert.Equal(((10.0 / 13) + (6.0 / 10) + (8.0 / 9)) / 3, m.MacroF1!.Value, 12);
        Assert.Equal(8.0 / 9, m.F1!.Value, 12); // class 2: TP 4, FP 1, FN 0
    }

    [Fact]
    public void NoPositiveAnywhere_F1IsUndefined_NoTruePositive_F1IsZero()
    {
        Assert.Null(QualityMetrics.Compute([P(0, 0), P(0, 0)])!.F1);
        Assert.Equal(0, QualityMetrics.Compute([P(1, 0), P(0, 1)])!.F1);
    }

    [Fact]
    public async Task Tracker_DelayedLabels_ScoresByLabelArrivalAndByPredictionTime_AndExportsGauges()
    {
        var (provider, time, tracker) = Build();
        await using var _ = provider;
        var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var precision = new MetricCollector<double>(factory, "AiOps.Monitoring", "aiops.quality.precision");
        using var recall = new MetricCollector<double>(factory, "AiOps.Monitoring", "aiops.quality.recall");
        using var f1 = new MetricCollector<double>(factory, "AiOps.Monitoring", "aiops.quality.f1");

        var fixture = Confusion();
        for (var i = 0; i < fixture.Count; i++)
        {
            tracker.RecordPrediction(s_key, $"r{i}", fixture[i].Predicted, score: null);
        }

        // The labels come 90 minutes later.
        time.Advance(TimeSpan.FromMinutes(90));
        for (var i = 0; i < fixture.Count; i++)
        {
            Assert.True(tracker.RecordLabel($"r{i}", fixture[i].Label));
        }

        var lastHour = time.GetUtcNow() - TimeSpan.FromHours(1);
        var byArrival = tracker.GetMetrics(s_key, lastHour, QualityTimeBasis.LabelArrival)!;
        Assert.Equal(80.0 / 110, byArrival.F1!.Value, 12);
        Assert.Null(tracker.GetMetrics(s_key, lastHour, QualityTimeBasis.PredictionTime)); // predicted before the last hour
        var byPrediction = tracker.GetMetrics(s_key, s_start, QualityTimeBasis.PredictionTime)!;
        Assert.Equal(40.0 / 60, byPrediction.Recall!.Value, 12);

        time.Advance(TimeSpan.FromMinutes(1)); // a window holds the labels that arrived before it closed
        var window = Assert.Single(await tracker.CloseWindowsAsync());
        Assert.Equal(80.0 / 110, window.Metrics!.F1!.Value, 12);
        Assert.Equal(0.8, precision.LastMeasurement!.Value, 12);
        Assert.Equal(40.0 / 60, recall.LastMeasurement!.Value, 12);
        Assert.Equal(80.0 / 110, f1.LastMeasurement!.Value, 12);
        Assert.Equal("churn", f1.LastMeasurement.Tags["model"]);
    }

    private static (double[] Predicted, double[] Actual) RegressionFixture()
    {
        var rng = new Random(11);
        var actual = Enumerable.Range(0, 200).Select(_ => 50 + (20 * rng.NextDouble())).ToArray();
        var predicted = actual.Select(a => a + (3 * (rng.NextDouble() - 0.4))).ToArray(); // biased up by 0.3 on average
        return (predicted, actual);
    }

    [Fact]
    public void Regression_MaeRmseBias_MatchTheirDefinitions()
    {
        var (predicted, actual) = RegressionFixture();
        var m = RegressionMetrics.Compute(predicted.Zip(actual, (p, a) => new LabeledValue(p, a, s_start, s_start)).ToList())!;
        var errors = predicted.Zip(actual, (p, a) => p - a).ToArray();
        Assert.Equal(200, m.Count);
        Assert.Equal(errors.Average(Math.Abs), m.MeanAbsoluteError, 12);
        Assert.Equal(Math.Sqrt(errors.Average(e => e * e)), m.RootMeanSquaredError, 12);
        Assert.Equal(errors.Average(), m.MeanError, 12);
        Assert.InRange(m.MeanError, 0.1, 0.5);
        Assert.Null(RegressionMetrics.Compute([]));

        // A worked example: errors 1, -2, 3 -> MAE 2, RMSE sqrt(14/3), bias 2/3.
        var small = RegressionMetrics.Compute([new(1, 0, s_start, s_start), new(0, 2, s_start, s_start), new(3, 0, s_start, s_start)])!;
        Assert.Equal(2, small.MeanAbsoluteError, 12);
        Assert.Equal(Math.Sqrt(14.0 / 3), small.RootMeanSquaredError, 12);
        Assert.Equal(2.0 / 3, small.MeanError, 12);
    }

    [ScipyFact]
    public void Regression_MatchesNumpy()
    {
        var (predicted, actual) = RegressionFixture();
        var m = RegressionMetrics.Compute(predicted.Zip(actual, (p, a) => new LabeledValue(p, a, s_start, s_start)).ToList())!;
        var input = string.Join('\n', predicted.Zip(actual, (p, a) => p.ToString("R", CultureInfo.InvariantCulture) + " " + a.ToString("R", CultureInfo.InvariantCulture)));
        const string Script = "import sys, numpy as np\nd = np.loadtxt(sys.stdin)\ne = d[:, 0] - d[:, 1]\nprint(repr(np.mean(np.abs(e))), repr(np.sqrt(np.mean(e * e))))";
        var parts = Scipy.Run(Script, input).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(double.Parse(parts[0], CultureInfo.InvariantCulture), m.MeanAbsoluteError, 12);
        Assert.Equal(double.Parse(parts[1], CultureInfo.InvariantCulture), m.RootMeanSquaredError, 12);
    }

    [Fact]
    public async Task Tracker_RegressionModel_JoinsObservedValuesFromResponses_AndExportsMaeRmse()
    {
        var (provider, time, tracker) = Build(o => o.Task = QualityTask.Regression);
        await using var _ = provider;
        var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var mae = new MetricCollector<double>(factory, "AiOps.Monitoring", "aiops.quality.mae");
        using var rmse = new MetricCollector<double>(factory, "AiOps.Monitoring", "aiops.quality.rmse");
        var observer = provider.GetServices<IInferenceObserver>().Single();

        var (predicted, actual) = RegressionFixture();
        for (var i = 0; i < predicted.Length; i += 2)
        {
            // Batches of two rows, one float output column: the predicted value.
            var request = new ModelRequest(ModelTensor.Create("features", new float[8].AsMemory(), 2, 4)) { RequestId = $"q{i}" };
            var response = new ModelResponse(s_key, [ModelTensor.Create("value", new[] { (float)predicted[i], (float)predicted[i + 1] }.AsMemory(), 2, 1)]);
            observer.OnInference(s_key, request, response);
        }

        Assert.Equal(200, tracker.PendingCount);
        time.Advance(TimeSpan.FromHours(2));
        Assert.False(tracker.RecordValueLabel("never-predicted", 1.5)); // waits for its prediction
        for (var i = 0; i < predicted.Length; i++)
        {
            Assert.True(tracker.RecordValueLabel($"q{i - (i % 2)}", actual[i], row: i % 2));
        }

        var errors = predicted.Select((p, i) => (double)(float)p - actual[i]).ToArray();
        var byArrival = tracker.GetRegressionMetrics(s_key, time.GetUtcNow() - TimeSpan.FromHours(1), QualityTimeBasis.LabelArrival)!;
        Assert.Equal(errors.Average(Math.Abs), byArrival.MeanAbsoluteError, 9);
        Assert.Null(tracker.GetRegressionMetrics(s_key, time.GetUtcNow() - TimeSpan.FromHours(1), QualityTimeBasis.PredictionTime));
        Assert.Equal(200, tracker.GetRegressionMetrics(s_key, s_start, QualityTimeBasis.PredictionTime)!.Count);

        time.Advance(TimeSpan.FromMinutes(1)); // a window holds the labels that arrived before it closed
        var window = Assert.Single(await tracker.CloseWindowsAsync());
        Assert.Null(window.Metrics);
        Assert.Equal(Math.Sqrt(errors.Average(e => e * e)), window.Regression!.RootMeanSquaredError, 9);
        Assert.Equal(errors.Average(Math.Abs), mae.LastMeasurement!.Value, 9);
        Assert.Equal(Math.Sqrt(errors.Average(e => e * e)), rmse.LastMeasurement!.Value, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => tracker.RecordValueLabel("x", double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => tracker.RecordValuePrediction(s_key, "x", double.PositiveInfinity));
    }
}
