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

    /// <summary>Whether the first dimension is dynamic, so several requests can be stacked into one batch.</summary>
    public bool HasDynamicBatch => Dimensions.Count > 0 && Dimensions[0] < 0;

    /// <summary>Formats the spec as <c>input: Float32[-1, 4]</c>.</summary>
    public override string ToString() => $"{Name}: {ElementType}[{string.Join(", ", Dimensions)}]";
}

/// <summary>The signature of a loaded model version.</summary>
/// <param name="Inputs">The inputs in declaration order.</param>
/// <param name="Outputs">The outputs in declaration order.</param>
public sealed record ModelMetadata(IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs)
{
    /// <summary>Free-form properties the model file carries (producer, description, custom metadata).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

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
