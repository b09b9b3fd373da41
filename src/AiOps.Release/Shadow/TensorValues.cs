namespace AiOps.Release.Shadow;

/// <summary>Copies tensors (a shadow call runs after the caller may have reused its buffers) and compares them.</summary>
internal static class TensorValues
{
    public static ModelTensor Clone(ModelTensor tensor) => tensor switch
    {
        ModelTensor<float> t => Copy(t),
        ModelTensor<double> t => Copy(t),
        ModelTensor<long> t => Copy(t),
        ModelTensor<int> t => Copy(t),
        ModelTensor<short> t => Copy(t),
        ModelTensor<sbyte> t => Copy(t),
        ModelTensor<byte> t => Copy(t),
        ModelTensor<bool> t => Copy(t),
        _ => throw new NotSupportedException($"Tensor '{tensor.Name}' has element type {tensor.ElementType}; expected a supported tensor element type."),
    };

    /// <summary>Compares the outputs of two answers by name.</summary>
    /// <returns>Whether they match, the largest absolute difference, and what differed.</returns>
    public static (bool Match, double MaxAbsDifference, string Detail) Compare(IReadOnlyList<ModelTensor> expected, IReadOnlyList<ModelTensor> actual, double tolerance)
    {
        var max = 0.0;
        foreach (var e in expected)
        {
            ModelTensor? a = null;
            foreach (var candidate in actual)
            {
                if (string.Equals(candidate.Name, e.Name, StringComparison.Ordinal))
                {
                    a = candidate;
                    break;
                }
            }

            if (a is null)
            {
                return (false, double.NaN, $"output '{e.Name}' is missing from the shadow answer");
            }

            if (a.ElementType != e.ElementType || !a.Shape.SequenceEqual(e.Shape))
            {
                return (false, double.NaN, $"output '{e.Name}' is {e.ElementType}{e.FormatShape()} but the shadow gave {a.ElementType}{a.FormatShape()}");
            }

            var d = MaxAbsDifference(e, a);
            if (double.IsNaN(d))
            {
                return (false, d, $"output '{e.Name}' differs in NaN positions");
            }

            max = Math.Max(max, d);
        }

        return max <= tolerance
            ? (true, max, "match")
            : (false, max, $"largest absolute difference {max:G6} exceeds the tolerance {tolerance:G6}");
    }

    private static ModelTensor<T> Copy<T>(ModelTensor<T> t)
        where T : unmanaged => new(t.Name, t.Data.ToArray(), t.Shape);

    private static double MaxAbsDifference(ModelTensor e, ModelTensor a) => (e, a) switch
    {
        (ModelTensor<float> x, ModelTensor<float> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<double> x, ModelTensor<double> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<long> x, ModelTensor<long> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<int> x, ModelTensor<int> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<short> x, ModelTensor<short> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<sbyte> x, ModelTensor<sbyte> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<byte> x, ModelTensor<byte> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<bool> x, ModelTensor<bool> y) => Max(x.Span, y.Span, static v => v ? 1 : 0),
        _ => double.NaN,
    };

    private static double Max<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Func<T, double> toDouble)
    {
        var max = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var a = toDouble(x[i]);
            var b = toDouble(y[i]);
            if (double.IsNaN(a) || double.IsNaN(b))
            {
                if (double.IsNaN(a) != double.IsNaN(b))
                {
                    return double.NaN;
                }

                continue;
            }

            max = Math.Max(max, Math.Abs(a - b));
        }

        return max;
    }
}
