namespace AiOps.Monitoring.Quality;

/// <summary>How <see cref="ConfidenceCalibrator.Fit"/> maps a model's confidence to the chance it is right.</summary>
public enum CalibrationMethod
{
    /// <summary>Isotonic regression (pool-adjacent-violators): the best non-decreasing fit, linear between its steps (scikit-learn's <c>IsotonicRegression</c>). The default.</summary>
    Isotonic = 0,

    /// <summary>Histogram binning: equal-count bins of confidence, each mapped to the share of correct predictions in it.</summary>
    HistogramBinning,
}

/// <summary>
/// Maps the confidence of a predicted class (its probability) to the probability that the prediction is right, fitted
/// on a labelled reference set, for CBPE-style estimated accuracy (NannyML): an uncalibrated model's confidences are
/// not the chance it is right (an over-confident one says 0.95 where it is right 80 % of the time), and the estimate
/// is only as good as the calibration. Immutable and thread-safe.
/// </summary>
public sealed class ConfidenceCalibrator
{
    private readonly double[] _x;
    private readonly double[] _xEnd;
    private readonly double[] _y;
    private readonly CalibrationMethod _method;

    private ConfidenceCalibrator(CalibrationMethod method, double[] x, double[] xEnd, double[] y)
    {
        _method = method;
        _x = x;
        _xEnd = xEnd;
        _y = y;
    }

    /// <summary>The method it was fitted with.</summary>
    public CalibrationMethod Method => _method;

    /// <summary>
    /// Fits a calibrator on a labelled reference set.
    /// </summary>
    /// <param name="confidences">The confidence of each reference prediction (the probability of the predicted class), in [0, 1].</param>
    /// <param name="correct">Whether each reference prediction was right.</param>
    /// <param name="method">Isotonic (default) or histogram binning.</param>
    /// <param name="bins">The bins of <see cref="CalibrationMethod.HistogramBinning"/> (default 10); at least 1.</param>
    /// <exception cref="ArgumentException">The spans differ in length, hold fewer than 2 values, or a confidence is outside [0, 1].</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is under 1 or <paramref name="method"/> is undefined.</exception>
    public static ConfidenceCalibrator Fit(ReadOnlySpan<double> confidences, ReadOnlySpan<bool> correct, CalibrationMethod method = CalibrationMethod.Isotonic, int bins = 10)
    {
        if (confidences.Length != correct.Length)
        {
            throw new ArgumentException($"{confidences.Length} confidences and {correct.Length} outcomes were given; expected one outcome per confidence.", nameof(correct));
        }

        if (confidences.Length < 2)
        {
            throw new ArgumentException($"{confidences.Length} reference predictions were given; expected at least 2 (a few thousand for a useful calibration).", nameof(confidences));
        }

        if (!Enum.IsDefined(method))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, "Expected CalibrationMethod Isotonic or HistogramBinning.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var order = new int[confidences.Length];
        for (var i = 0; i < order.Length; i++)
        {
            if (!(confidences[i] >= 0 && confidences[i] <= 1))
            {
                throw new ArgumentException($"Confidence {i} is {confidences[i]}; expected a probability in [0, 1].", nameof(confidences));
            }

            order[i] = i;
        }

        var x = confidences.ToArray();
        Array.Sort(x, order);
        var y = new double[x.Length];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = correct[order[i]] ? 1 : 0;
        }

        return method == CalibrationMethod.Isotonic ? FitIsotonic(x, y) : FitBins(x, y, Math.Min(bins, x.Length));
    }

    /// <summary>The calibrated probability that a prediction of confidence <paramref name="confidence"/> is right.</summary>
    /// <param name="confidence">The confidence (probability of the predicted class); values outside [0, 1] are clamped.</param>
    public double Calibrate(double confidence)
    {
        if (double.IsNaN(confidence))
        {
            return double.NaN;
        }

        var c = Math.Clamp(confidence, 0, 1);
        if (_method == CalibrationMethod.HistogramBinning)
        {
            // _xEnd holds the upper edge of each bin; the last bin takes everything above.
            var k = Array.BinarySearch(_xEnd, c);
            k = k < 0 ? ~k : k;
            return _y[Math.Min(k, _y.Length - 1)];
        }

        // Isotonic: each block is flat over [x, xEnd]; between blocks linear; outside, the end values.
        if (c <= _x[0])
        {
            return _y[0];
        }

        if (c >= _xEnd[^1])
        {
            return _y[^1];
        }

        var b = Array.BinarySearch(_x, c);
        b = b < 0 ? ~b - 1 : b; // the last block starting at or below c
        if (c <= _xEnd[b])
        {
            return _y[b];
        }

        var t = (c - _xEnd[b]) / (_x[b + 1] - _xEnd[b]);
        return _y[b] + (t * (_y[b + 1] - _y[b]));
    }

    /// <summary>Pool adjacent violators over values sorted by x (ties of x pooled first).</summary>
    private static ConfidenceCalibrator FitIsotonic(double[] x, double[] y)
    {
        var start = new List<double>();
        var end = new List<double>();
        var sum = new List<double>();
        var weight = new List<double>();
        var i = 0;
        while (i < x.Length)
        {
            var j = i;
            double s = 0;
            while (j < x.Length && x[j] == x[i])
            {
                s += y[j];
                j++;
            }

            start.Add(x[i]);
            end.Add(x[i]);
            sum.Add(s);
            weight.Add(j - i);
            while (sum.Count > 1 && sum[^2] / weight[^2] >= sum[^1] / weight[^1])
            {
                // Merge the last two blocks: a violation (or a flat step, merged so blocks are strictly increasing).
                sum[^2] += sum[^1];
                weight[^2] += weight[^1];
                end[^2] = end[^1];
                sum.RemoveAt(sum.Count - 1);
                weight.RemoveAt(weight.Count - 1);
                start.RemoveAt(start.Count - 1);
                end.RemoveAt(end.Count - 1);
            }

            i = j;
        }

        var values = new double[sum.Count];
        for (var k = 0; k < values.Length; k++)
        {
            values[k] = sum[k] / weight[k];
        }

        return new ConfidenceCalibrator(CalibrationMethod.Isotonic, [.. start], [.. end], values);
    }

    /// <summary>Equal-count bins over the sorted confidences; a bin's value is its share of correct predictions.</summary>
    private static ConfidenceCalibrator FitBins(double[] x, double[] y, int bins)
    {
        var upper = new List<double>();
        var values = new List<double>();
        var from = 0;
        for (var b = 1; b <= bins; b++)
        {
            var to = (int)((long)x.Length * b / bins);
            // Keep ties of x in one bin.
            while (to < x.Length && to > 0 && x[to] == x[to - 1])
            {
                to++;
            }

            if (to <= from)
            {
                continue;
            }

            double s = 0;
            for (var k = from; k < to; k++)
            {
                s += y[k];
            }

            upper.Add(x[to - 1]);
            values.Add(s / (to - from));
            from = to;
        }

        return new ConfidenceCalibrator(CalibrationMethod.HistogramBinning, [], [.. upper], [.. values]);
    }
}

/// <summary>An estimated accuracy from the confidence of predictions (CBPE), with what their labels say so far.</summary>
/// <param name="Predictions">The predictions the estimate is over (labelled or not).</param>
/// <param name="EstimatedAccuracy">The mean over predictions of the (calibrated) probability that the predicted class is right.</param>
/// <param name="StandardError">√(Σ cᵢ(1 − cᵢ)) / n: the standard deviation of the realised accuracy around the estimate when the calibration is right.</param>
/// <param name="Calibrated">Whether a <see cref="ConfidenceCalibrator"/> was applied (otherwise the raw confidences were taken as calibrated).</param>
public sealed record AccuracyEstimate(long Predictions, double EstimatedAccuracy, double StandardError, bool Calibrated)
{
    /// <summary>The realised accuracy of the predictions of the period that have their label so far; <see langword="null"/> before any.</summary>
    public double? RealisedAccuracy { get; init; }

    /// <summary>How many of <see cref="Predictions"/> have their label.</summary>
    public long Labelled { get; init; }
}
