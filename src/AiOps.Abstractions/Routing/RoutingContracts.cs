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

/// <summary>The traffic split of a model at one moment.</summary>
/// <param name="Model">The model.</param>
/// <param name="Stable">The stable version.</param>
/// <param name="Canary">The candidate version, or <see langword="null"/> when no rollout is in progress.</param>
/// <param name="CanaryWeightPercent">The share of traffic (0–100) for the candidate.</param>
/// <param name="ShadowVersion">A version that receives a copy of every request for comparison, never answering; optional.</param>
public sealed record TrafficSplit(ModelId Model, ModelVersion Stable, ModelVersion? Canary, double CanaryWeightPercent, ModelVersion? ShadowVersion = null)
{
    /// <summary>Validates the weight.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The weight is outside 0–100 or not a number.</exception>
    public void Validate()
    {
        if (double.IsNaN(CanaryWeightPercent) || CanaryWeightPercent is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(CanaryWeightPercent), CanaryWeightPercent, $"Canary weight of {Model} must be between 0 and 100.");
        }
    }
}
