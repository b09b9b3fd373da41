using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text;
using AiOps.Monitoring.Metrics;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace AiOps.Monitoring.Export;

/// <summary>
/// Listens to the exported meters and mirrors each measurement into a prometheus-net collector. Label names are the
/// instrument's tag keys seen on its first measurement (at most <see cref="LabelKey.MaxLabels"/>, sorted); label
/// values go through <see cref="MetricLabelPolicy"/> so they stay bounded.
/// </summary>
internal sealed partial class MeterPrometheusBridge : IDisposable
{
    /// <summary>The least number of <c>bin</c> label values per metric: a per-value profile of 20 values has 41 bins.</summary>
    private const int MinBinLabels = 64;

    private readonly MeterListener _listener = new();
    private readonly CollectorRegistry _registry;
    private readonly MetricLabelPolicy _labels;
    private readonly HashSet<string> _meters;
    private readonly double[] _defaultBuckets;
    private readonly ILogger _logger;
    private readonly IMeterFactory? _scope;

    /// <param name="registry">Where the mirrored collectors live.</param>
    /// <param name="labels">Bounds label values.</param>
    /// <param name="options">Which meters to export.</param>
    /// <param name="latencyBuckets">Histogram bucket bounds in seconds.</param>
    /// <param name="logger">Reports export failures.</param>
    /// <param name="scope">
    /// The meter factory of this container: meters created by another container's factory (another host in the same
    /// process) are not exported here; meters created without a factory are.
    /// </param>
    public MeterPrometheusBridge(CollectorRegistry registry, MetricLabelPolicy labels, PrometheusExportOptions options, IReadOnlyList<double> latencyBuckets, ILogger logger, IMeterFactory? scope = null)
    {
        _scope = scope;
        _registry = registry;
        _labels = labels;
        _logger = logger;
        _meters = new HashSet<string>(options.Meters, StringComparer.Ordinal);
        if (options.ExportHttpMetrics)
        {
            _meters.Add(HttpMeterName);
        }

        if (options.ExportRuntimeMetrics)
        {
            _meters.Add(RuntimeMeterName);
        }

        _defaultBuckets = [.. latencyBuckets];
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.SetMeasurementEventCallback<double>(static (i, v, t, s) => ((InstrumentExport)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<float>(static (i, v, t, s) => ((InstrumentExport)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<long>(static (i, v, t, s) => ((InstrumentExport)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<int>(static (i, v, t, s) => ((InstrumentExport)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<short>(static (i, v, t, s) => ((InstrumentExport)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<byte>(static (i, v, t, s) => ((InstrumentExport)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, t, s) => ((InstrumentExport)s!).Record((double)v, t));
        _listener.Start();
        registry.AddBeforeCollectCallback(_listener.RecordObservableInstruments);
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_meters.Contains(instrument.Meter.Name)
            || MonitoringMetrics.IsNativelyExported(instrument)
            || (_scope is not null && instrument.Meter.Scope is not null && !ReferenceEquals(instrument.Meter.Scope, _scope)))
        {
            return;
        }

        var kind = KindOf(instrument);
        if (kind is null)
        {
            return;
        }

        listener.EnableMeasurementEvents(instrument, new InstrumentExport(this, instrument, kind.Value));
    }

    private static ExportKind? KindOf(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>))
        {
            return ExportKind.Counter;
        }

        if (definition == typeof(ObservableCounter<>))
        {
            return ExportKind.ObservableCounter;
        }

        if (definition == typeof(Histogram<>))
        {
            return ExportKind.Histogram;
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return ExportKind.UpDownCounter;
        }

        if (definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>))
        {
            return ExportKind.Gauge;
        }

        return null;
    }

    /// <summary>
    /// Translates an instrument name and unit to a Prometheus metric name: the unit becomes a suffix (<c>s</c>, <c>ms</c>,
    /// <c>us</c>, <c>ns</c>, <c>min</c>, <c>h</c> and <c>d</c> become <c>_seconds</c> with the value scaled; <c>By</c>
    /// <c>_bytes</c>; <c>%</c> <c>_percent</c>; <c>1</c> on a gauge <c>_ratio</c>) unless the name already has the unit
    /// as one of its words (<c>aiops.checkpoint.bytes_written</c> in bytes is <c>aiops_checkpoint_bytes_written_total</c>,
    /// not <c>..._bytes_written_bytes_total</c>); counters end in <c>_total</c>.
    /// </summary>
    internal static string PrometheusName(string name, string? unit, ExportKind kind, out double scale)
    {
        scale = 1;
        var sb = new StringBuilder(name.Length + 16);
        foreach (var c in name)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':' ? char.ToLowerInvariant(c) : '_');
        }

        (string? suffix, scale) = unit switch
        {
            "s" => ("seconds", 1d),
            "ms" => ("seconds", 1e-3),
            "us" => ("seconds", 1e-6),
            "ns" => ("seconds", 1e-9),
            "min" => ("seconds", 60d),
            "h" => ("seconds", 3_600d),
            "d" => ("seconds", 86_400d),
            "By" => ("bytes", 1d),
            "W" => ("watts", 1d),
            "Cel" => ("celsius", 1d),
            "%" => ("percent", 1d),
            "1" when kind is ExportKind.Gauge or ExportKind.UpDownCounter => ("ratio", 1d),
            _ => ((string?)null, 1d),
        };

        var result = sb.ToString();
        if (suffix is not null && !result.Split('_').Contains(suffix, StringComparer.Ordinal))
        {
            result += "_" + suffix;
        }

        if (kind is ExportKind.Counter or ExportKind.ObservableCounter && !result.EndsWith("_total", StringComparison.Ordinal))
        {
            result += "_total";
        }

        return result;
    }

    /// <summary>
    /// The tag keys of well-known instruments whose first measurement may lack some or carry rare ones (an unmatched
    /// route has no <c>http.route</c> but <c>aspnetcore.request.is_unhandled</c>, a success no <c>error.type</c>): their
    /// labels are exactly these, fixed up front; a missing tag is exported empty, another one is not exported.
    /// </summary>
    internal static string[]? KnownTagKeys(Instrument instrument) => (instrument.Meter.Name, instrument.Name) switch
    {
        (HttpMeterName, "http.server.request.duration") =>
            ["error.type", "http.request.method", "http.response.status_code", "http.route", "network.protocol.version", "url.scheme"],
        _ => null,
    };

    /// <summary>The ASP.NET Core hosting meter (<c>http.server.request.duration</c>, active requests).</summary>
    internal const string HttpMeterName = "Microsoft.AspNetCore.Hosting";

    /// <summary>The .NET runtime meter (.NET 9+: CPU, memory, GC, thread pool, JIT, exceptions).</summary>
    internal const string RuntimeMeterName = "System.Runtime";

    internal static string LabelName(string tagKey)
    {
        var sb = new StringBuilder(tagKey.Length);
        foreach (var c in tagKey)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, '_');
        }

        return sb.ToString();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Instrument {Instrument} of meter {Meter} cannot be exported to Prometheus as {Metric}: {Reason}")]
    private static partial void LogExportFailed(ILogger logger, string instrument, string meter, string metric, string reason);

    internal enum ExportKind
    {
        Counter,
        ObservableCounter,
        Histogram,
        UpDownCounter,
        Gauge,
    }

    /// <summary>The export state of one instrument.</summary>
    private sealed class InstrumentExport(MeterPrometheusBridge bridge, Instrument instrument, ExportKind kind)
    {
        private readonly Lock _initLock = new();
        private readonly ConcurrentDictionary<LabelKey, object> _children = new();
        private volatile State? _state;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var state = _state ?? Initialise(tags);
            if (state.Collector is null)
            {
                return;
            }

            var key = default(LabelKey);
            key.Count = state.TagKeys.Length;
            for (var n = 0; n < state.TagKeys.Length; n++)
            {
                key[n] = string.Empty;
            }

            // Map values in label order; model first so the version can be checked against it.
            string? model = null;
            object? rawVersion = null;
            var versionIndex = -1;
            object? rawFeature = null;
            var featureIndex = -1;
            foreach (var tag in tags)
            {
                var index = Array.IndexOf(state.TagKeys, tag.Key);
                if (index < 0)
                {
                    continue;
                }

                switch (state.Roles[index])
                {
                    case LabelRole.Model:
                        model = bridge._labels.MapModel(tag.Value);
                        key[index] = model;
                        break;
                    case LabelRole.Version:
                        rawVersion = tag.Value;
                        versionIndex = index;
                        break;
                    case LabelRole.Feature:
                        rawFeature = tag.Value;
                        featureIndex = index;
                        break;
                    default:
                        key[index] = state.Bounded[index]!.Map(tag.Value);
                        break;
                }
            }

            if (versionIndex >= 0)
            {
                key[versionIndex] = model is null ? MetricLabelPolicy.Other : bridge._labels.MapVersion(model, rawVersion);
            }

            if (featureIndex >= 0)
            {
                // Each model has its own feature budget: 40 features of one model never crowd out another's.
                key[featureIndex] = state.Features!.Map(model, rawFeature);
            }

            var child = _children.TryGetValue(key, out var existing)
                ? existing
                : _children.GetOrAdd(key, static (k, s) => s.Collector!.WithLabelsObject(k.ToArray()), state);
            value *= state.Scale;
            switch (child)
            {
                case Prometheus.Counter.Child counter when kind == ExportKind.Counter:
                    if (value > 0)
                    {
                        counter.Inc(value);
                    }

                    break;
                case Prometheus.Counter.Child counter:
                    counter.IncTo(value);
                    break;
                case Prometheus.Histogram.Child histogram:
                    histogram.Observe(value);
                    break;
                case Prometheus.Gauge.Child gauge when kind == ExportKind.UpDownCounter:
                    gauge.Inc(value);
                    break;
                case Prometheus.Gauge.Child gauge:
                    gauge.Set(value);
                    break;
            }
        }

        private State Initialise(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_initLock)
            {
                if (_state is not null)
                {
                    return _state;
                }

                var known = KnownTagKeys(instrument);
                var keys = new List<string>(known ?? []);
                foreach (var tag in tags)
                {
                    if (known is null && !keys.Contains(tag.Key))
                    {
                        keys.Add(tag.Key);
                    }
                }

                keys.Sort(StringComparer.Ordinal);
                if (keys.Count > LabelKey.MaxLabels)
                {
                    keys.RemoveRange(LabelKey.MaxLabels, keys.Count - LabelKey.MaxLabels);
                }

                var tagKeys = keys.ToArray();
                var roles = new LabelRole[tagKeys.Length];
                var bounded = new BoundedLabelValues?[tagKeys.Length];
                for (var n = 0; n < tagKeys.Length; n++)
                {
                    roles[n] = tagKeys[n] switch
                    {
                        "model" => LabelRole.Model,
                        "version" => LabelRole.Version,
                        "feature" => LabelRole.Feature,
                        _ => LabelRole.Other,
                    };
                    bounded[n] = roles[n] != LabelRole.Other ? null
                        : new BoundedLabelValues(
                            tagKeys[n] == "bin" ? Math.Max(bridge._labels.MaxValuesPerLabel, MinBinLabels) : bridge._labels.MaxValuesPerLabel,
                            routeTemplates: tagKeys[n] == "http.route");
                }

                var features = roles.Contains(LabelRole.Feature) ? new PerModelLabelValues(bridge._labels.MaxFeaturesPerModel) : null;

                var name = PrometheusName(instrument.Name, instrument.Unit, kind, out var scale);
                var labelNames = Array.ConvertAll(tagKeys, LabelName);
                var help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
                ICollectorAdapter? collector = null;
                try
                {
                    var factory = Prometheus.Metrics.WithCustomRegistry(bridge._registry);
                    collector = kind switch
                    {
                        ExportKind.Counter or ExportKind.ObservableCounter => new CounterAdapter(factory.CreateCounter(name, help, labelNames)),
                        ExportKind.Histogram => new HistogramAdapter(factory.CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = BucketsOf(instrument, bridge._defaultBuckets) })),
                        _ => new GaugeAdapter(factory.CreateGauge(name, help, labelNames)),
                    };
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
                {
                    LogExportFailed(bridge._logger, instrument.Name, instrument.Meter.Name, name, ex.Message);
                }

                _state = new State(tagKeys, roles, bounded, collector, scale) { Features = features };
                return _state;
            }
        }

        private static double[] BucketsOf(Instrument instrument, double[] defaults)
        {
            var advised = instrument switch
            {
                Histogram<double> d => d.Advice?.HistogramBucketBoundaries?.ToArray(),
                Histogram<float> f => f.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
                Histogram<long> l => l.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
                Histogram<int> i => i.Advice?.HistogramBucketBoundaries?.Select(x => (double)x).ToArray(),
                _ => null,
            };
            // Durations of meters outside AiOps (the HTTP server advises 5 ms up) get the latency buckets, so
            // sub-millisecond requests are resolved the same way as the model calls.
            var isDuration = instrument.Unit is "s" or "ms";
            if (advised is { Length: > 0 } && !(isDuration && !instrument.Meter.Name.StartsWith("AiOps.", StringComparison.Ordinal)))
            {
                return advised;
            }

            // Durations get the latency buckets; counts such as batch sizes get powers of two.
            return isDuration ? defaults : [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
        }
    }

    private sealed record State(string[] TagKeys, LabelRole[] Roles, BoundedLabelValues?[] Bounded, ICollectorAdapter? Collector, double Scale)
    {
        public PerModelLabelValues? Features { get; init; }
    }

    private enum LabelRole
    {
        Other,
        Model,
        Version,
        Feature,
    }

    private interface ICollectorAdapter
    {
        object WithLabelsObject(string[] values);
    }

    private sealed class CounterAdapter(Prometheus.Counter collector) : ICollectorAdapter
    {
        public object WithLabelsObject(string[] values) => collector.WithLabels(values);
    }

    private sealed class HistogramAdapter(Prometheus.Histogram collector) : ICollectorAdapter
    {
        public object WithLabelsObject(string[] values) => collector.WithLabels(values);
    }

    private sealed class GaugeAdapter(Prometheus.Gauge collector) : ICollectorAdapter
    {
        public object WithLabelsObject(string[] values) => collector.WithLabels(values);
    }
}

/// <summary>A tuple of up to <see cref="MaxLabels"/> label values, compared by value, without allocation.</summary>
internal struct LabelKey : IEquatable<LabelKey>
{
    public const int MaxLabels = 8;

    private Buffer _values;

    public int Count { get; set; }

    public string this[int index]
    {
        readonly get => _values[index];
        set => _values[index] = value;
    }

    public readonly string[] ToArray()
    {
        var result = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            result[i] = _values[i];
        }

        return result;
    }

    public readonly bool Equals(LabelKey other)
    {
        if (Count != other.Count)
        {
            return false;
        }

        for (var i = 0; i < Count; i++)
        {
            if (!ReferenceEquals(_values[i], other._values[i]) && !string.Equals(_values[i], other._values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public override readonly bool Equals(object? obj) => obj is LabelKey other && Equals(other);

    public override readonly int GetHashCode()
    {
        var hash = default(HashCode);
        for (var i = 0; i < Count; i++)
        {
            hash.Add(_values[i], StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    public static bool operator ==(LabelKey left, LabelKey right) => left.Equals(right);

    public static bool operator !=(LabelKey left, LabelKey right) => !left.Equals(right);

    [InlineArray(MaxLabels)]
    private struct Buffer
    {
        private string _element;
    }
}
