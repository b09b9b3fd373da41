namespace AiOps;

/// <summary>
/// Runs one version of one model on named tensors. Implementations are thread-safe: many callers may run
/// concurrently. Decorators (monitoring, resilience) derive from <see cref="DelegatingModelRunner"/>.
/// </summary>
public interface IModelRunner
{
    /// <summary>The model version this runner serves.</summary>
    ModelKey Key { get; }

    /// <summary>The model's inputs and outputs.</summary>
    ModelMetadata Metadata { get; }

    /// <summary>Whether the runner is ready, degraded or failed, and why.</summary>
    ModelRunnerStatus Status { get; }

    /// <summary>Runs the model once.</summary>
    /// <param name="request">The inputs.</param>
    /// <param name="cancellationToken">Cancels the call; a run already in native code is asked to terminate.</param>
    /// <returns>
    /// The outputs. Like any <see cref="ValueTask{TResult}"/> it may be backed by a pooled source: await it once (or call
    /// <see cref="ValueTask{TResult}.AsTask"/> once), never twice.
    /// </returns>
    /// <exception cref="ModelInputException">An input does not match the model's signature.</exception>
    /// <exception cref="ModelRejectedException">The runner is at capacity; retry later.</exception>
    /// <exception cref="ModelNotReadyException">The model is not loaded or warmed up yet.</exception>
    /// <exception cref="OperationCanceledException">The call was cancelled or timed out.</exception>
    ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default);
}

/// <summary>Readiness of a model runner, with Triton's live/ready split in mind.</summary>
public enum ModelReadiness
{
    /// <summary>Loading or warming up: live, not ready.</summary>
    NotReady = 0,

    /// <summary>Serving on the preferred execution provider.</summary>
    Ready,

    /// <summary>Serving, but on a fallback (e.g. CPU because CUDA could not be used).</summary>
    Degraded,

    /// <summary>Cannot serve (the model failed to load).</summary>
    Failed,
}

/// <summary>A runner's readiness, the execution provider in use and the reason for anything but <see cref="ModelReadiness.Ready"/>.</summary>
/// <param name="Readiness">The readiness.</param>
/// <param name="ExecutionProvider">The active execution provider (<c>CUDA</c>, <c>CPU</c>, …), or <see langword="null"/> when none.</param>
/// <param name="Reason">Why the runner is not plainly ready (e.g. the exact CUDA failure); <see langword="null"/> when ready.</param>
public sealed record ModelRunnerStatus(ModelReadiness Readiness, string? ExecutionProvider, string? Reason)
{
    /// <summary>Whether calls are being served (ready or degraded).</summary>
    public bool IsServing => Readiness is ModelReadiness.Ready or ModelReadiness.Degraded;
}
