using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiOps.Monitoring.Observation;

namespace AiOps.Monitoring.Drift;

/// <summary>
/// Streams <see cref="PcaReconstructionDrift"/> over served traffic: one multivariate drift score per model version.
/// Each observed request's rows (one input tensor holding the model's numeric features as its last dimension) add
/// their reconstruction error to the version's open window, O(features × components) per row and O(1) memory;
/// <see cref="CloseWindows"/> turns every open window into a <see cref="MultivariateDriftResult"/> and sets the gauges
/// <c>aiops.drift.multivariate.score</c> and <c>aiops.drift.multivariate.drifted</c> (1 outside the thresholds).
/// Registered by <c>AddAiOpsMultivariateDrift</c> as an <see cref="IInferenceObserver"/>, so monitored runners feed it.
/// Thread-safe.
/// </summary>
public sealed class MultivariateDriftMonitor : IInferenceObserver, IDisposable
{
    private readonly ConcurrentDictionary<ModelKey, State> _states = new();
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Gauge<double> _score;
    private readonly Gauge<int> _drifted;

    /// <summary>Creates a monitor.</summary>
    /// <param name="meterFactory">The meter factory of the host; <see langword="null"/> for a meter of its own.</param>
    public MultivariateDriftMonitor(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(AiOpsMonitoringDiagnostics.MeterName) ?? new Meter(AiOpsMonitoringDiagnostics.MeterName);
        _score = _meter.CreateGauge<double>("aiops.drift.multivariate.score", description: "Mean PCA reconstruction error of the rows of the last closed multivariate drift window.");
        _drifted = _meter.CreateGauge<int>("aiops.drift.multivariate.drifted", description: "1 when the last closed window's reconstruction error was outside the reference thresholds, else 0.");
    }

    /// <summary>Watches <paramref name="key"/>: rows of the input <paramref name="input"/> are scored by <paramref name="model"/> (replacing a previous model and its open window).</summary>
    /// <param name="key">The model version.</param>
    /// <param name="model">The PCA fitted on the version's reference.</param>
    /// <param name="input">The input tensor holding the features (float or double, features as the last dimension).</param>
    /// <exception cref="ArgumentException"><paramref name="input"/> is empty.</exception>
    public void SetModel(ModelKey key, PcaReconstructionDrift model, string input)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        _states[key] = new State(model, input);
    }

    /// <inheritdoc/>
    public void OnInference(ModelKey key, ModelRequest request, ModelResponse response) => Observe(key, request);

    /// <summary>Scores the rows of <paramref name="request"/> into <paramref name="key"/>'s open window (nothing when the version is not watched or the input is absent or of another width).</summary>
    /// <param name="key">The model version.</param>
    /// <param name="request">The request.</param>
    public void Observe(ModelKey key, ModelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_states.TryGetValue(key, out var state))
        {
            return;
        }

        var inputs = request.Inputs;
        for (var k = 0; k < inputs.Count; k++)
        {
            var tensor = inputs[k];
            if (!string.Equals(tensor.Name, state.Input, StringComparison.Ordinal))
            {
                continue;
            }

            var columns = state.Model.Columns;
            var width = tensor.Rank >= 1 ? tensor.Shape[^1] : 0;
            if (width != columns)
            {
                return;
            }

            Span<double> row = columns <= 128 ? stackalloc double[columns] : new double[columns];
            double sum = 0;
            long rows = 0;
            switch (tensor)
            {
                case ModelTensor<float> f:
                    for (var r = 0; r + columns <= f.Span.Length; r += columns)
                    {
                        for (var j = 0; j < columns; j++)
                        {
                            row[j] = f.Span[r + j];
                        }

                        sum += state.Model.ReconstructionError(row);
                        rows++;
                    }

                    break;
                case ModelTensor<double> d:
                    for (var r = 0; r + columns <= d.Span.Length; r += columns)
                    {
                        sum += state.Model.ReconstructionError(d.Span.Slice(r, columns));
                        rows++;
                    }

                    break;
                default:
                    return;
            }

            lock (state)
            {
                state.Sum += sum;
                state.Rows += rows;
            }

            return;
        }
    }

    /// <summary>
    /// Closes every watched version's open window: a result for each that had rows (its score against the thresholds),
    /// the gauges set; windows without rows give no result and leave the gauges as they were.
    /// </summary>
    public IReadOnlyDictionary<ModelKey, MultivariateDriftResult> CloseWindows()
    {
        var results = new Dictionary<ModelKey, MultivariateDriftResult>();
        foreach (var (key, state) in _states)
        {
            double sum;
            long rows;
            lock (state)
            {
                (sum, rows) = (state.Sum, state.Rows);
                (state.Sum, state.Rows) = (0, 0);
            }

            if (rows == 0)
            {
                continue;
            }

            var result = new MultivariateDriftResult(rows, sum / rows, state.Model.LowerThreshold, state.Model.UpperThreshold);
            results[key] = result;
            var tags = new TagList { { "model", key.Model.Value }, { "version", key.Version.Value } };
            _score.Record(result.Score, tags);
            _drifted.Record(result.Drifted ? 1 : 0, tags);
        }

        return results;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private sealed class State(PcaReconstructionDrift model, string input)
    {
        public PcaReconstructionDrift Model { get; } = model;

        public string Input { get; } = input;

        public double Sum { get; set; }

        public long Rows { get; set; }
    }
}
