using System.Security.Cryptography;
using System.Text;
using AiOps.Release.Canary;
using AiOps.Routing;
using BenchmarkDotNet.Attributes;

namespace AiOps.Benchmarks;

/// <summary>
/// One routing decision (sticky hash of the routing key + weight lookup) against what a user would otherwise write:
/// a SHA-256 split of the key (sticky, but slow and allocating), or Random (not sticky at all).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ReleaseRoutingBenchmarks
{
    private readonly CanaryRouter _router = new(new ModelId("fraud"));
    private readonly string[] _keys = Enumerable.Range(0, 1024).Select(i => $"user-{i * 7919:D8}").ToArray();
    private int _next;

    [GlobalSetup]
    public void Setup() => _router.Update(new RouteTable("1", "2", StickyHash.ToBuckets(10), 1));

    [Benchmark(Baseline = true, Description = "naive sticky: SHA-256 of the key")]
    public bool Sha256Split()
    {
        var key = _keys[_next++ & 1023];
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("fraud:" + key));
        return BitConverter.ToUInt32(hash, 0) % 100 < 10;
    }

    [Benchmark(Description = "not sticky: Random.Shared.NextDouble() < weight")]
#pragma warning disable CA5394 // the baseline users write
    public bool RandomSplit() => Random.Shared.NextDouble() * 100 < 10;
#pragma warning restore CA5394

    [Benchmark(Description = "AiOps CanaryRouter.Route (sticky hash + weight)")]
    public RoutingDecision Route() => _router.Route(_keys[_next++ & 1023]);
}
