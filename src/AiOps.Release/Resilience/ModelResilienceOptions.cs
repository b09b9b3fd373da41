namespace AiOps.Release.Resilience;

/// <summary>
/// The resilience of a model's request path (Polly v8): a total timeout, retries of transient failures only
/// (rejected, not ready, attempt timed out; never bad input), a circuit breaker per version role, and fallback to the
/// stable version when the canary fails a call.
/// </summary>
public sealed class ModelResilienceOptions
{
    /// <summary>The time a call may take in all, retries included. Default: 3 seconds (the field's P1 latency).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The time one attempt may take. Default: 1 second.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many times a transient failure is retried (0–10). Default: 2.</summary>
    public int MaxRetryAttempts { get; set; } = 2;

    /// <summary>The base delay between retries (exponential with jitter); zero retries at once. Default: 50 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The failure ratio (0–1] over <see cref="BreakerSamplingDuration"/> that opens the breaker. Default: 0.5.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>The fewest calls in a sampling period before the breaker may open (at least 2). Default: 20.</summary>
    public int BreakerMinimumThroughput { get; set; } = 20;

    /// <summary>The period failures are counted over (at least 0.5 s). Default: 30 seconds.</summary>
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the breaker stays open (at least 0.5 s). Default: 15 seconds.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Whether a failed canary call is answered by the stable version. Default: <see langword="true"/>.</summary>
    public bool FallbackToStable { get; set; } = true;
}
