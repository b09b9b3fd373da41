namespace AiOps;

/// <summary>
/// What a model declares about one input or output: name, element type and dimensions, where <c>-1</c> marks a
/// dynamic dimension (such as the batch dimension) whose symbolic name, if any, is in <see cref="SymbolicDimensions"/>.
/// </summary>
/// <param name="Name">The tensor name.</param>
/// <param name="ElementType">The element type.</param>
/// <param name="Dimensions">The dimensions; <c>-1</c> for a dynamic one.</param>
public sealed record TensorSpec(string Name, TensorElementType ElementType, IReadOnlyList<long> Dimensions)
{
    /// <summary>Symbolic names of the dimensions (e.g. <c>batch</c>), <see langword="null"/> or empty where none.</summary>
    public IReadOnlyList<string?> SymbolicDimensions { get; init; } = [];

    /// <summary>
    /// For a sequence-of-maps output (<see cref="ElementType"/> <see cref="TensorElementType.SequenceOfMaps"/>, shape
    /// <c>[-1]</c>): the key type of its maps; <see cref="TensorElementType.Unknown"/> for a tensor.
    /// </summary>
    public TensorElementType MapKeyType { get; init; }

    /// <summary>For a sequence-of-maps output: the value type of its maps; <see cref="TensorElementType.Unknown"/> for a tensor.</summary>
    public TensorElementType MapValueType { get; init; }

    /// <summary>Whether the first dimension is dynamic, so several requests can be stacked into one batch.</summary>
    public bool HasDynamicBatch => Dimensions.Count > 0 && Dimensions[0] < 0;

    /// <summary>Formats the spec as <c>input: Float32[-1, 4]</c>.</summary>
    public override string ToString() => ElementType == TensorElementType.SequenceOfMaps
        ? $"{Name}: seq(map({MapKeyType}, {MapValueType}))"
        : $"{Name}: {ElementType}[{string.Join(", ", Dimensions)}]";
}

/// <summary>
/// The signature of a loaded model version: its inputs and outputs (names, element types, shapes with fixed or free
/// dimensions). <see cref="CheckReplacement(ModelMetadata)"/> says whether another version can take its place.
/// </summary>
/// <param name="Inputs">The inputs in declaration order.</param>
/// <param name="Outputs">The outputs in declaration order.</param>
public sealed record ModelMetadata(IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs)
{
    /// <summary>Free-form properties the model file carries (producer, description, custom metadata).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Says whether <paramref name="replacement"/> can serve this version's callers: every input is still there with
    /// the same element type and rank and accepts at least the sizes accepted today (a free dimension may not become
    /// fixed), no new input is required, and every output is still there with the same element type, rank and fixed
    /// sizes. Extra outputs are allowed. A signature with no tensors (a version not loaded) is never compatible.
    /// </summary>
    /// <param name="replacement">The signature of the version that would replace this one.</param>
    /// <returns>The comparison, with every problem found.</returns>
    public SignatureCompatibility CheckReplacement(ModelMetadata replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        return SignatureRules.Check(this, replacement);
    }

    /// <summary>Finds an input by name.</summary>
    /// <param name="name">The input name.</param>
    /// <returns>The input, or <see langword="null"/>.</returns>
    public TensorSpec? FindInput(string name)
    {
        foreach (var i in Inputs)
        {
            if (string.Equals(i.Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return null;
    }
}
