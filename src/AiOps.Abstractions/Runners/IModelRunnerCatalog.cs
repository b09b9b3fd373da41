namespace AiOps;

/// <summary>
/// The model versions a process serves, by <see cref="ModelKey"/>. The inference package fills it; the canary
/// router looks up the stable and candidate runners through it, so it never references the inference package.
/// </summary>
public interface IModelRunnerCatalog
{
    /// <summary>Every loaded model version.</summary>
    IReadOnlyCollection<ModelKey> Keys { get; }

    /// <summary>Finds the runner of a model version.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="runner">The runner, when found.</param>
    /// <returns>Whether the version is loaded.</returns>
    bool TryGetRunner(ModelKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IModelRunner? runner);
}

/// <summary>
/// What a service calls to run a model by name: routing (stable or canary), resilience and fallback sit behind it.
/// </summary>
public interface IModelClient
{
    /// <summary>The model this client serves.</summary>
    ModelId Model { get; }

    /// <summary>Runs the model, choosing the version by the rollout's weights and the request's routing key.</summary>
    /// <param name="request">The inputs and routing key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The outputs and the version that produced them.</returns>
    ValueTask<ModelResponse> InferAsync(ModelRequest request, CancellationToken cancellationToken = default);
}
