namespace AiOps.Inference.Sessions;

/// <summary>
/// Which inputs and outputs of a model are stacked along the batch (the first dimension, or the axis declared per tensor:
/// a time-major recurrent export has its batch at 1) and which are not, resolved
/// once at load from the model's symbols or the declared <see cref="OnnxBatchingOptions.BatchAxes"/>.
/// </summary>
internal sealed class BatchLayout
{
    public const int NotBatched = -1;

    private BatchLayout(bool batchable, bool declared, int[] inputs, int[] outputs)
    {
        IsBatchable = batchable;
        IsDeclared = declared;
        InputAxes = inputs;
        OutputAxes = outputs;
        RowsInput = Math.Max(0, Array.FindIndex(inputs, a => a >= 0));
    }

    /// <summary>Calls can be stacked: at least one input is batched and every tensor has a batch axis or is declared not batched.</summary>
    public bool IsBatchable { get; }

    /// <summary>The layout was declared (<see cref="OnnxBatchingOptions.BatchAxes"/> or <see cref="OnnxBatchingOptions.AssumeFirstDimensionIsBatch"/>), not read from shared symbols.</summary>
    public bool IsDeclared { get; }

    /// <summary>Per input: the dimension calls are stacked along (0 unless declared otherwise) or <see cref="NotBatched"/>.</summary>
    public int[] InputAxes { get; }

    /// <summary>Per output: the dimension the callers' rows are split along (0 unless declared otherwise) or <see cref="NotBatched"/>.</summary>
    public int[] OutputAxes { get; }

    /// <summary>The input whose batch dimension is a call's row count (the first batched input).</summary>
    public int RowsInput { get; }

    /// <summary>The batch dimension of <see cref="RowsInput"/>.</summary>
    public int RowsAxis => InputAxes.Length == 0 ? 0 : Math.Max(0, InputAxes[RowsInput]);

    /// <summary>
    /// Resolves the layout. Without declarations the batch is the first dimension of every tensor when they all share
    /// its symbol; with <see cref="OnnxBatchingOptions.AssumeFirstDimensionIsBatch"/> any free first dimension is the
    /// batch; <see cref="OnnxBatchingOptions.BatchAxes"/> names axes (or none) per tensor.
    /// </summary>
    /// <exception cref="ModelLoadException">A declared name, axis or dimension does not fit the model.</exception>
    public static BatchLayout Resolve(ModelKey key, TensorBinding[] inputs, TensorBinding[] outputs, OnnxBatchingOptions batching)
    {
        var declared = batching.BatchAxes;
        if (declared.Count == 0 && !batching.AssumeFirstDimensionIsBatch)
        {
            // The batch is recognised when every input and output starts with the same named dynamic dimension.
            var symbol = inputs.Length > 0 && inputs[0].HasDynamicFirstDim ? inputs[0].Symbols[0] : null;
            var shared = !string.IsNullOrEmpty(symbol)
                && Array.TrueForAll(inputs, i => i.HasDynamicFirstDim && string.Equals(i.Symbols[0], symbol, StringComparison.Ordinal))
                && Array.TrueForAll(outputs, o => o.HasDynamicFirstDim && string.Equals(o.Symbols[0], symbol, StringComparison.Ordinal));
            return new BatchLayout(shared, declared: false, new int[inputs.Length], new int[outputs.Length]);
        }

        foreach (var name in declared.Keys)
        {
            if (!Array.Exists(inputs, i => i.Name == name) && !Array.Exists(outputs, o => o.Name == name))
            {
                throw new ModelLoadException(
                    $"Batching:BatchAxes of {key} names '{name}', which is not an input or output of the model; expected one of inputs {Describe(inputs)}; outputs {Describe(outputs)}.") { Key = key };
            }
        }

        var batchable = true;
        int[] Axes(TensorBinding[] tensors, string kind)
        {
            var axes = new int[tensors.Length];
            for (var t = 0; t < tensors.Length; t++)
            {
                var tensor = tensors[t];
                if (declared.TryGetValue(tensor.Name, out var axis))
                {
                    axes[t] = axis.Axis is { } index ? Check(key, kind, tensor, index) : NotBatched;
                }
                else if (tensor.HasDynamicFirstDim)
                {
                    axes[t] = 0;
                }
                else if (declared.Count > 0)
                {
                    throw new ModelLoadException(
                        $"{kind} '{tensor.Name}' of {key} ({tensor.Describe()}) has no declared batch axis and its first dimension is not free, while Batching:BatchAxes declares others; expected Batching:BatchAxes:{tensor.Name} = 0 or none.") { Key = key };
                }
                else
                {
                    axes[t] = NotBatched;
                    batchable = false; // AssumeFirstDimensionIsBatch alone: a fixed first dimension makes the model unbatchable
                }
            }

            return axes;
        }

        var inputAxes = Axes(inputs, "Input");
        var outputAxes = Axes(outputs, "Output");
        if (!Array.Exists(inputAxes, a => a >= 0))
        {
            if (declared.Count > 0)
            {
                throw new ModelLoadException(
                    $"Batching:BatchAxes of {key} leaves no input batched (inputs {Describe(inputs)}); expected at least one input with a batch axis.") { Key = key };
            }

            batchable = false;
        }

        return new BatchLayout(batchable, declared: true, inputAxes, outputAxes);
    }

    private static int Check(ModelKey key, string kind, TensorBinding tensor, int axis)
    {
        var at = $"Batching:BatchAxes:{tensor.Name} of {key} is {axis}";
        if (axis >= tensor.Dims.Length)
        {
            throw new ModelLoadException(
                $"{at}, out of range for {kind.ToLowerInvariant()} '{tensor.Name}' of rank {tensor.Dims.Length} ({tensor.Describe()}); expected a free dimension's index below {tensor.Dims.Length}, or none.") { Key = key };
        }

        if (tensor.Dims[axis] >= 0)
        {
            throw new ModelLoadException(
                $"{at}, but dimension {axis} of {kind.ToLowerInvariant()} '{tensor.Name}' is fixed at {tensor.Dims[axis]} ({tensor.Describe()}); expected a free (dynamic, -1) dimension, or none.") { Key = key };
        }

        if (axis != 0 && tensor.Ops.MapKeyType != TensorElementType.Unknown)
        {
            // A sequence of maps has one map per row: it has no other axis.
            throw new ModelLoadException(
                $"{at} ({kind.ToLowerInvariant()} '{tensor.Name}': {tensor.Describe()}); a sequence of maps is split per row along its only axis: expected 0 or none.") { Key = key };
        }

        return axis;
    }

    private static string Describe(TensorBinding[] tensors) => string.Join(", ", Array.ConvertAll(tensors, t => $"{t.Name}: {t.Describe()}"));
}
