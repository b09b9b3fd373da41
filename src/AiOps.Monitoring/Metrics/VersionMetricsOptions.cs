namespace AiOps.Monitoring.Metrics;

/// <summary>How the per-version metrics store (<see cref="AiOps.Metrics.IVersionMetricsSource"/>) keeps observations.</summary>
public sealed class VersionMetricsOptions
{
    /// <summary>Latency samples kept per model version (the newest win). Default 8192.</summary>
    public int SampleCapacity { get; set; } = 8192;

    /// <summary>Width of one request/failure counting bucket. Default 10 seconds.</summary>
    public TimeSpan BucketWidth { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back request and failure counts are kept. Default 24 hours.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);
}
