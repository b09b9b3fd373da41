using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Internal;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Drift;

/// <summary>The streaming drift monitor (see <see cref="IDriftMonitor"/>).</summary>
internal sealed class DriftMonitor : IDriftMonitor, IInferenceObserver, IVersionDriftProvider, IHostedService, IDisposable
{
    /// <summary>The rule raised when a window's worst feature is severe by PSI or by its type's test (KS, chi-square); the name is kept from when only PSI counted.</summary>
    public const string SevereRule = "drift_psi_severe";

    /// <summary>The rule raised when a window's worst feature is moderate by PSI or by its type's test (KS, chi-square).</summary>
    public const string ModerateRule = "drift_psi_moderate";

    private readonly DriftOptions _options;
    private readonly TimeProvider _time;
    private readonly IServiceProvider? _services;
    private readonly ILogger _logger;
    private readonly DriftCalculator _calculator;
    private readonly DriftInstruments _instruments;
    private readonly ConcurrentDictionary<ModelKey, ReferenceProfile> _profiles = new();
    private readonly ConcurrentDictionary<ModelId, ReferenceProfile> _modelProfiles = new();
    private readonly ConcurrentDictionary<ModelKey, VersionState> _states = new();
    private readonly SemaphoreSlim _closing = new(1, 1);
    private PeriodicJob? _closer;

    public DriftMonitor(IOptions<DriftOptions> options, TimeProvider time, IServiceProvider? services = null, ILogger<DriftMonitor>? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.Value;
        _time = time;
        _services = services;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _calculator = new DriftCalculator(_options);
        _instruments = new DriftInstruments(meterFactory, this);
        foreach (var (key, profile) in _options.Profiles)
        {
            _profiles[key] = profile;
        }

        foreach (var (model, profile) in _options.ModelProfiles)
        {
            _modelProfiles[model] = profile;
        }
    }

    public IReadOnlyList<ModelKey> TrackedVersions => _states.Keys.Order().ToList();

    public void SetProfile(ModelKey key, ReferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _profiles[key] = profile;
        _states.TryRemove(key, out _);
    }

    public void SetProfile(ModelId model, ReferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _modelProfiles[model] = profile;
        foreach (var key in _states.Keys.Where(k => k.Model == model && !_profiles.ContainsKey(k)))
        {
            _states.TryRemove(key, out _);
        }
    }

    public ReferenceProfile? GetProfile(ModelKey key) =>
        _profiles.TryGetValue(key, out var p) ? p : _modelProfiles.TryGetValue(key.Model, out var m) ? m : null;

    public void OnInference(ModelKey key, ModelRequest request, ModelResponse response) => Observe(key, request, response);

    public void Observe(ModelKey key, ModelRequest request) => Observe(key, request, null);

    public void Observe(ModelKey key, ModelRequest request, ModelResponse? response)
    {
        ArgumentNullException.ThrowIfNull(request);
        var state = GetState(key);
        if (state is null)
        {
            return;
        }

        ProfileHistogram? full = null;
        DateTimeOffset fullStart = default;
        lock (state.Gate)
        {
            Count(state.Window, request, response);
            if (_options.WindowSize > 0 && state.Window.Rows >= _options.WindowSize)
            {
                full = state.Window;
                fullStart = state.WindowStart;
                state.Window = new ProfileHistogram(state.Profile);
                state.WindowStart = _time.GetUtcNow();
            }
        }

        if (full is not null)
        {
            // The caller's path only computes the result; sinks and alert publishers run off it.
            var result = Close(key, state, full, fullStart, _time.GetUtcNow());
            _ = PublishSafeAsync(key, state, result, CancellationToken.None);
        }
    }

    public async ValueTask<IReadOnlyList<DriftResult>> CloseWindowsAsync(CancellationToken cancellationToken = default)
    {
        using var activity = AiOpsMonitoringDiagnostics.Source.StartActivity(AiOpsMonitoringDiagnostics.DriftWindowsActivityName);
        try
        {
            var results = await CloseWindowsCoreAsync(cancellationToken).ConfigureAwait(false);
            activity?.SetTag("aiops.drift.results", results.Count);
            return results;
        }
        catch (Exception e) when (activity is not null)
        {
            Tracing.Fail(activity, e);
            throw;
        }
    }

    private async ValueTask<IReadOnlyList<DriftResult>> CloseWindowsCoreAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var results = new List<DriftResult>();
        await _closing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (key, state) in _states.OrderBy(s => s.Key))
            {
                ProfileHistogram window;
                DateTimeOffset start;
                lock (state.Gate)
                {
                    window = state.Window;
                    start = state.WindowStart;
                    state.WindowStart = now;
                    if (window.Rows == 0)
                    {
                        continue;
                    }

                    state.Window = new ProfileHistogram(state.Profile);
                }

                var result = Close(key, state, window, start, now);
                results.Add(result);
                await PublishAsync(key, state, result, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _closing.Release();
        }

        return results;
    }

    public IReadOnlyList<DriftWindow> GetWindows(ModelKey key)
    {
        if (!_states.TryGetValue(key, out var state))
        {
            return [];
        }

        lock (state.Gate)
        {
            return state.Closed.ToList();
        }
    }

    public DriftSeverity? GetWorstSeverity(ModelKey key, DateTimeOffset since)
    {
        // InsufficientData sorts below Stable, so it is the answer only when no window in range could be judged.
        DriftSeverity? worst = null;
        foreach (var w in GetWindows(key))
        {
            if (w.Result.WindowEnd >= since && (worst is null || w.Result.Severity > worst))
            {
                worst = w.Result.Severity;
            }
        }

        return worst;
    }

    public DriftSeverity? GetRelativeSeverity(ModelKey key, ModelKey baseline, DateTimeOffset since) =>
        CompareVersions(key, baseline, since)?.Severity;

    public DriftResult? CompareVersions(ModelKey key, ModelKey baseline, DateTimeOffset since)
    {
        var current = MergedSince(key, since);
        var reference = MergedSince(baseline, since);
        if (current is null || reference is null)
        {
            return null;
        }

        var minimum = Math.Max(1, _options.MinimumSampleCount);
        var rows = new List<FeatureDrift>();
        foreach (var histogram in current.Value.Histogram.Features)
        {
            var feature = histogram.Feature;
            var other = reference.Value.Histogram.Features.FirstOrDefault(f => string.Equals(f.Feature.Name, feature.Name, StringComparison.Ordinal));
            if (other is null || other.Feature.Kind != feature.Kind || other.Feature.BinCount != feature.BinCount
                || !other.Feature.EdgeArray.AsSpan().SequenceEqual(feature.EdgeArray)
                || !other.Feature.Categories.SequenceEqual(feature.Categories, StringComparer.Ordinal))
            {
                // Not in the same bins: the two versions cannot be compared on this feature.
                continue;
            }

            if (other.Count == 0 || histogram.Count + histogram.NaNCount == 0)
            {
                // No baseline values to compare with, or no canary rows at all (a canary whose values are all missing
                // is compared: its missing share against the baseline's).
                continue;
            }

            // The baseline version's counts over the period are the reference of the comparison.
            var counts = other.Counts.ToArray();
            var profile = (feature.Kind == FeatureKind.Numeric
                ? FeatureProfile.CreateNumeric(feature.Name, feature.EdgeArray, counts)
                : FeatureProfile.CreateCategorical(feature.Name, feature.Categories, counts)) with { MissingCount = other.NaNCount };
            var compared = new FeatureHistogram(profile);
            compared.SetCounts(histogram.Counts, histogram.NaNCount);
            var judged = _calculator.Evaluate(compared);
            var valuesJudged = histogram.Count >= minimum && other.Count >= minimum;
            var rowsJudged = histogram.Count + histogram.NaNCount >= minimum && other.Count + other.NaNCount >= minimum;
            rows.AddRange(judged.Select(r =>
                (r.Statistic == DriftStatisticNames.MissingShare ? rowsJudged : valuesJudged) ? r : r with { Severity = DriftSeverity.InsufficientData }));
        }

        return new DriftResult(key, current.Value.Start, current.Value.End, rows);
    }

    private (ProfileHistogram Histogram, DateTimeOffset Start, DateTimeOffset End)? MergedSince(ModelKey key, DateTimeOffset since)
    {
        var windows = GetWindows(key).Where(w => w.Result.WindowEnd >= since).ToList();
        if (windows.Count == 0)
        {
            return null;
        }

        var merged = new ProfileHistogram(windows[0].Histogram.Profile);
        foreach (var w in windows)
        {
            merged.MergeFrom(w.Histogram);
        }

        return (merged, windows[0].Result.WindowStart, windows[^1].Result.WindowEnd);
    }

    /// <summary>The latest closed window of every tracked version.</summary>
    internal IReadOnlyList<DriftWindow> LatestWindows()
    {
        var latest = new List<DriftWindow>();
        foreach (var key in TrackedVersions)
        {
            var windows = GetWindows(key);
            if (windows.Count > 0)
            {
                latest.Add(windows[^1]);
            }
        }

        return latest;
    }

    internal DriftOptions Options => _options;

    /// <summary>Every profile in use, for the reference-proportion gauge.</summary>
    internal IEnumerable<(ModelKey Key, ReferenceProfile Profile)> ActiveProfiles() =>
        _states.Select(s => (s.Key, s.Value.Profile));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Windows close one WindowDuration after start and every WindowDuration after that, never two closes at once.
        // A close ignores the stop token: one that has begun finishes (StopAsync waits for it, bounded by the host).
        _closer ??= new PeriodicJob("drift window close", _options.WindowDuration, runAtStart: false, _ => CloseWindowsAsync(CancellationToken.None).AsTask(), _time, _logger);
        _closer.Start(CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _closer?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public void Dispose()
    {
        _closer?.Dispose();
        _instruments.Dispose();
        _closing.Dispose();
    }

    private VersionState? GetState(ModelKey key)
    {
        if (_states.TryGetValue(key, out var state))
        {
            return state;
        }

        var profile = GetProfile(key);
        return profile is null ? null : _states.GetOrAdd(key, k => new VersionState(profile, _time.GetUtcNow()));
    }

    private DriftResult Close(ModelKey key, VersionState state, ProfileHistogram window, DateTimeOffset start, DateTimeOffset end)
    {
        var result = _calculator.Evaluate(key, start, end, window);
        lock (state.Gate)
        {
            state.Closed.Add(new DriftWindow(result, window));
            if (state.Closed.Count > Math.Max(1, _options.RetainedWindows))
            {
                state.Closed.RemoveAt(0);
            }
        }

        _instruments.Record(key, result, window);
        return result;
    }

    private async Task PublishSafeAsync(ModelKey key, VersionState state, DriftResult result, CancellationToken cancellationToken)
    {
        try
        {
            await PublishAsync(key, state, result, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "Publishing the drift result of {Key} failed.", key);
        }
    }

    private async Task PublishAsync(ModelKey key, VersionState state, DriftResult result, CancellationToken cancellationToken)
    {
        if (_services is null)
        {
            return;
        }

        // Resolved when used, not injected: sinks and alert handlers (the rollout controller) may depend on this monitor.
        foreach (var sink in _services.GetServices<IDriftResultSink>())
        {
            try
            {
                await sink.OnDriftResultAsync(result, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                _logger.LogError(ex, "Drift result sink {Sink} failed for {Key}.", sink.GetType().Name, key);
            }
        }

        if (_options.PublishAlerts)
        {
            await PublishAlertsAsync(key, state, result, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The statistics that decide a feature's alert: PSI (the field's 0.1 / 0.2), the test that fits the feature's
    /// type, KS for numeric features and chi-square for categorical ones, and the missing share (a rise of missing
    /// values alerts by itself); the row of the worse severity (PSI on a tie).
    /// </summary>
    internal static List<FeatureDrift> DecidingRows(DriftResult result, ReferenceProfile profile)
    {
        var deciding = new List<FeatureDrift>();
        foreach (var feature in result.Features.GroupBy(f => f.Feature, StringComparer.Ordinal))
        {
            var kind = profile.Find(feature.Key)?.Kind ?? FeatureKind.Numeric;
            var test = kind == FeatureKind.Numeric ? DriftStatisticNames.KolmogorovSmirnov : DriftStatisticNames.ChiSquare;
            FeatureDrift? worst = null;
            foreach (var row in feature)
            {
                if (row.Severity == DriftSeverity.InsufficientData || (row.Statistic != DriftStatisticNames.Psi && row.Statistic != test && row.Statistic != DriftStatisticNames.MissingShare))
                {
                    continue;
                }

                if (worst is null || row.Severity > worst.Severity || (row.Severity == worst.Severity && row.Statistic == DriftStatisticNames.Psi))
                {
                    worst = row;
                }
            }

            if (worst is not null)
            {
                deciding.Add(worst);
            }
        }

        return deciding;
    }

    private async Task PublishAlertsAsync(ModelKey key, VersionState state, DriftResult result, CancellationToken cancellationToken)
    {
        var deciding = DecidingRows(result, state.Profile);
        if (deciding.Count == 0)
        {
            // Nothing could be judged (no data, too little, only missing values): the live alert, if any, stays as it is.
            return;
        }

        var worst = deciding.OrderByDescending(f => f.Severity).ThenBy(f => f.Statistic == DriftStatisticNames.Psi ? 0 : 1).ThenByDescending(f => f.Value).First();
        var severity = worst.Severity;
        var rule = severity switch
        {
            DriftSeverity.Severe => SevereRule,
            DriftSeverity.Moderate => ModerateRule,
            _ => null,
        };

        string? previous;
        lock (state.Gate)
        {
            previous = state.FiringRule;
            state.FiringRule = rule;
        }

        if (string.Equals(previous, rule, StringComparison.Ordinal))
        {
            return;
        }

        var events = new List<AlertEvent>(2);
        var worstText = Describe(worst);
        if (previous is not null)
        {
            events.Add(new AlertEvent(previous, AlertState.Resolved, previous == SevereRule ? AlertSeverity.Critical : AlertSeverity.Warning, result.WindowEnd,
                severity > (previous == SevereRule ? DriftSeverity.Severe : DriftSeverity.Moderate)
                    ? $"Drift of {key} escalated to {severity.ToString().ToLowerInvariant()} (worst {worstText}); {SevereRule} replaces this alert."
                    : $"Drift of {key} is back to {severity.ToString().ToLowerInvariant()} (worst {worstText}).")
            {
                Key = key,
                Value = worst.Value,
                Priority = IncidentPriority.P3,
            });
        }

        if (rule is not null)
        {
            var thresholds = _options.ThresholdsFor(worst.Statistic);
            var threshold = severity == DriftSeverity.Severe ? thresholds.Severe : thresholds.Moderate;
            var drifted = string.Join(", ", deciding.Where(f => f.Severity >= DriftSeverity.Moderate).OrderByDescending(f => f.Severity).ThenByDescending(f => f.Value).Select(Describe));
            events.Add(new AlertEvent(rule, AlertState.Firing, severity == DriftSeverity.Severe ? AlertSeverity.Critical : AlertSeverity.Warning, result.WindowEnd,
                $"{key}: input drift is {severity.ToString().ToLowerInvariant()} ({drifted}; {worst.Statistic} threshold {threshold:F2}) over the window {result.WindowStart:O} – {result.WindowEnd:O}.")
            {
                Key = key,
                Value = worst.Value,
                Threshold = threshold,
                Priority = IncidentPriority.P3,
            });
        }

        foreach (var publisher in _services!.GetServices<IAlertPublisher>())
        {
            foreach (var alert in events)
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

    private static string Describe(FeatureDrift f) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{f.Feature} {f.Statistic}={f.Value:F3}");

    private static void Count(ProfileHistogram window, ModelRequest request, ModelResponse? response)
    {
        long rows = -1;
        // Index loops: foreach over the IReadOnlyList properties boxed an enumerator per feature (384 B per request of 10 features).
        var features = window.Features;
        for (var k = 0; k < features.Count; k++)
        {
            var histogram = features[k];
            var feature = histogram.Feature;
            var tensor = feature.Output is { } output ? FindOutput(response, output, feature) : FindInput(request, feature);
            if (tensor is null)
            {
                continue;
            }

            var width = tensor.Rank >= 2 ? tensor.Shape[^1] : tensor.ElementCount;
            if (width == 0 || feature.Column >= width)
            {
                continue;
            }

            var tensorRows = tensor.ElementCount / width;
            rows = Math.Max(rows, tensorRows);
            switch (tensor)
            {
                case ModelTensor<float> f:
                    CountStrided(histogram, f.Span, (int)width, feature.Column);
                    break;
                case ModelTensor<double> d:
                    CountStrided(histogram, d.Span, (int)width, feature.Column);
                    break;
                case ModelTensor<long> l:
                    for (var r = 0; r < tensorRows; r++)
                    {
                        histogram.AddCategories(l.Span.Slice((int)((r * width) + feature.Column), 1));
                    }

                    break;
                case ModelTensor<int> i:
                    for (var r = 0; r < tensorRows; r++)
                    {
                        long code = i.Span[(int)((r * width) + feature.Column)];
                        histogram.AddCategories(new ReadOnlySpan<long>(in code));
                    }

                    break;
                case ModelTensor<string> text:
                    // String tensors (categorical inputs as exported, e.g. a LabelEncoder's input): counted by value.
                    for (var r = 0; r < tensorRows; r++)
                    {
                        histogram.AddCategory(text.Span[(int)((r * width) + feature.Column)]);
                    }

                    break;
                case ModelTensor<Half> h:
                    for (var r = 0; r < tensorRows; r++)
                    {
                        var value = (float)h.Span[(int)((r * width) + feature.Column)];
                        histogram.Add(new ReadOnlySpan<float>(in value));
                    }

                    break;
                case ModelTensor<BFloat16> b:
                    for (var r = 0; r < tensorRows; r++)
                    {
                        var value = (float)b.Span[(int)((r * width) + feature.Column)];
                        histogram.Add(new ReadOnlySpan<float>(in value));
                    }

                    break;
            }
        }

        if (rows > 0)
        {
            window.Rows += rows;
        }
    }

    private static ModelTensor? FindOutput(ModelResponse? response, string output, FeatureProfile feature)
    {
        if (response is null)
        {
            return null;
        }

        var outputs = response.Outputs;
        for (var k = 0; k < outputs.Count; k++)
        {
            var t = outputs[k];
            if (string.Equals(t.Name, output, StringComparison.Ordinal))
            {
                return Matches(t, feature) ? t : null;
            }
        }

        return null;
    }

    private static ModelTensor? FindInput(ModelRequest request, FeatureProfile feature)
    {
        var inputs = request.Inputs;
        for (var k = 0; k < inputs.Count; k++)
        {
            var t = inputs[k];
            if (feature.Input is not null)
            {
                if (string.Equals(t.Name, feature.Input, StringComparison.Ordinal))
                {
                    return Matches(t, feature) ? t : null;
                }
            }
            else if (Matches(t, feature))
            {
                return t;
            }
        }

        return null;
    }

    private static bool Matches(ModelTensor t, FeatureProfile feature) => feature.Kind == FeatureKind.Numeric
        ? t.ElementType is TensorElementType.Float32 or TensorElementType.Float64 or TensorElementType.Float16 or TensorElementType.BFloat16
        : t.ElementType is TensorElementType.Int64 or TensorElementType.Int32 or TensorElementType.String;

    private static void CountStrided<T>(FeatureHistogram histogram, ReadOnlySpan<T> data, int width, int column)
        where T : unmanaged
    {
        if (width == 1)
        {
            Add(histogram, data);
            return;
        }

        var rows = data.Length / width;
        if (rows <= 128)
        {
            // Small batches (a single row above all): gather on the stack, no pool round trip.
            Span<T> gathered = stackalloc T[rows];
            for (var r = 0; r < rows; r++)
            {
                gathered[r] = data[(r * width) + column];
            }

            Add(histogram, (ReadOnlySpan<T>)gathered);
            return;
        }

        var buffer = ArrayPool<T>.Shared.Rent(rows);
        try
        {
            for (var r = 0; r < rows; r++)
            {
                buffer[r] = data[(r * width) + column];
            }

            Add(histogram, buffer.AsSpan(0, rows));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(buffer);
        }
    }

    private static void Add<T>(FeatureHistogram histogram, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            histogram.Add(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(values));
        }
        else
        {
            histogram.Add(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values));
        }
    }

    private sealed class VersionState(ReferenceProfile profile, DateTimeOffset start)
    {
        public object Gate { get; } = new();

        public ReferenceProfile Profile { get; } = profile;

        public ProfileHistogram Window { get; set; } = new(profile);

        public DateTimeOffset WindowStart { get; set; } = start;

        public List<DriftWindow> Closed { get; } = [];

        public string? FiringRule { get; set; }
    }
}
