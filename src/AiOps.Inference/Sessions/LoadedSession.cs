using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Sessions;

/// <summary>What the runner knows about one declared input or output.</summary>
internal sealed class TensorBinding
{
    public TensorBinding(string name, ElementOps ops, long[] dims, string?[] symbols)
    {
        Name = name;
        Ops = ops;
        Dims = dims;
        Symbols = symbols;
    }

    public string Name { get; }

    public ElementOps Ops { get; }

    public TensorElementType ElementType => Ops.ElementType;

    /// <summary>Declared dimensions; -1 for a dynamic one.</summary>
    public long[] Dims { get; }

    public string?[] Symbols { get; }

    public bool HasDynamicFirstDim => Dims.Length > 0 && Dims[0] < 0;

    /// <summary>Formats as <c>Float32[batch, 4]</c>.</summary>
    public string Describe()
    {
        if (ElementType == TensorElementType.SequenceOfMaps)
        {
            return $"seq(map({Ops.MapKeyType}, {Ops.MapValueType}))";
        }

        var parts = new string[Dims.Length];
        for (var i = 0; i < Dims.Length; i++)
        {
            parts[i] = Dims[i] >= 0 ? Dims[i].ToString(CultureInfo.InvariantCulture) : string.IsNullOrEmpty(Symbols[i]) ? "?" : Symbols[i]!;
        }

        return $"{ElementType}[{string.Join(", ", parts)}]";
    }
}

/// <summary>
/// One loaded ONNX Runtime session (one file of one model version) with its bindings. Reference counted: the runner
/// holds one reference while the session is current and every call holds one while it runs, so a hot swap disposes
/// the old session only after the calls that were using it have drained.
/// </summary>
internal sealed class LoadedSession : IDisposable
{
    private readonly (int Input, int Dim, int OtherInput, int OtherDim, string Symbol)[] _symbolChecks;
    private readonly (long Fixed, int Input, int Dim)[][]? _outputShapes;
    private int _refs = 1;

    public LoadedSession(
        InferenceSession session,
        TensorBinding[] inputs,
        TensorBinding[] outputs,
        ModelMetadata metadata,
        string executionProvider,
        string? fallbackReason,
        string path,
        string sha256,
        DateTimeOffset loadedAt,
        BatchLayout batch)
    {
        Session = session;
        Inputs = inputs;
        Outputs = outputs;
        Metadata = metadata;
        ExecutionProvider = executionProvider;
        FallbackReason = fallbackReason;
        Path = path;
        Sha256 = sha256;
        LoadedAt = loadedAt;
        InputNames = Array.ConvertAll(inputs, i => i.Name);
        OutputNames = Array.ConvertAll(outputs, o => o.Name);
        Batch = batch;
        IsBatchable = Batch.IsBatchable;

        // Where a symbolic dimension (e.g. "batch") occurs, remember its first occurrence so the sizes can be checked to agree.
        var firstBySymbol = new Dictionary<string, (int Input, int Dim)>(StringComparer.Ordinal);
        var checks = new List<(int, int, int, int, string)>();
        for (var i = 0; i < inputs.Length; i++)
        {
            for (var d = 0; d < inputs[i].Dims.Length; d++)
            {
                var symbol = inputs[i].Symbols[d];
                if (inputs[i].Dims[d] >= 0 || string.IsNullOrEmpty(symbol))
                {
                    continue;
                }

                if (firstBySymbol.TryGetValue(symbol, out var first))
                {
                    checks.Add((i, d, first.Input, first.Dim, symbol));
                }
                else
                {
                    firstBySymbol[symbol] = (i, d);
                }
            }
        }

        if (Batch.IsDeclared && IsBatchable)
        {
            // Stacking needs every batched input of a call to have the same rows, which the differing symbols no longer say.
            var rowsInput = Batch.RowsInput;
            var rowsAxis = Batch.RowsAxis;
            for (var i = rowsInput + 1; i < inputs.Length; i++)
            {
                var axis = Batch.InputAxes[i];
                if (axis >= 0 && !checks.Exists(c => c.Item1 == i && c.Item2 == axis))
                {
                    checks.Add((i, axis, rowsInput, rowsAxis, "batch (declared: Batching:BatchAxes / AssumeFirstDimensionIsBatch)"));
                }
            }
        }

        _symbolChecks = [.. checks];

        // Outputs can be pre-allocated (ONNX Runtime writes straight into managed arrays) when every dynamic output
        // dimension is named after an input dimension, so its size is known before the run.
        var shapes = new (long, int, int)[outputs.Length][];
        for (var o = 0; o < outputs.Length && shapes is not null; o++)
        {
            if (!outputs[o].Ops.CanPreallocate)
            {
                // String tensors and sequences of maps live in ONNX Runtime's memory: read after the run.
                shapes = null;
                break;
            }

            shapes[o] = new (long, int, int)[outputs[o].Dims.Length];
            for (var d = 0; d < outputs[o].Dims.Length; d++)
            {
                if (outputs[o].Dims[d] >= 0)
                {
                    shapes[o][d] = (outputs[o].Dims[d], -1, -1);
                }
                else if (outputs[o].Symbols[d] is { Length: > 0 } symbol && firstBySymbol.TryGetValue(symbol, out var source))
                {
                    shapes[o][d] = (-1, source.Input, source.Dim);
                }
                else
                {
                    shapes = null;
                    break;
                }
            }
        }

        _outputShapes = shapes;
    }

    public InferenceSession Session { get; }

    public TensorBinding[] Inputs { get; }

    public TensorBinding[] Outputs { get; }

    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    public ModelMetadata Metadata { get; }

    public string ExecutionProvider { get; }

    public string? FallbackReason { get; }

    /// <summary>The full paths of the model's external data files (pinned and watched with it); empty for most models.</summary>
    public IReadOnlyList<string> ExternalFiles { get; set; } = [];

    /// <summary>Why the generated warm-up was cut short (the graph refused the generated inputs), or <see langword="null"/>.</summary>
    public string? WarmUpSkipped { get; set; }

    public string Path { get; }

    public string Sha256 { get; }

    public DateTimeOffset LoadedAt { get; }

    /// <summary>Calls can be stacked (see <see cref="Batch"/>).</summary>
    public bool IsBatchable { get; }

    /// <summary>The state pairs of a stateful model (input index, output index); empty for a stateless one.</summary>
    public (int Input, int Output)[] States { get; set; } = [];

    /// <summary>Which inputs and outputs are batched.</summary>
    public BatchLayout Batch { get; }

    /// <summary>The rows of a call (the batch dimension of its first batched input; 1 for a scalar).</summary>
    public long Rows(ModelTensor[] inputs)
    {
        var t = inputs.Length > 0 ? inputs[Batch.RowsInput] : null;
        var axis = Batch.RowsAxis;
        return t is not null && t.Rank > axis ? t.Shape[axis] : 1;
    }

    /// <summary>Outputs are written by ONNX Runtime straight into managed arrays (no copy).</summary>
    public bool PreallocatesOutputs => _outputShapes is not null;

    public bool IsDisposed => Volatile.Read(ref _refs) == 0;

    /// <summary>Takes a reference for a call; fails once the session has been retired and drained.</summary>
    public bool TryAcquire()
    {
        var refs = Volatile.Read(ref _refs);
        while (refs > 0)
        {
            var seen = Interlocked.CompareExchange(ref _refs, refs + 1, refs);
            if (seen == refs)
            {
                return true;
            }

            refs = seen;
        }

        return false;
    }

    /// <summary>Drops a reference; the last one disposes the native session.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            Session.Dispose();
        }
    }

    /// <summary>Drops the owner's reference (same as <see cref="Release"/>).</summary>
    public void Dispose() => Release();

    /// <summary>Checks the request against the signature and returns its inputs in declaration order.</summary>
    /// <exception cref="ModelInputException">Unknown, missing, mistyped or misshapen input, or a non-finite value.</exception>
    public ModelTensor[] Bind(ModelRequest request, ModelKey key, bool allowNonFinite)
    {
        var given = request.Inputs;
        var ordered = new ModelTensor[Inputs.Length];
        for (var i = 0; i < given.Count; i++)
        {
            var t = given[i];
            var index = IndexOfInput(t.Name);
            if (index < 0)
            {
                throw Bad(key, t.Name, $"Input '{t.Name}' is not an input of {key}; expected {DescribeInputs()}.");
            }

            ordered[index] = t;
        }

        for (var i = 0; i < Inputs.Length; i++)
        {
            var spec = Inputs[i];
            var t = ordered[i] ?? throw Bad(key, spec.Name, $"Input '{spec.Name}' is missing; expected {spec.Name}: {spec.Describe()} ({key} takes {DescribeInputs()}).");
            if (t.ElementType != spec.ElementType)
            {
                throw Bad(key, spec.Name, $"Input '{spec.Name}' has element type {t.ElementType}; expected {spec.ElementType} ({spec.Name}: {spec.Describe()}).");
            }

            var shape = t.Shape;
            if (shape.Length != spec.Dims.Length)
            {
                throw Bad(key, spec.Name, $"Input '{spec.Name}' has shape {t.FormatShape()} (rank {shape.Length}); expected rank {spec.Dims.Length} ({spec.Name}: {spec.Describe()}).");
            }

            for (var d = 0; d < shape.Length; d++)
            {
                if (spec.Dims[d] >= 0 && shape[d] != spec.Dims[d])
                {
                    throw Bad(key, spec.Name, $"Input '{spec.Name}' has shape {t.FormatShape()}; expected dimension {d} to be {spec.Dims[d]} ({spec.Name}: {spec.Describe()}).");
                }
            }

            var missing = spec.Ops.IndexOfNull(t);
            if (missing >= 0)
            {
                throw Bad(key, spec.Name, $"Input '{spec.Name}' has a null string at element {missing}; expected a string at every element (use \"\" for an empty one).");
            }

            if (!allowNonFinite)
            {
                var at = spec.Ops.IndexOfNonFinite(t);
                if (at >= 0)
                {
                    throw Bad(key, spec.Name, $"Input '{spec.Name}' contains NaN or Infinity at element {at}; expected finite values (set AllowNonFiniteInputs to accept them).");
                }
            }
        }

        foreach (var (input, dim, other, otherDim, symbol) in _symbolChecks)
        {
            var size = ordered[input].Shape[dim];
            var expected = ordered[other].Shape[otherDim];
            if (size != expected)
            {
                throw Bad(key, Inputs[input].Name, $"Input '{Inputs[input].Name}' has size {size} in dimension '{symbol}' but input '{Inputs[other].Name}' has {expected}; expected the same size for every '{symbol}' dimension.");
            }
        }

        return ordered;
    }

    /// <summary>Runs the session on inputs in declaration order (already validated).</summary>
    public ModelTensor[] Run(ModelTensor[] inputs, RunOptions runOptions)
    {
        // The value arrays are the thread's scratch (Run is synchronous): cleared and kept for its next run.
        var inputValues = Scratch.RentInputs(inputs.Length);
        OrtValue[]? outputValues = null;
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                inputValues[i] = Inputs[i].Ops.CreateInput(inputs[i]);
            }

            var outputs = new ModelTensor[Outputs.Length];
            if (_outputShapes is not null)
            {
                outputValues = Scratch.RentOutputs(Outputs.Length);
                for (var o = 0; o < Outputs.Length; o++)
                {
                    outputs[o] = Outputs[o].Ops.AllocateOutput(Outputs[o].Name, ResolveShape(_outputShapes[o], inputs), out outputValues[o]);
                }

                Session.Run(runOptions, InputNames, inputValues, OutputNames, outputValues);
                return outputs;
            }

            using var results = Session.Run(runOptions, InputNames, inputValues, OutputNames);
            var index = 0;
            foreach (var value in results)
            {
                outputs[index] = Outputs[index].Ops.CopyOutput(Outputs[index].Name, value);
                index++;
            }

            return outputs;
        }
        finally
        {
            DisposeAll(inputValues);
            Scratch.ReturnInputs(inputValues);
            if (outputValues is not null)
            {
                DisposeAll(outputValues);
                Scratch.ReturnOutputs(outputValues);
            }
        }
    }

    /// <summary>
    /// Generated inputs for warm-up: zeros (or the input's value in <paramref name="values"/>), with the size in
    /// <paramref name="sizes"/> for a named free dimension and <paramref name="rows"/> for the batch and every other one.
    /// </summary>
    public ModelTensor[] WarmUpInputs(long rows, IDictionary<string, long> sizes, IDictionary<string, double> values)
    {
        var inputs = new ModelTensor[Inputs.Length];
        for (var i = 0; i < Inputs.Length; i++)
        {
            var binding = Inputs[i];
            var shape = new long[binding.Dims.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                var symbol = binding.Symbols[d];
                shape[d] = binding.Dims[d] >= 0 ? binding.Dims[d]
                    : IsBatchable && d == Batch.InputAxes[i] ? rows
                    : symbol is not null && sizes.TryGetValue(symbol, out var size) ? size
                    : rows;
            }

            inputs[i] = values.TryGetValue(binding.Name, out var value)
                ? binding.Ops.FromValues(binding.Name, shape, [value])
                : binding.Ops.Zeros(binding.Name, shape);
        }

        return inputs;
    }

    public string DescribeInputs() => string.Join(", ", Array.ConvertAll(Inputs, i => $"{i.Name}: {i.Describe()}"));

    public string DescribeOutputs() => string.Join(", ", Array.ConvertAll(Outputs, o => $"{o.Name}: {o.Describe()}"));

    /// <summary>An output's shape, in the thread's scratch array (<see cref="ElementOps.AllocateOutput"/> copies it).</summary>
    private static long[] ResolveShape((long Fixed, int Input, int Dim)[] dims, ModelTensor[] inputs)
    {
        var shape = Scratch.Dims(dims.Length);
        for (var d = 0; d < dims.Length; d++)
        {
            shape[d] = dims[d].Fixed >= 0 ? dims[d].Fixed : inputs[dims[d].Input].Shape[dims[d].Dim];
        }

        return shape;
    }

    private static void DisposeAll(OrtValue[] values)
    {
        foreach (var v in values)
        {
            v?.Dispose();
        }
    }

    private static ModelInputException Bad(ModelKey key, string input, string message) => new(input, message) { Key = key };

    private int IndexOfInput(string name)
    {
        for (var i = 0; i < Inputs.Length; i++)
        {
            if (string.Equals(Inputs[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
