using System.Runtime.CompilerServices;

namespace AiOps.Release.Canary;

/// <summary>
/// The sticky assignment hash: FNV-1a over the UTF-16 code units of the routing key, seeded with the model name,
/// followed by the MurmurHash3 64-bit finaliser for avalanche. Unlike <see cref="string.GetHashCode()"/> it is the
/// same in every process and on every machine, so a user stays on one version across calls and replicas; seeding by
/// rollout (model and candidate, or <see cref="ModelReleaseOptions.RoutingSeed"/>) keeps the splits of different models
/// and of different releases independent.
/// </summary>
internal static class StickyHash
{
    /// <summary>The number of buckets a weight is expressed in (basis points: 0.01 %).</summary>
    public const int Buckets = 10_000;

    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>Hashes a key with a seed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(ReadOnlySpan<char> key, ulong seed)
    {
        var h = FnvOffset ^ seed;
        foreach (var c in key)
        {
            h ^= c;
            h *= FnvPrime;
        }

        return Finalise(h);
    }

    /// <summary>The seed for a model: the hash of its name.</summary>
    public static ulong SeedFor(ModelId model) => Hash(model.Value, 0);

    /// <summary>Maps a hash to a bucket in [0, <see cref="Buckets"/>) without modulo bias worth noting (multiply-high).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bucket(ulong hash) => (int)Math.BigMul(hash, Buckets, out _);

    /// <summary>Converts a weight in percent (0–100) to buckets.</summary>
    public static int ToBuckets(double weightPercent) =>
        (int)Math.Clamp(Math.Round(weightPercent * (Buckets / 100.0), MidpointRounding.AwayFromZero), 0, Buckets);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Finalise(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
