namespace AiOps.Release.Shadow;

/// <summary>
/// Shadow traffic: after the caller's answer is ready, a copy of the request is queued for <see cref="Version"/>; its
/// answer is compared with the caller's and recorded, never returned. The queue is bounded; a full queue drops the
/// copy (counted) rather than slow the caller.
/// </summary>
public sealed class ShadowOptions
{
    /// <summary>The version that receives copies; <see langword="null"/> disables shadow traffic.</summary>
    public string? Version { get; set; }

    /// <summary>The most copies waiting (at least 1). Default: 1000.</summary>
    public int QueueCapacity { get; set; } = 1000;

    /// <summary>The largest absolute difference between two output elements still counted as a match (at least 0). Default: 1e-4.</summary>
    public double Tolerance { get; set; } = 1e-4;

    /// <summary>How many recent comparisons are kept per model (at least 1). Default: 200.</summary>
    public int LogCapacity { get; set; } = 200;

    /// <summary>The time a shadow call may take. Default: 5 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
