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
        var (macroPrecision, macroRecall, macroF1) = Macro(outcomes);
        return new QualityMetrics(
            outcomes.Count,
            correct / n,
            tp + fp == 0 ? null : tp / (double)(tp + fp),
            tp + fn == 0 ? null : tp / (double)(tp + fn),
            allScored ? ComputeAuc(outcomes, positiveClass) : null)
        {
            F1 = (2 * tp) + fp + fn == 0 ? null : 2.0 * tp / ((2 * tp) + fp + fn),
            MacroPrecision = macroPrecision,
            MacroRecall = macroRecall,
            MacroF1 = macroF1,
        };
    }

    /// <summary>
    /// F1 = 2·TP / (2·TP + FP + FN) for the positive class, the harmonic mean of <see cref="Precision"/> and
    /// <see cref="Recall"/> (scikit-learn's <c>f1_score</c>, binary); 0 when there is no true positive but either side has
    /// the class, <see langword="null"/> when neither labels nor predictions have it.
    /// </summary>
    public double? F1 { get; init; }

    /// <summary>The unweighted mean over classes of one-vs-rest precision (scikit-learn's <c>precision_score(average='macro')</c>:
    /// the classes are those of the labels and the predictions, a class never predicted counts 0).</summary>
    public double? MacroPrecision { get; init; }

    /// <summary>The unweighted mean over classes of one-vs-rest recall (<c>recall_score(average='macro')</c>; a class never labelled counts 0).</summary>
    public double? MacroRecall { get; init; }

    /// <summary>The unweighted mean over classes of one-vs-rest F1 (<c>f1_score(average='macro')</c>; an undefined F1 counts 0).</summary>
    public double? MacroF1 { get; init; }

    private static (double? Precision, double? Recall, double? F1) Macro(IReadOnlyCollection<LabeledPrediction> outcomes)
    {
        var perClass = new Dictionary<int, (long Tp, long Fp, long Fn)>();
        foreach (var o in outcomes)
        {
            if (o.PredictedClass == o.Label)
            {
                var c = perClass.GetValueOrDefault(o.Label);
                perClass[o.Label] = (c.Tp + 1, c.Fp, c.Fn);
            }
            else
            {
                var p = perClass.GetValueOrDefault(o.PredictedClass);
                perClass[o.PredictedClass] = (p.Tp, p.Fp + 1, p.Fn);
                var l = perClass.GetValueOrDefault(o.Label);
                perClass[o.Label] = (l.Tp, l.Fp, l.Fn + 1);
            }
        }

        if (perClass.Count == 0)
        {
            return (null, null, null);
        }

        double precision = 0, recall = 0, f1 = 0;
        foreach (var (tp, fp, fn) in perClass.Values)
        {
            precision += tp + fp == 0 ? 0 : tp / (double)(tp + fp);
            recall += tp + fn == 0 ? 0 : tp / (double)(tp + fn);
            f1 += (2 * tp) + fp + fn == 0 ? 0 : 2.0 * tp / ((2 * tp) + fp + fn);
        }

        return (precision / perClass.Count, recall / perClass.Count, f1 / perClass.Count);
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

/// <summary>One regression prediction joined with its observed value.</summary>
/// <param name="Predicted">The value the model predicted.</param>
/// <param name="Actual">The observed value.</param>
/// <param name="PredictedAt">When the prediction was made.</param>
/// <param name="LabeledAt">When the observed value arrived.</param>
public readonly record struct LabeledValue(double Predicted, double Actual, DateTimeOffset PredictedAt, DateTimeOffset LabeledAt);

/// <summary>Regression quality over a set of predictions joined with their observed values.</summary>
/// <param name="Count">The joined predictions.</param>
/// <param name="MeanAbsoluteError">MAE = Σ |ŷ − y| / n (scikit-learn's <c>mean_absolute_error</c>).</param>
/// <param name="RootMeanSquaredError">RMSE = √(Σ (ŷ − y)² / n) (<c>root_mean_squared_error</c>).</param>
/// <param name="MeanError">The bias Σ (ŷ − y) / n: positive when the model predicts too high.</param>
public sealed record RegressionMetrics(long Count, double MeanAbsoluteError, double RootMeanSquaredError, double MeanError)
{
    /// <summary>Computes the metrics; <see langword="null"/> when <paramref name="outcomes"/> is empty.</summary>
    /// <param name="outcomes">The joined predictions.</param>
    public static RegressionMetrics? Compute(IReadOnlyCollection<LabeledValue> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return null;
        }

        double abs = 0, squared = 0, signed = 0;
        foreach (var o in outcomes)
        {
            var e = o.Predicted - o.Actual;
            abs += Math.Abs(e);
            squared += e * e;
            signed += e;
        }

        double n = outcomes.Count;
        return new RegressionMetrics(outcomes.Count, abs / n, Math.Sqrt(squared / n), signed / n);
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

    /// <summary>The accuracy estimated (CBPE) from the confidence of the predictions made in the window, labelled or not; <see langword="null"/> without confidences.</summary>
    public double? EstimatedAccuracy { get; init; }

    /// <summary>The regression metrics of the values observed in the window; <see langword="null"/> when none.</summary>
    public RegressionMetrics? Regression { get; init; }
}
