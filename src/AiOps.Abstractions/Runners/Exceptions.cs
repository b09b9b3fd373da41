namespace AiOps;

/// <summary>Base type of the failures AiOps reports that a caller can act on.</summary>
public abstract class AiOpsException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened and what was expected.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    protected AiOpsException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>The model version concerned, when known.</summary>
    public ModelKey? Key { get; init; }
}

/// <summary>An input does not match the model's signature (HTTP 400). Never retried.</summary>
public sealed class ModelInputException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="inputName">The input at fault, or <see langword="null"/> for the request as a whole.</param>
    /// <param name="message">What was expected and what was given.</param>
    public ModelInputException(string? inputName, string message)
        : base(message) => InputName = inputName;

    /// <summary>The input at fault, or <see langword="null"/> for the request as a whole.</summary>
    public string? InputName { get; }
}

/// <summary>The runner is at capacity (its queue is full); the host maps this to HTTP 429 or 503. Transient.</summary>
public sealed class ModelRejectedException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the call was rejected.</param>
    public ModelRejectedException(string message)
        : base(message)
    {
    }
}

/// <summary>The model is not loaded or not warmed up yet (HTTP 503). Transient.</summary>
public sealed class ModelNotReadyException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the model is not ready.</param>
    /// <param name="innerException">The load failure, if any.</param>
    public ModelNotReadyException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>No such model or version is registered (HTTP 404).</summary>
public sealed class ModelNotFoundException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which model or version was asked for and which exist.</param>
    public ModelNotFoundException(string message)
        : base(message)
    {
    }
}

/// <summary>A model file could not be loaded (corrupt, hash mismatch, unsupported operator).</summary>
public sealed class ModelLoadException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which file failed and why.</param>
    /// <param name="innerException">The runtime's error.</param>
    public ModelLoadException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The inputs passed validation but the model failed while running on them (e.g. shapes that only disagree inside the
/// graph, an operator the provider rejects at run time): the runtime's error wrapped with the model version (HTTP 500).
/// Not transient for the same inputs; another version (the stable fallback) may accept them.
/// </summary>
public sealed class ModelExecutionException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which version failed and the runtime's message.</param>
    /// <param name="innerException">The runtime's error.</param>
    public ModelExecutionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A required execution provider (e.g. CUDA when the GPU is mandatory) cannot be used.</summary>
public sealed class ExecutionProviderUnavailableException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="provider">The provider that was required.</param>
    /// <param name="message">The exact reason it cannot be used.</param>
    /// <param name="innerException">The runtime's error.</param>
    public ExecutionProviderUnavailableException(string provider, string message, Exception? innerException = null)
        : base(message, innerException) => Provider = provider;

    /// <summary>The provider that was required.</summary>
    public string Provider { get; }
}
