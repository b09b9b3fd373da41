namespace AiOps;

/// <summary>
/// A named, dense, row-major tensor passed to or returned from a model. The data is held in caller memory
/// (<see cref="ModelTensor{T}.Data"/>) and is not copied by AiOps: the ONNX runner pins numeric and boolean data
/// (<see cref="Half"/> and <see cref="BFloat16"/> included) and hands it to the native runtime directly; string
/// elements are encoded to UTF-8 for it, which is a copy by nature. Do not mutate the memory while a call that uses
/// it is running.
/// </summary>
public abstract class ModelTensor
{
    private readonly long[] _shape;

    /// <summary>Initialises the name and shape after validating them.</summary>
    /// <param name="name">The input or output name as the model declares it.</param>
    /// <param name="shape">The dimensions; each must be zero or positive.</param>
    /// <exception cref="ArgumentException">The name is empty or a dimension is negative.</exception>
    private protected ModelTensor(string name, ReadOnlySpan<long> shape)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException(
                    $"Tensor '{name}' has shape [{string.Join(", ", shape.ToArray())}]; expected every dimension to be zero or positive.",
                    nameof(shape));
            }
        }

        Name = name;
        _shape = shape.ToArray();
        ElementCount = ComputeElementCount(_shape);
    }

    /// <summary>The tensor name as the model declares it.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public abstract TensorElementType ElementType { get; }

    /// <summary>The dimensions, row-major.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements: the product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Formats the shape as <c>[2, 4]</c>.</summary>
    public string FormatShape() => FormatShape(_shape);

    /// <summary>Formats a shape as <c>[2, 4]</c>.</summary>
    /// <param name="shape">The dimensions.</param>
    public static string FormatShape(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>Creates a tensor over <paramref name="data"/> without copying it.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="name">The input or output name.</param>
    /// <param name="data">The elements, row-major; its length must equal the product of <paramref name="shape"/>.</param>
    /// <param name="shape">The dimensions.</param>
    public static ModelTensor<T> Create<T>(string name, Memory<T> data, params ReadOnlySpan<long> shape) => new(name, data, shape);

    /// <summary>Returns this tensor as <see cref="ModelTensor{T}"/>, or throws naming the actual element type.</summary>
    /// <typeparam name="T">The expected element type.</typeparam>
    /// <exception cref="InvalidCastException">The tensor holds another element type.</exception>
    public ModelTensor<T> As<T>() =>
        this as ModelTensor<T> ?? throw new InvalidCastException(this is ModelMapSequence m
            ? $"Output '{Name}' is a sequence of maps from {m.KeyType} to {m.ValueType}, not a tensor; expected {TensorElementTypes.Of<T>()} elements (read it with AsMapSequence)."
            : $"Tensor '{Name}' holds {ElementType} elements; expected {TensorElementTypes.Of<T>()}.");

    /// <summary>Returns this output as a sequence of maps (<see cref="TensorElementType.SequenceOfMaps"/>), or throws naming what it holds.</summary>
    /// <typeparam name="TKey">The expected key type (<see cref="long"/> or <see cref="string"/>).</typeparam>
    /// <typeparam name="TValue">The expected value type (e.g. <see cref="float"/>).</typeparam>
    /// <exception cref="InvalidCastException">The output is a tensor, or a sequence of maps of other key or value types.</exception>
    public ModelMapSequence<TKey, TValue> AsMapSequence<TKey, TValue>()
        where TKey : notnull =>
        this as ModelMapSequence<TKey, TValue> ?? throw new InvalidCastException(this is ModelMapSequence m
            ? $"Output '{Name}' is a sequence of maps from {m.KeyType} to {m.ValueType}; expected {TensorElementTypes.Of<TKey>()} to {TensorElementTypes.Of<TValue>()}."
            : $"Output '{Name}' is a {ElementType} tensor; expected a sequence of maps from {TensorElementTypes.Of<TKey>()} to {TensorElementTypes.Of<TValue>()}.");

    private static long ComputeElementCount(long[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count = checked(count * d);
        }

        return count;
    }
}

/// <summary>A tensor of <typeparamref name="T"/> elements over caller memory.</summary>
/// <typeparam name="T">
/// The element type: <see cref="float"/>, <see cref="double"/>, <see cref="Half"/>, <see cref="BFloat16"/>,
/// <see cref="sbyte"/>, <see cref="byte"/>, <see cref="short"/>, <see cref="ushort"/>, <see cref="int"/>,
/// <see cref="uint"/>, <see cref="long"/>, <see cref="ulong"/>, <see cref="bool"/> or <see cref="string"/>
/// (elements of a string tensor must not be null when it is run).
/// </typeparam>
public sealed class ModelTensor<T> : ModelTensor
{
    private static readonly TensorElementType s_elementType = TensorElementTypes.Of<T>();

    /// <summary>Creates a tensor over <paramref name="data"/> without copying it.</summary>
    /// <param name="name">The input or output name.</param>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; their product must equal the length of <paramref name="data"/>.</param>
    /// <exception cref="ArgumentException">The element type is not supported, or the data length does not match the shape.</exception>
    public ModelTensor(string name, Memory<T> data, params ReadOnlySpan<long> shape)
        : base(name, shape)
    {
        if (s_elementType == TensorElementType.Unknown)
        {
            throw new ArgumentException(
                $"Tensor '{name}' uses element type {typeof(T).Name}; expected float, double, Half, BFloat16, sbyte, byte, short, ushort, int, uint, long, ulong, bool or string.",
                nameof(data));
        }

        if (data.Length != ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has shape {FormatShape()} ({ElementCount} elements) but {data.Length} data elements were given.",
                nameof(data));
        }

        Data = data;
    }

    /// <inheritdoc />
    public override TensorElementType ElementType => s_elementType;

    /// <summary>The elements, row-major.</summary>
    public Memory<T> Data { get; }

    /// <summary>The elements as a span.</summary>
    public Span<T> Span => Data.Span;
}
