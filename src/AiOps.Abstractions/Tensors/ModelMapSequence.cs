using System.Collections;

namespace AiOps;

/// <summary>
/// A model output that is not a tensor: a sequence of maps (ONNX <c>seq(map(K, V))</c>), what scikit-learn's default
/// classifier export ends in (<c>ZipMap</c>: one map from class label to probability per input row). It travels in
/// <see cref="ModelResponse.Outputs"/> beside the tensors, with <see cref="ModelTensor.ElementType"/>
/// <see cref="TensorElementType.SequenceOfMaps"/> and shape <c>[Count]</c>; read it with
/// <see cref="ModelTensor.AsMapSequence{TKey, TValue}"/>. Models never take one as input.
/// </summary>
public abstract class ModelMapSequence : ModelTensor
{
    /// <summary>Initialises the name and the number of maps.</summary>
    /// <param name="name">The output name.</param>
    /// <param name="count">The number of maps.</param>
    private protected ModelMapSequence(string name, int count)
        : base(name, [count])
    {
    }

    /// <inheritdoc />
    public sealed override TensorElementType ElementType => TensorElementType.SequenceOfMaps;

    /// <summary>The key type of every map (<see cref="TensorElementType.Int64"/> or <see cref="TensorElementType.String"/>).</summary>
    public abstract TensorElementType KeyType { get; }

    /// <summary>The value type of every map (e.g. <see cref="TensorElementType.Float32"/>).</summary>
    public abstract TensorElementType ValueType { get; }

    /// <summary>The number of maps (one per input row for a ZipMap output).</summary>
    public int Count => checked((int)ElementCount);

    /// <summary>The maps <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> as a sequence of their own (no copy of the maps).</summary>
    /// <param name="start">The first map.</param>
    /// <param name="count">How many maps.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the sequence.</exception>
    public abstract ModelMapSequence Slice(int start, int count);
}

/// <summary>A sequence of maps from <typeparamref name="TKey"/> to <typeparamref name="TValue"/>; see <see cref="ModelMapSequence"/>.</summary>
/// <typeparam name="TKey"><see cref="long"/> or <see cref="string"/> (the ONNX map key types a model outputs).</typeparam>
/// <typeparam name="TValue">The value type: <see cref="float"/>, <see cref="double"/>, <see cref="long"/> or <see cref="string"/>.</typeparam>
public sealed class ModelMapSequence<TKey, TValue> : ModelMapSequence, IReadOnlyList<IReadOnlyDictionary<TKey, TValue>>
    where TKey : notnull
{
    private static readonly TensorElementType s_keyType = TensorElementTypes.Of<TKey>();
    private static readonly TensorElementType s_valueType = TensorElementTypes.Of<TValue>();
    private readonly IReadOnlyDictionary<TKey, TValue>[] _maps;
    private readonly int _start;

    /// <summary>Creates a sequence over <paramref name="maps"/> (the list is copied; the maps are not).</summary>
    /// <param name="name">The output name.</param>
    /// <param name="maps">The maps, in order.</param>
    /// <exception cref="ArgumentException">A map is null, or the key or value type is not one ONNX maps use.</exception>
    public ModelMapSequence(string name, IReadOnlyList<IReadOnlyDictionary<TKey, TValue>> maps)
        : this(name, Copy(name, maps), 0, maps?.Count ?? 0)
    {
    }

    private ModelMapSequence(string name, IReadOnlyDictionary<TKey, TValue>[] maps, int start, int count)
        : base(name, count)
    {
        _maps = maps;
        _start = start;
    }

    /// <inheritdoc />
    public override TensorElementType KeyType => s_keyType;

    /// <inheritdoc />
    public override TensorElementType ValueType => s_valueType;

    /// <summary>The map at <paramref name="index"/>.</summary>
    /// <param name="index">The position (the input row for a ZipMap output).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the sequence.</exception>
    public IReadOnlyDictionary<TKey, TValue> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return _maps[_start + index];
        }
    }

    /// <inheritdoc />
    public override ModelMapSequence Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count - start);
        return new ModelMapSequence<TKey, TValue>(Name, _maps, _start + start, count);
    }

    /// <summary>Enumerates the maps in order.</summary>
    public IEnumerator<IReadOnlyDictionary<TKey, TValue>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return _maps[_start + i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static IReadOnlyDictionary<TKey, TValue>[] Copy(string name, IReadOnlyList<IReadOnlyDictionary<TKey, TValue>> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (s_keyType is not (TensorElementType.Int64 or TensorElementType.String))
        {
            throw new ArgumentException($"Map sequence '{name}' has key type {typeof(TKey).Name}; expected long or string.", nameof(maps));
        }

        if (s_valueType is not (TensorElementType.Float32 or TensorElementType.Float64 or TensorElementType.Int64 or TensorElementType.String))
        {
            throw new ArgumentException($"Map sequence '{name}' has value type {typeof(TValue).Name}; expected float, double, long or string.", nameof(maps));
        }

        var copy = new IReadOnlyDictionary<TKey, TValue>[maps.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = maps[i] ?? throw new ArgumentException($"Map sequence '{name}' has a null map at index {i}; expected a map at every position.", nameof(maps));
        }

        return copy;
    }
}
