using AiOps.Monitoring.Quality;

namespace AiOps.Monitoring.Tests.Quality;

public sealed class QualityMetricsTests
{
    private static LabeledPrediction P(int predicted, int label, double? score = null) =>
        new(predicted, label, score, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    [Fact]
    public void Compute_WorkedExample_MatchesConfusionMatrix()
    {
        // TP = 2, FP = 1, FN = 1, TN = 1: accuracy 3/5, precision 2/3, recall 2/3.
        // AUC: positives score 0.9, 0.8, 0.4; negatives 0.7, 0.3 -> pairs won: 2 + 2 + 1 = 5 of 6.
        var m = QualityMetrics.Compute(
        [
            P(1, 1, 0.9), P(1, 1, 0.8), P(0, 1, 0.4), P(1, 0, 0.7), P(0, 0, 0.3),
        ])!;
        Assert.Equal(5, m.Count);
        Assert.Equal(0.6, m.Accuracy, 1e-12);
        Assert.Equal(2.0 / 3, m.Precision!.Value, 1e-12);
        Assert.Equal(2.0 / 3, m.Recall!.Value, 1e-12);
        Assert.Equal(5.0 / 6, m.Auc!.Value, 1e-12);
    }

    [Fact]
    public void Compute_TiedScores_CountHalf()
    {
        var m = QualityMetrics.Compute([P(1, 1, 0.5), P(1, 0, 0.5)])!;
        Assert.Equal(0.5, m.Auc!.Value, 1e-12);
    }

    [Fact]
    public void Compute_NoScoresOrOneClass_HasNoAuc()
    {
        Assert.Null(QualityMetrics.Compute([P(1, 1), P(0, 0)])!.Auc);
        Assert.Null(QualityMetrics.Compute([P(1, 1, 0.3), P(0, 1, 0.2)])!.Auc);
    }

    [Fact]
    public void Compute_NoPositivePredictions_HasNoPrecision()
    {
        var m = QualityMetrics.Compute([P(0, 1), P(0, 0)])!;
        Assert.Null(m.Precision);
        Assert.Equal(0, m.Recall);
    }

    [Fact]
    public void Compute_Empty_IsNull()
    {
        Assert.Null(QualityMetrics.Compute([]));
    }
}
