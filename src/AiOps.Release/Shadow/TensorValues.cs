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
        ModelTensor<ushort> t => Copy(t),
        ModelTensor<uint> t => Copy(t),
        ModelTensor<ulong> t => Copy(t),
        ModelTensor<Half> t => Copy(t),
        ModelTensor<BFloat16> t => Copy(t),
        ModelTensor<string> t => Copy(t),
        ModelMapSequence m => m, // built by the runner for this answer alone; nothing of the caller's to copy
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

            if (Mismatch(e, a) is { } differs)
            {
                return (false, double.NaN, $"output '{e.Name}' {differs}");
            }

            var d = MaxAbsDifference(e, a);
            if (double.IsNaN(d))
            {
                return (false, d, e is ModelMapSequence ? $"output '{e.Name}' differs in the keys of a map (or in NaN values)" : $"output '{e.Name}' differs in NaN positions");
            }

            max = Math.Max(max, d);
        }

        return max <= tolerance
            ? (true, max, "match")
            : (false, max, $"largest absolute difference {max:G6} exceeds the tolerance {tolerance:G6}");
    }

    private static ModelTensor<T> Copy<T>(ModelTensor<T> t) => new(t.Name, t.Data.ToArray(), t.Shape);

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
        (ModelTensor<ushort> x, ModelTensor<ushort> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<uint> x, ModelTensor<uint> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<ulong> x, ModelTensor<ulong> y) => Max(x.Span, y.Span, static v => v),
        (ModelTensor<Half> x, ModelTensor<Half> y) => Max(x.Span, y.Span, static v => (double)v),
        (ModelTensor<BFloat16> x, ModelTensor<BFloat16> y) => Max(x.Span, y.Span, static v => (double)v),
        (ModelTensor<string>, ModelTensor<string>) => 0, // compared exactly in Mismatch
        (ModelMapSequence<long, float> x, _) => MapDifference(x, a, static v => v),
        (ModelMapSequence<string, float> x, _) => MapDifference(x, a, static v => v),
        (ModelMapSequence<long, double> x, _) => MapDifference(x, a, static v => v),
        (ModelMapSequence<string, double> x, _) => MapDifference(x, a, static v => v),
        (ModelMapSequence<long, long> x, _) => MapDifference(x, a, static v => v),
        (ModelMapSequence<string, long> x, _) => MapDifference(x, a, static v => v),
        (ModelMapSequence<long, string> x, _) => MapDifference(x, a, null),
        (ModelMapSequence<string, string> x, _) => MapDifference(x, a, null),
        _ => double.NaN,
    };

    /// <summary>For strings and sequences of maps, which have no numeric distance: what differs, or <see langword="null"/>.</summary>
    private static string? Mismatch(ModelTensor e, ModelTensor a)
    {
        if (e is ModelTensor<string> x && a is ModelTensor<string> y)
        {
            for (var i = 0; i < x.Span.Length; i++)
            {
                if (!string.Equals(x.Span[i], y.Span[i], StringComparison.Ordinal))
                {
                    return $"differs at string element {i}";
                }
            }

            return null;
        }

        if (e is ModelMapSequence m && a is ModelMapSequence n && (m.KeyType != n.KeyType || m.ValueType != n.ValueType))
        {
            return $"is a sequence of maps from {m.KeyType} to {m.ValueType} but the shadow gave {n.KeyType} to {n.ValueType}";
        }

        return null;
    }

    /// <summary>Sequences of maps: the largest difference of a value under the same key (NaN when the keys differ; strings exact).</summary>
    private static double MapDifference<TKey, TValue>(ModelMapSequence<TKey, TValue> x, ModelTensor y, Func<TValue, double>? toDouble)
        where TKey : notnull
    {
        var other = (ModelMapSequence<TKey, TValue>)y;
        var max = 0.0;
        for (var i = 0; i < x.Count; i++)
        {
            if (x[i].Count != other[i].Count)
            {
                return double.NaN;
            }

            foreach (var (key, value) in x[i])
            {
                if (!other[i].TryGetValue(key, out var theirs))
                {
                    return double.NaN;
                }

                if (toDouble is null)
                {
                    if (!EqualityComparer<TValue>.Default.Equals(value, theirs))
                    {
                        return double.NaN;
                    }

                    continue;
                }

                max = Math.Max(max, Math.Abs(toDouble(value) - toDouble(theirs)));
            }
        }

        return max;
    }

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
