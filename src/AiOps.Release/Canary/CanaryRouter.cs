using System.Runtime.CompilerServices;
using AiOps.Routing;

namespace AiOps.Release.Canary;

/// <summary>An immutable snapshot of a model's traffic split, swapped atomically when the state store changes.</summary>
/// <param name="Stable">The stable version, or <see langword="null"/> when none is known yet.</param>
/// <param name="Canary">The canary, or <see langword="null"/> when no rollout is progressing.</param>
/// <param name="CanaryBuckets">The canary's share in basis points (0–10 000).</param>
/// <param name="Revision">The state revision this came from (0 when no state was written).</param>
internal sealed record RouteTable(ModelVersion? Stable, ModelVersion? Canary, int CanaryBuckets, long Revision)
{
    public static RouteTable Empty { get; } = new(null, null, 0, -1);

    /// <summary>The store generation of the state (<see cref="AiOps.State.RolloutState.Epoch"/>).</summary>
    public string? Epoch { get; init; }

    /// <summary>Whether this table comes from a decision of this process not yet confirmed by the store (a write that failed and is retried).</summary>
    public bool Provisional { get; init; }

    /// <summary>The sticky-hash seed of this rollout's split.</summary>
    public ulong Seed { get; init; }

    public double CanaryWeightPercent => Canary is null ? 0 : CanaryBuckets / (StickyHash.Buckets / 100.0);
}

/// <summary>
/// Picks stable or canary for a request: an explicit pin wins; otherwise the sticky hash of the routing key falls in
/// the canary's buckets or not. Buckets below the weight go to the canary, so raising the weight only moves users
/// from stable to canary, never back. The hash seed comes with the table: one per rollout (model and candidate by
/// default), so each release samples its own users and a user keeps its side throughout a rollout. Allocation-free.
/// </summary>
internal sealed class CanaryRouter
{
    private volatile RouteTable _table = RouteTable.Empty;

    public CanaryRouter(ModelId model) => Model = model;

    public ModelId Model { get; }

    public RouteTable Table => _table;

    /// <summary>
    /// Installs a newer table: one of another store generation (a reset store counts its revisions again), a higher
    /// revision, or the store's own table of the same revision over a provisional one. Anything else is ignored.
    /// </summary>
    /// <returns>Whether the table was installed.</returns>
    public bool Update(RouteTable table, bool force = false)
    {
        while (true)
        {
            var current = _table;
            var newer = force
                || (table.Epoch is not null && !string.Equals(table.Epoch, current.Epoch, StringComparison.Ordinal))
                || table.Revision > current.Revision
                || (table.Revision == current.Revision && (current.Provisional || !table.Provisional));
            if (!newer)
            {
                return false;
            }

#pragma warning disable CS0420 // volatile field passed by reference: Interlocked gives the needed ordering
            if (ReferenceEquals(Interlocked.CompareExchange(ref _table, table, current), current))
#pragma warning restore CS0420
            {
                return true;
            }
        }
    }

    /// <summary>Routes one request.</summary>
    /// <param name="routingKey">The sticky key (user or account id); <see langword="null"/> routes at random by weight.</param>
    /// <param name="pinned">An explicit version; wins over the weights.</param>
    /// <exception cref="ModelNotFoundException">No stable version is known for the model.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RoutingDecision Route(string? routingKey, ModelVersion? pinned = null)
    {
        if (pinned is { } p)
        {
            return new RoutingDecision(p, RouteReason.Override);
        }

        var t = _table;
        if (t.Stable is not { } stable)
        {
            return ThrowNoStable();
        }

        if (t.Canary is not { } canary || t.CanaryBuckets <= 0)
        {
            return new RoutingDecision(stable, RouteReason.Stable);
        }

        var bucket = routingKey is null
#pragma warning disable CA5394 // not security: requests without a routing key are split at random by weight, by design
            ? Random.Shared.Next(StickyHash.Buckets)
#pragma warning restore CA5394
            : StickyHash.Bucket(StickyHash.Hash(routingKey, t.Seed));
        return bucket < t.CanaryBuckets
            ? new RoutingDecision(canary, RouteReason.CanaryWeight)
            : new RoutingDecision(stable, RouteReason.StableWeight);
    }

    private RoutingDecision ThrowNoStable() =>
        throw new ModelNotFoundException(
            $"No stable version of model '{Model}' is known: set ModelReleaseOptions.StableVersion, the registry alias 'stable', or load a version of it.");
}
