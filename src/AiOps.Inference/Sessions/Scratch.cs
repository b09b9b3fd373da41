using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Sessions;

/// <summary>
/// Per-thread scratch arrays for the synchronous hand-over to ONNX Runtime, so a call does not allocate them: dimension
/// arrays (ONNX Runtime copies the dimensions when it creates a tensor; nothing keeps the array) and the
/// <see cref="OrtValue"/> arrays of one run (cleared before they go back, so no call's values outlive it).
/// </summary>
internal static class Scratch
{
    /// <summary>Ranks up to this get a cached dimension array; higher ones are allocated.</summary>
    private const int MaxCachedRank = 8;

    [ThreadStatic]
    private static long[][]? t_dims;

    [ThreadStatic]
    private static OrtValue?[]? t_inputs;

    [ThreadStatic]
    private static OrtValue?[]? t_outputs;

    /// <summary>
    /// This thread's dimension array of exactly <paramref name="rank"/> elements (contents undefined). Valid until the
    /// thread's next call for the same rank: only for a hand-over that copies it (ONNX Runtime, a tensor constructor).
    /// </summary>
    public static long[] Dims(int rank)
    {
        if (rank > MaxCachedRank)
        {
            return new long[rank];
        }

        var cache = t_dims ??= CreateDims();
        return cache[rank];
    }

    /// <summary>This thread's dimension array holding <paramref name="shape"/> (see <see cref="Dims(int)"/>).</summary>
    public static long[] Dims(ReadOnlySpan<long> shape)
    {
        var dims = Dims(shape.Length);
        shape.CopyTo(dims);
        return dims;
    }

    /// <summary>An empty array of <paramref name="length"/> values for a run's inputs; give it back with <see cref="ReturnInputs"/>.</summary>
    public static OrtValue[] RentInputs(int length) => Rent(ref t_inputs, length);

    /// <summary>Clears <paramref name="values"/> (already disposed) and keeps it for the thread's next run.</summary>
    public static void ReturnInputs(OrtValue[] values) => Return(ref t_inputs, values);

    /// <summary>An empty array of <paramref name="length"/> values for a run's outputs; give it back with <see cref="ReturnOutputs"/>.</summary>
    public static OrtValue[] RentOutputs(int length) => Rent(ref t_outputs, length);

    /// <summary>Clears <paramref name="values"/> (already disposed) and keeps it for the thread's next run.</summary>
    public static void ReturnOutputs(OrtValue[] values) => Return(ref t_outputs, values);

    private static long[][] CreateDims()
    {
        var dims = new long[MaxCachedRank + 1][];
        for (var rank = 0; rank < dims.Length; rank++)
        {
            dims[rank] = rank == 0 ? [] : new long[rank];
        }

        return dims;
    }

    private static OrtValue[] Rent(ref OrtValue?[]? slot, int length)
    {
        var values = slot;
        if (values is not null && values.Length == length)
        {
            slot = null; // taken: a nested rent on this thread gets its own
            return values!;
        }

        return new OrtValue[length];
    }

    private static void Return(ref OrtValue?[]? slot, OrtValue[] values)
    {
        Array.Clear(values);
        slot = values;
    }
}
