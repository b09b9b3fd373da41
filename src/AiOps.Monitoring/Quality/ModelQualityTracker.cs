using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiOps.Alerts;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Internal;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Quality;

/// <summary>The model-quality tracker (see <see cref="IModelQualityTracker"/>).</summary>
internal sealed class ModelQualityTracker : IModelQualityTracker, IInferenceObserver, IVersionAccuracyProvider, IHostedService, IDisposable
{
    /// <summary>The rule raised when accuracy drops from the baseline.</summary>
    public const string AccuracyDropRule = "accuracy_drop";

    /// <summary>The rule raised when accuracy rises above the baseline.</summary>
    public const string AccuracyRiseRule = "accuracy_rise";

    private const string Critical = "critical";
    private const string Warning = "warning";
    private const string Rise = "rise";

    private readonly ModelQualityOptions _options;
    private readonly TimeProvider _time;
    private readonly IServiceProvider? _services;
    private readonly ILogger _logger;
    private readonly object _pendingGate = new();
    private readonly Dictionary<(string RequestId, int Row), PendingPrediction> _pending = [];
    private readonly Queue<(string RequestId, int Row, DateTimeOffset At)> _order = new();
    private readonly Dictionary<(string RequestId, int Row), PendingLabel> _earlyLabels = [];
    private readonly Queue<(string RequestId, int Row, DateTimeOffset At)> _labelOrder = new();
    private readonly Dictionary<ModelKey, VersionQuality> _versions = [];
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Gauge<double> _accuracy;
    private readonly Gauge<double> _precision;
    private readonly Gauge<double> _recall;
    private readonly Gauge<double> _f1;
    private readonly Gauge<double> _mae;
    private readonly Gauge<double> _estimated;
    private readonly Gauge<double> _rmse;
    private readonly Counter<long> _joined;
    private readonly Counter<long> _unmatched;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _held;
    private DateTimeOffset _windowStart;
    private PeriodicJob? _closer;

    public ModelQualityTracker(IOptions<ModelQualityOptions> options, TimeProvider time, IServiceProvider? services = null, ILogger<ModelQualityTracker>? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.Value;
        _time = time;
        _services = services;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _windowStart = time.GetUtcNow();
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(AiOpsMonitoringDiagnostics.MeterName) ?? new Meter(AiOpsMonitoringDiagnostics.MeterName);
        _accuracy = _meter.CreateGauge<double>("aiops.quality.accuracy", description: "Accuracy of a version over the last closed quality window.");
        _precision = _meter.CreateGauge<double>("aiops.quality.precision", description: "Precision of the positive class over the last closed quality window (by label arrival).");
        _recall = _meter.CreateGauge<double>("aiops.quality.recall", description: "Recall of the positive class over the last closed quality window (by label arrival).");
        _f1 = _meter.CreateGauge<double>("aiops.quality.f1", description: "F1 of the positive class over the last closed quality window (by label arrival).");
        _estimated = _meter.CreateGauge<double>("aiops.quality.accuracy.estimated", description: "Accuracy estimated from the calibrated confidence of the predictions made in the last closed quality window (CBPE), labelled or not.");
        _mae = _meter.CreateGauge<double>("aiops.quality.mae", description: "Mean absolute error of a regression model over the last closed quality window (by label arrival).");
        _rmse = _meter.CreateGauge<double>("aiops.quality.rmse", description: "Root mean squared error of a regression model over the last closed quality window (by label arrival).");
        _joined = _meter.CreateCounter<long>("aiops.quality.labels.joined", "{label}", "Ground-truth labels joined with their prediction.");
        _unmatched = _meter.CreateCounter<long>("aiops.quality.labels.unmatched", "{label}", "Labels whose prediction was unknown, already labelled or expired.");
        _dropped = _meter.CreateCounter<long>("aiops.quality.predictions.dropped", "{prediction}", "Predictions dropped unlabelled (expired or over the pending limit).");
        _held = _meter.CreateCounter<long>("aiops.quality.labels.held", "{label}", "Labels that arrived before their prediction and were kept to wait for it.");
    }

    public int PendingCount
    {
        get
        {
            lock (_pendingGate)
            {
                return _pending.Count;
            }
        }
    }

    public void OnInference(ModelKey key, ModelRequest request, ModelResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (request.RequestId is null)
        {
            return;
        }

        var output = FindOutput(response);
        switch (output)
        {
            case ModelTensor<float> values when _options.Task == QualityTask.Regression:
            {
                var span = values.Span;
                var width = values.Rank >= 2 ? (int)values.Shape[^1] : 1;
                for (var r = 0; width > 0 && r < span.Length / width; r++)
                {
                    RecordValuePrediction(key, request.RequestId, span[r * width], r);
                }

                break;
            }

            case ModelTensor<float> scores:
            {
                var width = scores.Rank >= 2 ? (int)scores.Shape[^1] : 1;
                if (width == 0)
                {
                    return;
                }

                var span = scores.Span;
                var rows = span.Length / width;
                for (var r = 0; r < rows; r++)
                {
                    var row = span.Slice(r * width, width);
                    int predicted;
                    double? score;
                    double confidence;
                    if (width == 1)
                    {
                        // One sigmoid output: the probability of class 1.
                        predicted = row[0] >= 0.5f ? 1 : 0;
                        score = _options.PositiveClass == 0 ? 1 - row[0] : row[0];
                        confidence = Math.Max(row[0], 1.0 - row[0]);
                    }
                    else
                    {
                        predicted = ArgMax(row);
                        score = _options.PositiveClass < width ? row[_options.PositiveClass] : null;
                        confidence = row[predicted];
                    }

                    Predict(key, request.RequestId, predicted, score, null, r, confidence);
                }

                break;
            }

            case ModelTensor<long> classes:
            {
                var span = classes.Span;
                for (var r = 0; r < span.Length; r++)
                {
                    RecordPrediction(key, request.RequestId, (int)span[r], null, r);
                }

                break;
            }
        }
    }

    public int PendingLabelCount
    {
        get
        {
            lock (_pendingGate)
            {
                return _earlyLabels.Count;
            }
        }
    }

    public void RecordPrediction(ModelKey key, string requestId, int predictedClass, double? score = null, int row = 0) =>
        Predict(key, requestId, predictedClass, score, null, row, score is { } s && s >= 0 && s <= 1 ? (predictedClass == _options.PositiveClass ? s : 1 - s) : null);

    public void SetCalibration(ModelKey key, ConfidenceCalibrator? calibrator)
    {
        var version = Version(key);
        lock (version)
        {
            version.Calibrator = calibrator;
        }
    }

    public AccuracyEstimate? GetEstimatedAccuracy(ModelKey key, DateTimeOffset since)
    {
        VersionQuality? version;
        lock (_versions)
        {
            _versions.TryGetValue(key, out version);
        }

        if (version is null)
        {
            return null;
        }

        List<double> confidences;
        List<LabeledPrediction> labelled;
        ConfidenceCalibrator? calibrator;
        lock (version)
        {
            confidences = version.Confidences.Where(c => c.At >= since).Select(c => c.Confidence).ToList();
            labelled = version.Outcomes.Where(o => o.PredictedAt >= since).ToList();
            calibrator = version.Calibrator;
        }

        return Estimate(confidences, calibrator, labelled);
    }

    /// <summary>CBPE: the expected accuracy is the mean calibrated probability that each predicted class is right.</summary>
    private static AccuracyEstimate? Estimate(List<double> confidences, ConfidenceCalibrator? calibrator, List<LabeledPrediction> labelled)
    {
        if (confidences.Count == 0)
        {
            return null;
        }

        double sum = 0, variance = 0;
        foreach (var raw in confidences)
        {
            var c = calibrator?.Calibrate(raw) ?? raw;
            sum += c;
            variance += c * (1 - c);
        }

        double n = confidences.Count;
        var realised = QualityMetrics.Compute(labelled)?.Accuracy;
        return new AccuracyEstimate(confidences.Count, sum / n, Math.Sqrt(variance) / n, calibrator is not null)
        {
            RealisedAccuracy = realised,
            Labelled = labelled.Count,
        };
    }

    public void RecordValuePrediction(ModelKey key, string requestId, double predicted, int row = 0)
    {
        if (!double.IsFinite(predicted))
        {
            throw new ArgumentOutOfRangeException(nameof(predicted), predicted, "Expected a finite predicted value.");
        }

        Predict(key, requestId, 0, null, predicted, row);
    }

    public bool RecordValueLabel(string requestId, double actual, int row = 0)
    {
        if (!double.IsFinite(actual))
        {
            throw new ArgumentOutOfRangeException(nameof(actual), actual, "Expected a finite observed value.");
        }

        return Label(requestId, new PendingLabel(0, actual, default), row);
    }

    public RegressionMetrics? GetRegressionMetrics(ModelKey key, DateTimeOffset since, QualityTimeBasis basis) => basis switch
    {
        QualityTimeBasis.LabelArrival => RegressionMetrics.Compute(ValueOutcomes(key, o => o.LabeledAt >= since)),
        QualityTimeBasis.PredictionTime => RegressionMetrics.Compute(ValueOutcomes(key, o => o.PredictedAt >= since)),
        _ => throw new ArgumentOutOfRangeException(nameof(basis), basis, "Expected QualityTimeBasis LabelArrival or PredictionTime."),
    };

    private void Predict(ModelKey key, string requestId, int predictedClass, double? score, double? value, int row, double? confidence = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        var now = _time.GetUtcNow();
        if (confidence is { } c && !double.IsNaN(c))
        {
            // Every prediction with a confidence counts in the estimate, labelled or not.
            var v = Version(key);
            lock (v)
            {
                v.Confidences.Enqueue((now, c));
                while (v.Confidences.Count > _options.MaxOutcomesPerVersion)
                {
                    v.Confidences.Dequeue();
                }
            }
        }

        long dropped = 0, unmatched;
        PendingLabel early;
        lock (_pendingGate)
        {
            dropped += Expire(now);
            unmatched = ExpireLabels(now);
            if (!_earlyLabels.Remove((requestId, row), out early))
            {
                early = default;
                while (_pending.Count >= _options.MaxPendingPredictions && _order.Count > 0)
                {
                    var (id, r, at) = _order.Dequeue();
                    if (_pending.TryGetValue((id, r), out var p) && p.At == at)
                    {
                        _pending.Remove((id, r));
                        dropped++;
                    }
                }

                _pending[(requestId, row)] = new PendingPrediction(key, predictedClass, score, value, now);
                _order.Enqueue((requestId, row, now));
            }
        }

        Count(dropped, unmatched);
        if (early.At != default)
        {
            // The label came first: the pair is complete now, so it counts in the window it completes in.
            Join(new PendingPrediction(key, predictedClass, score, value, now), early, now);
        }
    }

    public bool RecordLabel(string requestId, int label, int row = 0) => Label(requestId, new PendingLabel(label, null, default), row);

    private bool Label(string requestId, PendingLabel label, int row)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        var now = _time.GetUtcNow();
        PendingPrediction prediction;
        long dropped, unmatched;
        lock (_pendingGate)
        {
            dropped = Expire(now);
            unmatched = ExpireLabels(now);
            if (!_pending.Remove((requestId, row), out prediction))
            {
                prediction = default;
                while (_earlyLabels.Count >= _options.MaxPendingLabels && _labelOrder.Count > 0)
                {
                    var (id, r, at) = _labelOrder.Dequeue();
                    if (_earlyLabels.TryGetValue((id, r), out var l) && l.At == at)
                    {
                        _earlyLabels.Remove((id, r));
                        unmatched++;
                    }
                }

                _earlyLabels[(requestId, row)] = label with { At = now };
                _labelOrder.Enqueue((requestId, row, now));
            }
        }

        Count(dropped, unmatched);
        if (prediction.At == default)
        {
            _held.Add(1);
            return false;
        }

        Join(prediction, label, now);
        return true;
    }

    private void Count(long dropped, long unmatched)
    {
        if (dropped > 0)
        {
            _dropped.Add(dropped);
        }

        if (unmatched > 0)
        {
            _unmatched.Add(unmatched);
        }
    }

    private void Join(PendingPrediction prediction, PendingLabel label, DateTimeOffset now)
    {
        var version = Version(prediction.Key);
        if (prediction.Value is { } predicted)
        {
            lock (version)
            {
                version.ValueOutcomes.Enqueue(new LabeledValue(predicted, label.Value ?? label.Label, prediction.At, now));
                while (version.ValueOutcomes.Count > _options.MaxOutcomesPerVersion)
                {
                    version.ValueOutcomes.Dequeue();
                }
            }

            CountJoin(prediction.Key);
            return;
        }

        if (label.Value is { } observed && observed != Math.Round(observed))
        {
            // A real-valued observation for a classifier's prediction: nothing to compare it with.
            _unmatched.Add(1);
            return;
        }

        var labelClass = label.Value is { } v ? (int)v : label.Label;
        lock (version)
        {
            version.Outcomes.Enqueue(new LabeledPrediction(prediction.PredictedClass, labelClass, prediction.Score, prediction.At, now));
            if (version.Baseline is null && version.BaselineOutcomes.Count < _options.BaselineMinimumLabels)
            {
                version.BaselineOutcomes.Add(version.Outcomes.Last());
            }

            while (version.Outcomes.Count > _options.MaxOutcomesPerVersion)
            {
                version.Outcomes.Dequeue();
            }
        }

        CountJoin(prediction.Key);
    }

    private void CountJoin(ModelKey key) =>
        _joined.Add(1, new KeyValuePair<string, object?>("model", key.Model.Value), new KeyValuePair<string, object?>("version", key.Version.Value));

    public QualityMetrics? GetMetrics(ModelKey key, DateTimeOffset since) => GetMetrics(key, since, QualityTimeBasis.PredictionTime);

    public QualityMetrics? GetMetrics(ModelKey key, DateTimeOffset since, QualityTimeBasis basis) => basis switch
    {
        QualityTimeBasis.LabelArrival => QualityMetrics.Compute(Outcomes(key, o => o.LabeledAt >= since), _options.PositiveClass),
        QualityTimeBasis.PredictionTime => QualityMetrics.Compute(Outcomes(key, o => o.PredictedAt >= since), _options.PositiveClass),
        _ => throw new ArgumentOutOfRangeException(nameof(basis), basis, "Expected QualityTimeBasis LabelArrival or PredictionTime."),
    };

    public double? GetAccuracy(ModelKey key, DateTimeOffset since) => GetMetrics(key, since, QualityTimeBasis.LabelArrival)?.Accuracy;

    public void SetBaseline(ModelKey key, QualityMetrics baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var version = Version(key);
        lock (version)
        {
            version.Baseline = baseline;
        }
    }

    public QualityMetrics? GetBaseline(ModelKey key)
    {
        var version = Version(key);
        lock (version)
        {
            return version.Baseline;
        }
    }

    public async ValueTask<IReadOnlyList<QualityWindow>> CloseWindowsAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        DateTimeOffset start;
        List<KeyValuePair<ModelKey, VersionQuality>> versions;
        lock (_versions)
        {
            start = _windowStart;
            _windowStart = now;
            versions = [.. _versions.OrderBy(v => v.Key)];
        }

        var windows = new List<QualityWindow>();
        foreach (var (key, version) in versions)
        {
            List<LabeledPrediction> outcomes;
            List<LabeledValue> values;
            List<double> confidences;
            ConfidenceCalibrator? calibrator;
            lock (version)
            {
                confidences = version.Confidences.Where(c => c.At >= start && c.At < now).Select(c => c.Confidence).ToList();
                calibrator = version.Calibrator;
                outcomes = version.Outcomes.Where(o => o.LabeledAt >= start && o.LabeledAt < now).ToList();
                values = version.ValueOutcomes.Where(o => o.LabeledAt >= start && o.LabeledAt < now).ToList();
            }

            var metrics = QualityMetrics.Compute(outcomes, _options.PositiveClass);
            QualityMetrics? baseline;
            var enough = metrics is not null && metrics.Count >= _options.MinimumLabels;
            lock (version)
            {
                if (version.Baseline is null && version.BaselineOutcomes.Count >= _options.BaselineMinimumLabels)
                {
                    // The first BaselineMinimumLabels labelled predictions become the baseline; this window is compared with it.
                    version.Baseline = QualityMetrics.Compute(version.BaselineOutcomes, _options.PositiveClass);
                    version.BaselineOutcomes.Clear();
                }

                baseline = version.Baseline;
            }

            var regression = RegressionMetrics.Compute(values);
            var estimate = Estimate(confidences, calibrator, []);
            var window = new QualityWindow(key, start, now, metrics, baseline) { Regression = regression, EstimatedAccuracy = estimate?.EstimatedAccuracy };
            windows.Add(window);
            var tags = new TagList { { "model", key.Model.Value }, { "version", key.Version.Value } };
            if (metrics is not null)
            {
                _accuracy.Record(metrics.Accuracy, tags);
                Record(_precision, metrics.Precision, tags);
                Record(_recall, metrics.Recall, tags);
                Record(_f1, metrics.F1, tags);
            }

            if (estimate is not null)
            {
                _estimated.Record(estimate.EstimatedAccuracy, tags);
            }

            if (regression is not null)
            {
                _mae.Record(regression.MeanAbsoluteError, tags);
                _rmse.Record(regression.RootMeanSquaredError, tags);
            }

            if (enough && baseline is not null && _options.PublishAlerts)
            {
                await PublishAsync(version, window, cancellationToken).ConfigureAwait(false);
            }
        }

        return windows;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Windows close one WindowDuration after start and every WindowDuration after that, never two closes at once.
        // A close ignores the stop token: one that has begun finishes (StopAsync waits for it, bounded by the host).
        _closer ??= new PeriodicJob("quality window close", _options.WindowDuration, runAtStart: false, _ => CloseWindowsAsync(CancellationToken.None).AsTask(), _time, _logger);
        _closer.Start(CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _closer?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose()
    {
        _closer?.Dispose();
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    /// <summary>The alert level of a window's change, with hysteresis: a firing level holds until the change is back past its threshold by <see cref="ModelQualityOptions.AccuracyHysteresis"/>.</summary>
    private string? Level(double drop, string? previous)
    {
        var h = _options.AccuracyHysteresis;
        var holdsCritical = previous == Critical;
        var holdsDrop = previous is Critical or Warning;
        if (drop >= _options.AccuracyDropCritical || (holdsCritical && drop >= _options.AccuracyDropCritical - h))
        {
            return Critical;
        }

        if (drop >= _options.AccuracyDropWarning || (holdsDrop && drop >= _options.AccuracyDropWarning - h))
        {
            return Warning;
        }

        return -drop >= _options.AccuracyDropWarning || (previous == Rise && -drop >= _options.AccuracyDropWarning - h) ? Rise : null;
    }

    private static string? RuleOf(string? level) => level switch
    {
        null => null,
        Rise => AccuracyRiseRule,
        _ => AccuracyDropRule,
    };

    private async Task PublishAsync(VersionQuality version, QualityWindow window, CancellationToken cancellationToken)
    {
        var drop = window.AccuracyDrop!.Value;
        string? previous, level;
        lock (version)
        {
            previous = version.FiringLevel;
            level = Level(drop, previous);
            version.FiringLevel = level;
        }

        if (string.Equals(previous, level, StringComparison.Ordinal) || _services is null)
        {
            return;
        }

        var key = window.Key;
        var current = window.Metrics!.Accuracy;
        var baseline = window.Baseline!.Accuracy;
        var alerts = new List<AlertEvent>(2);
        var previousRule = RuleOf(previous);
        var rule = RuleOf(level);
        if (previousRule is not null && previousRule != rule)
        {
            alerts.Add(new AlertEvent(previousRule, AlertState.Resolved, previous switch { Critical => AlertSeverity.Critical, Warning => AlertSeverity.Warning, _ => AlertSeverity.Info }, window.WindowEnd,
                $"Accuracy of {key} is back to {current:P1} (baseline {baseline:P1}).")
            {
                Key = key,
                Value = current,
                Threshold = previous == Rise ? baseline + _options.AccuracyDropWarning : baseline - _options.AccuracyDropWarning,
            });
        }

        if (level == Rise)
        {
            alerts.Add(new AlertEvent(AccuracyRiseRule, AlertState.Firing, AlertSeverity.Info, window.WindowEnd,
                $"Accuracy of {key} rose {-drop * 100:F1} points to {current:P1} over {window.Metrics.Count} labelled predictions (baseline {baseline:P1}); the model, the traffic or the labels changed.")
            {
                Key = key,
                Value = current,
                Threshold = baseline + _options.AccuracyDropWarning,
                Priority = IncidentPriority.P3,
            });
        }
        else if (level is not null)
        {
            var critical = level == Critical;
            alerts.Add(new AlertEvent(AccuracyDropRule, AlertState.Firing, critical ? AlertSeverity.Critical : AlertSeverity.Warning, window.WindowEnd,
                $"Accuracy of {key} fell {drop * 100:F1} points to {current:P1} over {window.Metrics.Count} labelled predictions (baseline {baseline:P1}).")
            {
                Key = key,
                Value = current,
                Threshold = baseline - (critical ? _options.AccuracyDropCritical : _options.AccuracyDropWarning),
                Priority = critical ? IncidentPriority.P1 : IncidentPriority.P2,
            });
        }

        foreach (var publisher in _services.GetServices<IAlertPublisher>())
        {
            foreach (var alert in alerts)
            {
                try
                {
                    await publisher.PublishAsync(alert, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    _logger.LogError(ex, "Publishing alert {Rule} for {Key} failed.", alert.Rule, key);
                }
            }
        }
    }

    private static void Record(Gauge<double> gauge, double? value, in TagList tags)
    {
        if (value is { } v)
        {
            gauge.Record(v, tags);
        }
    }

    private List<LabeledValue> ValueOutcomes(ModelKey key, Func<LabeledValue, bool> filter) => Snapshot(key, static v => v.ValueOutcomes, filter);

    private List<LabeledPrediction> Outcomes(ModelKey key, Func<LabeledPrediction, bool> filter) => Snapshot(key, static v => v.Outcomes, filter);

    /// <summary>The matching entries of one of a version's outcome queues, copied under the version's lock.</summary>
    private List<T> Snapshot<T>(ModelKey key, Func<VersionQuality, Queue<T>> queue, Func<T, bool> filter)
    {
        VersionQuality? version;
        lock (_versions)
        {
            _versions.TryGetValue(key, out version);
        }

        if (version is null)
        {
            return [];
        }

        lock (version)
        {
            return queue(version).Where(filter).ToList();
        }
    }

    private VersionQuality Version(ModelKey key)
    {
        lock (_versions)
        {
            if (!_versions.TryGetValue(key, out var v))
            {
                v = new VersionQuality();
                _versions[key] = v;
            }

            return v;
        }
    }

    private long Expire(DateTimeOffset now)
    {
        long dropped = 0;
        while (_order.Count > 0 && now - _order.Peek().At >= _options.PredictionTimeToLive)
        {
            var (id, r, at) = _order.Dequeue();
            if (_pending.TryGetValue((id, r), out var p) && p.At == at)
            {
                _pending.Remove((id, r));
                dropped++;
            }
        }

        return dropped;
    }

    private long ExpireLabels(DateTimeOffset now)
    {
        long expired = 0;
        while (_labelOrder.Count > 0 && now - _labelOrder.Peek().At >= _options.LabelTimeToLive)
        {
            var (id, r, at) = _labelOrder.Dequeue();
            if (_earlyLabels.TryGetValue((id, r), out var l) && l.At == at)
            {
                _earlyLabels.Remove((id, r));
                expired++;
            }
        }

        return expired;
    }

    private ModelTensor? FindOutput(ModelResponse response)
    {
        if (_options.PredictionOutput is { } name)
        {
            return response.Outputs.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.Ordinal));
        }

        return response.Outputs.FirstOrDefault(o => o is ModelTensor<float>) ?? response.Outputs.FirstOrDefault(o => o is ModelTensor<long>);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>A prediction waiting for its label: a class (and score), or a regression <paramref name="Value"/>.</summary>
    private readonly record struct PendingPrediction(ModelKey Key, int PredictedClass, double? Score, double? Value, DateTimeOffset At);

    /// <summary>A label waiting for its prediction: a class, or an observed <paramref name="Value"/>.</summary>
    private readonly record struct PendingLabel(int Label, double? Value, DateTimeOffset At);

    private sealed class VersionQuality
    {
        public Queue<LabeledPrediction> Outcomes { get; } = new();

        public Queue<LabeledValue> ValueOutcomes { get; } = new();

        /// <summary>When each prediction was made and the confidence of its predicted class, for the CBPE estimate.</summary>
        public Queue<(DateTimeOffset At, double Confidence)> Confidences { get; } = new();

        public ConfidenceCalibrator? Calibrator { get; set; }

        public QualityMetrics? Baseline { get; set; }

        /// <summary>The first labelled predictions, until there are enough for an automatic baseline.</summary>
        public List<LabeledPrediction> BaselineOutcomes { get; } = [];

        public string? FiringLevel { get; set; }
    }
}
