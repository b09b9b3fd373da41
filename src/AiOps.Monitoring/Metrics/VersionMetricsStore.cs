using AiOps.Drift;
using System.Collections.Concurrent;
using AiOps.Metrics;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Metrics;

/// <summary>
/// Per-version observations recorded by monitored runners: a bounded ring of time-stamped latency samples (exact for
/// the period it covers) and time buckets of request/failure counts for longer periods. Implements
/// <see cref="IVersionMetricsSource"/> for the rollout controller and the alert rules.
/// </summary>
internal sealed class VersionMetricsStore : IVersionMetricsSource
{
    private readonly ConcurrentDictionary<ModelKey, VersionSeries> _series = new();
    private readonly TimeProvider _time;
    private readonly VersionMetricsOptions _options;
    private readonly IVersionAccuracyProvider? _accuracy;
    private readonly IVersionDriftProvider? _drift;

    public VersionMetricsStore(
        TimeProvider time,
        IOptions<AiOpsMonitoringOptions> options,
        IVersionAccuracyProvider? accuracy = null,
        IVersionDriftProvider? drift = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _options = options.Value.VersionMetrics;
        _accuracy = accuracy;
        _drift = drift;
    }

    /// <summary>The versions that have a series (recorded at least once or attached to a monitored runner).</summary>
    public ICollection<ModelKey> Keys => _series.Keys;

    /// <summary>The optional accuracy provider.</summary>
    public IVersionAccuracyProvider? AccuracyProvider => _accuracy;

    /// <summary>The optional drift provider.</summary>
    public IVersionDriftProvider? DriftProvider => _drift;

    /// <summary>Returns the series of <paramref name="key"/>, creating it.</summary>
    public VersionSeries GetOrAdd(ModelKey key) =>
        _series.GetOrAdd(key, static (k, s) => new VersionSeries(k, s._time, s._options), this);

    /// <summary>Whether a series exists.</summary>
    public bool TryGet(ModelKey key, out VersionSeries? series) => _series.TryGetValue(key, out series);

    /// <inheritdoc />
    public ValueTask<VersionMetricsSnapshot> GetSnapshotAsync(ModelKey key, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(GetSnapshot(key, since));
    }

    /// <summary>Synchronous form of <see cref="GetSnapshotAsync"/>.</summary>
    public VersionMetricsSnapshot GetSnapshot(ModelKey key, DateTimeOffset since)
    {
        var now = _time.GetUtcNow();
        VersionMetricsSnapshot snapshot;
        if (_series.TryGetValue(key, out var series))
        {
            var (requests, failures, samples) = series.Read(since, now);
            snapshot = new VersionMetricsSnapshot(key, since, now, requests, failures, samples);
        }
        else
        {
            snapshot = new VersionMetricsSnapshot(key, since, now, 0, 0, []);
        }

        return snapshot with
        {
            Accuracy = _accuracy?.GetAccuracy(key, since),
            // A range with no judgeable window is "drift unknown" (null) to the gates, never a pass as stable.
            Drift = _drift?.GetWorstSeverity(key, since) is { } drift && drift != DriftSeverity.InsufficientData ? drift : null,
        };
    }
}

/// <summary>The observations of one model version.</summary>
internal sealed class VersionSeries
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long[] _sampleTimestamps;
    private readonly float[] _sampleMs;
    private readonly bool[] _sampleFailed;
    private readonly long[] _bucketIndex;
    private readonly long[] _bucketRequests;
    private readonly long[] _bucketFailures;
    private readonly long _bucketTicks;
    private int _next;
    private int _count;

    public VersionSeries(ModelKey key, TimeProvider time, VersionMetricsOptions options)
    {
        Key = key;
        _time = time;
        _sampleTimestamps = new long[options.SampleCapacity];
        _sampleMs = new float[options.SampleCapacity];
        _sampleFailed = new bool[options.SampleCapacity];
        var buckets = (int)Math.Max(1, Math.Ceiling(options.Retention / options.BucketWidth)) + 1;
        _bucketIndex = new long[buckets];
        Array.Fill(_bucketIndex, -1);
        _bucketRequests = new long[buckets];
        _bucketFailures = new long[buckets];
        _bucketTicks = Math.Max(1, (long)(options.BucketWidth.TotalSeconds * time.TimestampFrequency));
    }

    /// <summary>The model version.</summary>
    public ModelKey Key { get; }

    /// <summary>The runner being monitored for this version, when one is attached (for the unavailable rule).</summary>
    public IModelRunner? Runner { get; set; }

    /// <summary>Records one completed call.</summary>
    /// <param name="timestamp">The completion time, from <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <param name="latencyMs">The latency in milliseconds.</param>
    /// <param name="failed">Whether the call failed.</param>
    public void Record(long timestamp, double latencyMs, bool failed)
    {
        var bucket = timestamp / _bucketTicks;
        var slot = (int)(bucket % _bucketIndex.Length);
        lock (_lock)
        {
            var i = _next;
            _sampleTimestamps[i] = timestamp;
            _sampleMs[i] = (float)latencyMs;
            _sampleFailed[i] = failed;
            _next = i + 1 == _sampleTimestamps.Length ? 0 : i + 1;
            if (_count < _sampleTimestamps.Length)
            {
                _count++;
            }

            if (_bucketIndex[slot] != bucket)
            {
                _bucketIndex[slot] = bucket;
                _bucketRequests[slot] = 0;
                _bucketFailures[slot] = 0;
            }

            _bucketRequests[slot]++;
            if (failed)
            {
                _bucketFailures[slot]++;
            }
        }
    }

    /// <summary>
    /// Reads the period from <paramref name="since"/> to <paramref name="now"/>. Counts are exact while the sample ring
    /// still covers the period; beyond it they come from the time buckets (bucket granularity).
    /// </summary>
    public (long Requests, long Failures, double[] SamplesMs) Read(DateTimeOffset since, DateTimeOffset now)
    {
        var nowTs = _time.GetTimestamp();
        var back = now - since;
        long sinceTs;
        if (back <= TimeSpan.Zero)
        {
            sinceTs = nowTs - (long)(back.TotalSeconds * _time.TimestampFrequency);
        }
        else
        {
            var backTicks = back.TotalSeconds * _time.TimestampFrequency;
            sinceTs = backTicks >= nowTs ? long.MinValue : nowTs - (long)backTicks;
        }

        lock (_lock)
        {
            var samples = new List<double>(Math.Min(_count, 1024));
            long requests = 0;
            long failures = 0;
            var oldest = _count == 0 ? long.MaxValue : _sampleTimestamps[(_next - _count + _sampleTimestamps.Length) % _sampleTimestamps.Length];
            for (var n = 0; n < _count; n++)
            {
                var i = (_next - _count + n + _sampleTimestamps.Length) % _sampleTimestamps.Length;
                if (_sampleTimestamps[i] >= sinceTs && _sampleTimestamps[i] <= nowTs)
                {
                    samples.Add(_sampleMs[i]);
                    requests++;
                    if (_sampleFailed[i])
                    {
                        failures++;
                    }
                }
            }

            var ringCoversPeriod = _count < _sampleTimestamps.Length || oldest < sinceTs;
            if (!ringCoversPeriod)
            {
                requests = 0;
                failures = 0;
                var firstBucket = sinceTs == long.MinValue ? long.MinValue : sinceTs / _bucketTicks;
                for (var s = 0; s < _bucketIndex.Length; s++)
                {
                    if (_bucketIndex[s] >= firstBucket && _bucketIndex[s] >= 0)
                    {
                        requests += _bucketRequests[s];
                        failures += _bucketFailures[s];
                    }
                }
            }

            return (requests, failures, samples.ToArray());
        }
    }
}
