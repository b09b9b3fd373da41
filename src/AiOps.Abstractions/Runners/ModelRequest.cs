namespace AiOps;

/// <summary>One inference request: named input tensors plus the identifiers used for routing and label joins.</summary>
public sealed class ModelRequest
{
    /// <summary>Up to this many inputs names are compared pairwise (no allocation); beyond it through a hash set.</summary>
    private const int PairwiseLimit = 8;

    /// <summary>Creates a request.</summary>
    /// <param name="inputs">The input tensors; names must be distinct.</param>
    /// <exception cref="ArgumentException">No inputs, a null input, or two inputs with the same name.</exception>
    public ModelRequest(IReadOnlyList<ModelTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("A request needs at least one input tensor.", nameof(inputs));
        }

        // Linear time whatever the count (a hostile body may carry tens of thousands of inputs): pairwise for the
        // handful a model has, a hash set beyond that.
        HashSet<string>? seen = inputs.Count > PairwiseLimit ? new HashSet<string>(inputs.Count, StringComparer.Ordinal) : null;
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is null)
            {
                throw new ArgumentException($"Input tensor at index {i} is null.", nameof(inputs));
            }

            var duplicate = false;
            if (seen is not null)
            {
                duplicate = !seen.Add(inputs[i].Name);
            }
            else
            {
                for (var j = 0; j < i && !duplicate; j++)
                {
                    duplicate = string.Equals(inputs[i].Name, inputs[j].Name, StringComparison.Ordinal);
                }
            }

            if (duplicate)
            {
                throw new ArgumentException($"Input '{inputs[i].Name}' is given twice; expected distinct input names.", nameof(inputs));
            }
        }

        Inputs = inputs;
    }

    /// <summary>Creates a request with a single input.</summary>
    /// <param name="input">The input tensor.</param>
    public ModelRequest(ModelTensor input)
        : this([input])
    {
    }

    /// <summary>The input tensors.</summary>
    public IReadOnlyList<ModelTensor> Inputs { get; }

    /// <summary>An id that ground-truth labels arriving later are joined on; optional.</summary>
    public string? RequestId { get; init; }

    /// <summary>The key canary routing is sticky on (a user or account id); optional.</summary>
    public string? RoutingKey { get; init; }

    /// <summary>Forces a specific version, bypassing the canary weights (for tests and debugging); optional.</summary>
    public ModelVersion? PinnedVersion { get; init; }

    /// <summary>
    /// The correlation id of the sequence this call belongs to, for stateful models (a recurrent network whose state
    /// outputs feed its next call's state inputs): the runner carries the state between the calls of one sequence, runs
    /// them one at a time in arrival order, and the caller leaves the state inputs out. Required by a stateful model,
    /// refused by a stateless one; optional otherwise.
    /// </summary>
    public string? SequenceId { get; init; }

    /// <summary>
    /// This call starts (or restarts) its sequence from the initial state. A call of a sequence the runner does not hold
    /// (never started, ended, or expired after being idle) must set it, so a lost state is never silently replaced.
    /// </summary>
    public bool SequenceStart { get; init; }

    /// <summary>This is the last call of its sequence: the runner drops the sequence's state once the call is answered.</summary>
    public bool SequenceEnd { get; init; }

    /// <summary>Returns the input called <paramref name="name"/>.</summary>
    /// <param name="name">The input name.</param>
    /// <exception cref="KeyNotFoundException">No input has that name.</exception>
    public ModelTensor this[string name]
    {
        get
        {
            foreach (var t in Inputs)
            {
                if (string.Equals(t.Name, name, StringComparison.Ordinal))
                {
                    return t;
                }
            }

            throw new KeyNotFoundException($"The request has no input '{name}'.");
        }
    }
}

/// <summary>The result of one inference: named output tensors and the version that produced them.</summary>
/// <param name="Key">The model version that answered.</param>
/// <param name="Outputs">
/// The outputs in the model's declaration order: tensors (<see cref="ModelTensor{T}"/>) and, for a model that ends in
/// scikit-learn's ZipMap, sequences of maps (<see cref="ModelMapSequence{TKey, TValue}"/>, element type
/// <see cref="TensorElementType.SequenceOfMaps"/>).
/// </param>
public sealed record ModelResponse(ModelKey Key, IReadOnlyList<ModelTensor> Outputs)
{
    /// <summary>Returns the output called <paramref name="name"/>.</summary>
    /// <param name="name">The output name.</param>
    /// <exception cref="KeyNotFoundException">No output has that name.</exception>
    public ModelTensor this[string name]
    {
        get
        {
            foreach (var t in Outputs)
            {
                if (string.Equals(t.Name, name, StringComparison.Ordinal))
                {
                    return t;
                }
            }

            throw new KeyNotFoundException($"The response of {Key} has no output '{name}'.");
        }
    }
}
