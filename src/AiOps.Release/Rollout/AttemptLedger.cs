using System.Collections.Concurrent;

namespace AiOps.Release.Rollout;

/// <summary>
/// Counts the attempts of a version that its runner never completed, so no per-version metrics source (AiOps.Monitoring
/// records completed calls only) can see them: calls short-circuited by the open circuit breaker, attempts cancelled by
/// the attempt or total timeout (a hung version), and calls to a version not loaded in this process. The rollout
/// judge adds them to the version's requests and failures (and timeouts to its latency), so an open breaker or a hang
/// never hides a failing canary from the gates. Time buckets of 10 s over the last 24 h; thread-safe, lock per version.
/// </summary>
internal sealed class AttemptLedger
{
    private static readonly TimeSpan BucketWidth = TimeSpan.FromSeconds(10);
    private const int BucketCount = 24 * 360 + 1;

    private readonly ConcurrentDictionary<ModelKey, Series> _series = new();
    private readonly TimeProvider _time;

    public AttemptLedger(TimeProvider time) => _time = time;

    /// <summary>Records one attempt the runner never completed.</summary>
    /// <param name="key">The version.</param>
    /// <param name="latencyMs">How long the caller waited for it (timeouts), or <see langword="null"/> when it never ran (short-circuit, not loaded).</param>
    public void RecordUnseenFailure(ModelKey key, double? latencyMs) =>
        _series.GetOrAdd(key, static _ => new Series()).Add(Index(_time.GetUtcNow()), latencyMs);

    /// <summary>The unseen failures of a version in [<paramref name="since"/>, now], with the latency of those that waited.</summary>
    public (long Failures, IReadOnlyList<double> LatencySamplesMs) Read(ModelKey key, DateTimeOffset since)
    {
        if (!_series.TryGetValue(key, out var series))
        {
            return (0, []);
        }

        var now = Index(_time.GetUtcNow());
        return series.Read(Math.Max(Index(since), now - BucketCount + 1), now);
    }

    private static long Index(DateTimeOffset at) => at.UtcTicks / BucketWidth.Ticks;

    private sealed class Series
    {
        private const int MaxSamplesPerBucket = 64;
        private readonly Lock _lock = new();
        private readonly long[] _index = Enumerable.Repeat(-1L, BucketCount).ToArray();
        private readonly long[] _failures = new long[BucketCount];
        private readonly double[] _latencySum = new double[BucketCount];
        private readonly long[] _latencyCount = new long[BucketCount];

        public void Add(long index, double? latencyMs)
        {
            var slot = (int)(index % BucketCount);
            lock (_lock)
            {
                if (_index[slot] != index)
                {
                    _index[slot] = index;
                    _failures[slot] = 0;
                    _latencySum[slot] = 0;
                    _latencyCount[slot] = 0;
                }

                _failures[slot]++;
                if (latencyMs is { } ms)
                {
                    _latencySum[slot] += ms;
                    _latencyCount[slot]++;
                }
            }
        }

        public (long Failures, IReadOnlyList<double> LatencySamplesMs) Read(long from, long to)
        {
            long failures = 0;
            var samples = new List<double>();
            lock (_lock)
            {
                for (var i = from; i <= to; i++)
                {
                    var slot = (int)(i % BucketCount);
                    if (_index[slot] != i)
                    {
                        continue;
                    }

                    failures += _failures[slot];
                    if (_latencyCount[slot] > 0)
                    {
                        // The mean wait of the bucket's timeouts, once per timeout (bounded): enough for percentiles and the judge.
                        var mean = _latencySum[slot] / _latencyCount[slot];
                        for (var n = 0; n < Math.Min(_latencyCount[slot], MaxSamplesPerBucket); n++)
                        {
                            samples.Add(mean);
                        }
                    }
                }
            }

            return (failures, samples);
        }
    }
}
