namespace AiOps.Monitoring.Quality;

/// <summary>One prediction joined with its ground-truth label.</summary>
/// <param name="PredictedClass">The class the model predicted.</param>
/// <param name="Label">The true class.</param>
/// <param name="Score">The model's score for the positive class, when it gives scores.</param>
/// <param name="PredictedAt">When the prediction was made.</param>
/// <param name="LabeledAt">When the label arrived.</param>
public readonly record struct LabeledPrediction(int PredictedClass, int Label, double? Score, DateTimeOffset PredictedAt, DateTimeOffset LabeledAt);

/// <summary>Classification quality over a set of labelled predictions.</summary>
/// <param name="Count">The labelled predictions.</param>
/// <param name="Accuracy">Correct / count.</param>
/// <param name="Precision">TP / (TP + FP) for the positive class; <see langword="null"/> without positive predictions.</param>
/// <param name="Recall">TP / (TP + FN) for the positive class; <see langword="null"/> without positive labels.</param>
/// <param name="Auc">Area under the ROC curve of the positive-class score (Mann–Whitney, ties count ½); <see langword="null"/> without scores on every prediction or without both classes.</param>
public sealed record QualityMetrics(long Count, double Accuracy, double? Precision, double? Recall, double? Auc)
{
    /// <summary>Computes the metrics; <see langword="null"/> when <paramref name="outcomes"/> is empty.</summary>
    /// <param name="outcomes">The labelled predictions.</param>
    /// <param name="positiveClass">The class precision, recall and AUC are about.</param>
    public static QualityMetrics? Compute(IReadOnlyCollection<LabeledPrediction> outcomes, int positiveClass = 1)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return null;
        }

        long correct = 0, tp = 0, fp = 0, fn = 0;
        var allScored = true;
        foreach (var o in outcomes)
        {
            if (o.PredictedClass == o.Label)
            {
                correct++;
            }

            var predictedPositive = o.PredictedClass == positiveClass;
            var actualPositive = o.Label == positiveClass;
            if (predictedPositive && actualPositive)
            {
                tp++;
            }
            else if (predictedPositive)
            {
                fp++;
            }
            else if (actualPositive)
            {
                fn++;
            }

            allScored &= o.Score is { } s && !double.IsNaN(s);
        }

        double n = outcomes.Count;
        return new QualityMetrics(
            outcomes.Count,
            correct / n,
            tp + fp == 0 ? null : tp / (double)(tp + fp),
            tp + fn == 0 ? null : tp / (double)(tp + fn),
            allScored ? ComputeAuc(outcomes, positiveClass) : null);
    }

    /// <summary>AUC = (R₊ − n₊(n₊+1)/2) / (n₊·n₋), R₊ the sum of the positives' score ranks (average ranks for ties).</summary>
    private static double? ComputeAuc(IReadOnlyCollection<LabeledPrediction> outcomes, int positiveClass)
    {
        var scored = outcomes.Select(o => (Score: o.Score!.Value, Positive: o.Label == positiveClass)).OrderBy(x => x.Score).ToArray();
        long positives = scored.Count(x => x.Positive);
        long negatives = scored.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }

        var rankSum = 0.0;
        var i = 0;
        while (i < scored.Length)
        {
            var j = i;
            while (j + 1 < scored.Length && scored[j + 1].Score == scored[i].Score)
            {
                j++;
            }

            // Ranks i+1 … j+1 share their average.
            var averageRank = (i + j + 2) / 2.0;
            for (var k = i; k <= j; k++)
            {
                if (scored[k].Positive)
                {
                    rankSum += averageRank;
                }
            }

            i = j + 1;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / (positives * (double)negatives);
    }
}

/// <summary>A closed quality window of one model version.</summary>
/// <param name="Key">The model version.</param>
/// <param name="WindowStart">When it opened.</param>
/// <param name="WindowEnd">When it closed.</param>
/// <param name="Metrics">The metrics of the outcomes labelled in it; <see langword="null"/> when none.</param>
/// <param name="Baseline">The baseline it was compared with; <see langword="null"/> before one exists.</param>
public sealed record QualityWindow(ModelKey Key, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, QualityMetrics? Metrics, QualityMetrics? Baseline)
{
    /// <summary>Baseline accuracy minus window accuracy (positive = worse); <see langword="null"/> without both.</summary>
    public double? AccuracyDrop => Metrics is null || Baseline is null ? null : Baseline.Accuracy - Metrics.Accuracy;
}
