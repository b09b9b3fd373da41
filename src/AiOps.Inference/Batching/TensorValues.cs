namespace AiOps.Inference;

/// <summary>Value equality of two tensors, for the unbatched inputs calls must share to go into one batch.</summary>
internal static class TensorValues
{
    /// <summary>
    /// Whether <paramref name="a"/> and <paramref name="b"/> have the same element type, shape and elements. Conservative:
    /// an element type it does not know compares unequal (the calls then run in separate batches, never wrongly together).
    /// </summary>
    public static bool Equal(ModelTensor a, ModelTensor b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.GetType() != b.GetType() || !a.Shape.SequenceEqual(b.Shape))
        {
            return false;
        }

        return a switch
        {
            ModelTensor<float> x => Same(x, (ModelTensor<float>)b),
            ModelTensor<double> x => Same(x, (ModelTensor<double>)b),
            ModelTensor<sbyte> x => Same(x, (ModelTensor<sbyte>)b),
            ModelTensor<byte> x => Same(x, (ModelTensor<byte>)b),
            ModelTensor<short> x => Same(x, (ModelTensor<short>)b),
            ModelTensor<ushort> x => Same(x, (ModelTensor<ushort>)b),
            ModelTensor<int> x => Same(x, (ModelTensor<int>)b),
            ModelTensor<uint> x => Same(x, (ModelTensor<uint>)b),
            ModelTensor<long> x => Same(x, (ModelTensor<long>)b),
            ModelTensor<ulong> x => Same(x, (ModelTensor<ulong>)b),
            ModelTensor<bool> x => Same(x, (ModelTensor<bool>)b),
            ModelTensor<Half> x => Same(x, (ModelTensor<Half>)b),
            _ => false,
        };
    }

    private static bool Same<T>(ModelTensor<T> a, ModelTensor<T> b)
        where T : unmanaged, IEquatable<T> =>
        a.Data.Equals(b.Data) || a.Data.Span.SequenceEqual(b.Data.Span); // the same memory, or equal elements (NaN never equal: such calls run apart)
}
