using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace AiOps.Release.Resilience;

/// <summary>
/// Registers and names the Polly pipelines of a model's request path: one for stable calls and one for canary calls,
/// so a failing canary opens only its own breaker (its calls then fall back to stable at once) and never blocks
/// stable traffic. Order, outside in: total timeout, retry (transient only), circuit breaker, attempt timeout.
/// </summary>
internal static class ReleasePipelines
{
    public static string StableKey(ModelId model) => $"aiops-release:{model.Value}:stable";

    public static string CanaryKey(ModelId model) => $"aiops-release:{model.Value}:canary";

    public static void Register(IServiceCollection services, ModelId model)
    {
        services.AddResiliencePipeline<string, ModelResponse>(StableKey(model), (builder, context) => Configure(builder, context.ServiceProvider, model));
        services.AddResiliencePipeline<string, ModelResponse>(CanaryKey(model), (builder, context) => Configure(builder, context.ServiceProvider, model));
    }

    /// <summary>Whether a failure is transient (worth retrying): at capacity, not ready yet, or an attempt timed out.</summary>
    public static bool IsTransient(Exception ex) => ex is ModelRejectedException or ModelNotReadyException or TimeoutRejectedException;

    /// <summary>Whether a failure counts against the version's health (not the caller's bad input, not a cancellation).</summary>
    public static bool CountsAsFailure(Exception ex) => ex is not (ModelInputException or OperationCanceledException or ModelNotFoundException);

    private static void Configure(ResiliencePipelineBuilder<ModelResponse> builder, IServiceProvider services, ModelId model)
    {
        var o = services.GetRequiredService<IOptionsMonitor<ModelReleaseOptions>>().Get(model.Value).Resilience;
        builder.TimeProvider = services.GetRequiredService<TimeProvider>();
        builder.AddTimeout(o.Timeout);
        if (o.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<ModelResponse>
            {
                MaxRetryAttempts = o.MaxRetryAttempts,
                Delay = o.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = o.RetryDelay > TimeSpan.Zero,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } ex && IsTransient(ex)),
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ModelResponse>
        {
            FailureRatio = o.BreakerFailureRatio,
            MinimumThroughput = o.BreakerMinimumThroughput,
            SamplingDuration = o.BreakerSamplingDuration,
            BreakDuration = o.BreakerBreakDuration,
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } ex && CountsAsFailure(ex)),
        });
        builder.AddTimeout(o.AttemptTimeout);
    }
}
