namespace AiOps.Routing;

/// <summary>Why a request went to the version it did.</summary>
public enum RouteReason
{
    /// <summary>No rollout in progress: the stable version.</summary>
    Stable = 0,

    /// <summary>The sticky hash of the routing key fell inside the canary's weight.</summary>
    CanaryWeight,

    /// <summary>The sticky hash fell outside the canary's weight.</summary>
    StableWeight,

    /// <summary>The request pinned a version explicitly.</summary>
    Override,

    /// <summary>The stable version answered after the canary failed the call.</summary>
    Fallback,
}

/// <summary>The version a request is routed to, and why.</summary>
/// <param name="Version">The chosen version.</param>
/// <param name="Reason">Why it was chosen.</param>
public readonly record struct RoutingDecision(ModelVersion Version, RouteReason Reason);
