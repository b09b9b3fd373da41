namespace AiOps;

/// <summary>
/// Base class for runner decorators: forwards everything to <see cref="Inner"/>. Override
/// <see cref="RunAsync"/> to add behaviour around the call.
/// </summary>
public abstract class DelegatingModelRunner : IModelRunner
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The runner to delegate to.</param>
    protected DelegatingModelRunner(IModelRunner inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped runner.</summary>
    protected IModelRunner Inner { get; }

    /// <inheritdoc />
    public virtual ModelKey Key => Inner.Key;

    /// <inheritdoc />
    public virtual ModelMetadata Metadata => Inner.Metadata;

    /// <inheritdoc />
    public virtual ModelRunnerStatus Status => Inner.Status;

    /// <inheritdoc />
    public virtual ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default) =>
        Inner.RunAsync(request, cancellationToken);
}
