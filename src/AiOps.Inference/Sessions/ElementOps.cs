using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OrtBFloat16 = Microsoft.ML.OnnxRuntime.BFloat16;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace AiOps.Inference.Sessions;

/// <summary>Element-type specific tensor operations, chosen once per input/output so the hot path has no type switches.</summary>
internal abstract class ElementOps
{
    public abstract TensorElementType ElementType { get; }

    public static ElementOps? For(TensorElementType type) => type switch
    {
        TensorElementType.Float32 => ElementOps<float>.Instance,
        TensorElementType.Float64 => ElementOps<double>.Instance,
        TensorElementType.Int8 => ElementOps<sbyte>.Instance,
        TensorElementType.UInt8 => ElementOps<byte>.Instance,
        TensorElementType.Int16 => ElementOps<short>.Instance,
        TensorElementType.Int32 => ElementOps<int>.Instance,
        TensorElementType.Int64 => ElementOps<long>.Instance,
        TensorElementType.Bool => ElementOps<bool>.Instance,
        TensorElementType.UInt16 => ElementOps<ushort>.Instance,
        TensorElementType.UInt32 => ElementOps<uint>.Instance,
        TensorElementType.UInt64 => ElementOps<ulong>.Instance,
        TensorElementType.Float16 => ElementOps<Half>.Instance,
        TensorElementType.BFloat16 => ElementOps<BFloat16>.Instance,
        TensorElementType.String => StringOps.Instance,
        _ => null,
    };

    /// <summary>
    /// The operations for a declared input or output: a tensor of a known element type, or (outputs only) a sequence
    /// of maps such as scikit-learn's ZipMap gives; <see langword="null"/> with what it is in <paramref name="what"/> otherwise.
    /// </summary>
    public static ElementOps? ForNode(NodeMetadata node, bool input, out string what)
    {
        if (node.IsTensor)
        {
            what = $"a {node.ElementDataType} tensor";
            return For(node.IsString ? TensorElementType.String : FromOrt(node.ElementDataType));
        }

        what = $"a {node.OnnxValueType} value";
        if (input || node.OnnxValueType != OnnxValueType.ONNX_TYPE_SEQUENCE)
        {
            return null;
        }

        var element = node.AsSequenceMetadata().ElementMeta;
        if (element.OnnxValueType != OnnxValueType.ONNX_TYPE_MAP)
        {
            what = $"a sequence of {element.OnnxValueType}";
            return null;
        }

        var map = element.AsMapMetadata();
        var value = map.ValueMetadata;
        var valueType = value.IsTensor ? (value.IsString ? TensorElementType.String : FromOrt(value.ElementDataType)) : TensorElementType.Unknown;
        what = $"a sequence of maps from {map.KeyDataType} to {(value.IsTensor ? value.ElementDataType.ToString() : value.OnnxValueType.ToString())}";
        return (FromOrt(map.KeyDataType), valueType) switch
        {
            (TensorElementType.Int64, TensorElementType.Float32) => MapSequenceOps<long, float>.Instance,
            (TensorElementType.Int64, TensorElementType.Float64) => MapSequenceOps<long, double>.Instance,
            (TensorElementType.Int64, TensorElementType.Int64) => MapSequenceOps<long, long>.Instance,
            (TensorElementType.Int64, TensorElementType.String) => MapSequenceOps<long, string>.Instance,
            (TensorElementType.String, TensorElementType.Float32) => MapSequenceOps<string, float>.Instance,
            (TensorElementType.String, TensorElementType.Float64) => MapSequenceOps<string, double>.Instance,
            (TensorElementType.String, TensorElementType.Int64) => MapSequenceOps<string, long>.Instance,
            (TensorElementType.String, TensorElementType.String) => MapSequenceOps<string, string>.Instance,
            _ => null,
        };
    }

    /// <summary>What a load refusal lists as accepted.</summary>
    public const string Supported = "a tensor of float, double, float16, bfloat16, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool or string (or, as an output, a sequence of maps from int64 or string to float, double, int64 or string)";

    public static TensorElementType FromOrt(OrtElementType type) => type switch
    {
        OrtElementType.Float => TensorElementType.Float32,
        OrtElementType.Double => TensorElementType.Float64,
        OrtElementType.Int8 => TensorElementType.Int8,
        OrtElementType.UInt8 => TensorElementType.UInt8,
        OrtElementType.Int16 => TensorElementType.Int16,
        OrtElementType.Int32 => TensorElementType.Int32,
        OrtElementType.Int64 => TensorElementType.Int64,
        OrtElementType.Bool => TensorElementType.Bool,
        OrtElementType.UInt16 => TensorElementType.UInt16,
        OrtElementType.UInt32 => TensorElementType.UInt32,
        OrtElementType.UInt64 => TensorElementType.UInt64,
        OrtElementType.Float16 => TensorElementType.Float16,
        OrtElementType.BFloat16 => TensorElementType.BFloat16,
        OrtElementType.String => TensorElementType.String,
        _ => TensorElementType.Unknown,
    };

    /// <summary>Wraps the caller's memory in an <see cref="OrtValue"/> without copying (the memory is pinned until disposal).</summary>
    public abstract OrtValue CreateInput(ModelTensor tensor);

    /// <summary>Allocates a managed output tensor and an <see cref="OrtValue"/> over it for ONNX Runtime to write into.</summary>
    public abstract ModelTensor AllocateOutput(string name, long[] shape, out OrtValue value);

    /// <summary>Copies an output ONNX Runtime allocated into a managed tensor.</summary>
    public abstract ModelTensor CopyOutput(string name, OrtValue value);

    /// <summary>The index of the first NaN or infinite element, or -1 (always -1 for integer types).</summary>
    public abstract long IndexOfNonFinite(ModelTensor tensor);

    /// <summary>Stacks the tensors along dimension <paramref name="axis"/> into a new tensor of <paramref name="shape"/>.</summary>
    public abstract ModelTensor Stack(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape, int axis = 0);

    /// <summary><paramref name="rows"/> rows of <paramref name="batch"/> along dimension <paramref name="axis"/> from
    /// <paramref name="firstRow"/>: a view (no copy) along the first dimension, a copy along another.</summary>
    public abstract ModelTensor SliceRows(ModelTensor batch, long firstRow, long rows, int axis = 0);

    /// <summary>A tensor of zeros, for warm-up.</summary>
    public abstract ModelTensor Zeros(string name, long[] shape);

    /// <summary>A tensor of <paramref name="values"/> converted to the element type (one value fills it), for warm-up.</summary>
    public abstract ModelTensor FromValues(string name, long[] shape, IReadOnlyList<double> values);

    /// <summary>A tensor of raw little-endian elements, for warm-up from a file.</summary>
    public abstract ModelTensor FromBytes(string name, long[] shape, ReadOnlySpan<byte> bytes);

    /// <summary>The size of one element in bytes.</summary>
    public abstract int ElementSize { get; }

    /// <summary>Whether ONNX Runtime can write this output into managed memory allocated before the run.</summary>
    public virtual bool CanPreallocate => true;

    /// <summary>For a sequence-of-maps output, the key type; otherwise <see cref="TensorElementType.Unknown"/>.</summary>
    public virtual TensorElementType MapKeyType => TensorElementType.Unknown;

    /// <summary>For a sequence-of-maps output, the value type; otherwise <see cref="TensorElementType.Unknown"/>.</summary>
    public virtual TensorElementType MapValueType => TensorElementType.Unknown;

    /// <summary>The index of the first null element (string tensors), or -1.</summary>
    public virtual long IndexOfNull(ModelTensor tensor) => -1;

    /// <summary>Copies input <paramref name="inputIndex"/> of each call, in order, into one tensor of <paramref name="shape"/>.</summary>
    protected static ModelTensor<T> StackOf<T>(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape, int axis)
    {
        var data = new T[ElementCount(shape)];
        var (outer, inner) = AroundAxis(shape, axis);
        var offset = 0;
        for (var o = 0; o < outer; o++)
        {
            // For each index of the dimensions before the axis, the calls' blocks follow one another along it.
            for (var i = 0; i < items.Count; i++)
            {
                var item = (ModelTensor<T>)items[i][inputIndex];
                var block = checked((int)(item.Shape[axis] * inner));
                item.Span.Slice(o * block, block).CopyTo(data.AsSpan(offset));
                offset += block;
            }
        }

        return new ModelTensor<T>(name, data, shape);
    }

    /// <summary><paramref name="rows"/> rows of <paramref name="batch"/> along <paramref name="axis"/> from <paramref name="firstRow"/>:
    /// over the same memory along the first dimension, copied along another.</summary>
    protected static ModelTensor<T> SliceRowsOf<T>(ModelTensor batch, long firstRow, long rows, int axis)
    {
        var typed = (ModelTensor<T>)batch;
        var shape = typed.Shape.ToArray();
        var (outer, inner) = AroundAxis(shape, axis);
        var total = shape[axis];
        shape[axis] = rows;
        if (outer == 1)
        {
            return new ModelTensor<T>(batch.Name, typed.Data.Slice(checked((int)(firstRow * inner)), checked((int)(rows * inner))), shape);
        }

        var data = new T[ElementCount(shape)];
        var block = checked((int)(rows * inner));
        var source = typed.Span;
        for (var o = 0; o < outer; o++)
        {
            source.Slice(checked((int)(((o * total) + firstRow) * inner)), block).CopyTo(data.AsSpan(o * block));
        }

        return new ModelTensor<T>(batch.Name, data, shape);
    }

    /// <summary>The element counts of the dimensions before <paramref name="axis"/> and after it.</summary>
    private static (int Outer, long Inner) AroundAxis(long[] shape, int axis)
    {
        long outer = 1, inner = 1;
        for (var d = 0; d < axis; d++)
        {
            outer = checked(outer * shape[d]);
        }

        for (var d = axis + 1; d < shape.Length; d++)
        {
            inner = checked(inner * shape[d]);
        }

        return (checked((int)outer), inner);
    }

    /// <summary>The number of elements of <paramref name="shape"/>, as an array length.</summary>
    protected static int ElementCount(long[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count = checked(count * d);
        }

        return checked((int)count);
    }
}

/// <summary>The operations for <typeparamref name="T"/>.</summary>
internal sealed class ElementOps<T> : ElementOps
    where T : unmanaged
{
    public static readonly ElementOps<T> Instance = new();

    private static readonly TensorElementType s_type = TensorElementTypes.Of<T>();

    private ElementOps()
    {
    }

    public override TensorElementType ElementType => s_type;

    public override OrtValue CreateInput(ModelTensor tensor) => Wrap(((ModelTensor<T>)tensor).Data, Scratch.Dims(tensor.Shape)); // ONNX Runtime copies the dimensions (the thread's scratch array serves); the elements stay in the caller's memory

    public override ModelTensor AllocateOutput(string name, long[] shape, out OrtValue value)
    {
        var result = new ModelTensor<T>(name, new T[ElementCount(shape)], shape);
        value = Wrap(result.Data, shape);
        return result;
    }

    public override ModelTensor CopyOutput(string name, OrtValue value)
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        T[] data = typeof(T) == typeof(Half) ? MemoryMarshal.Cast<Float16, T>(value.GetTensorDataAsSpan<Float16>()).ToArray()
            : typeof(T) == typeof(BFloat16) ? MemoryMarshal.Cast<OrtBFloat16, T>(value.GetTensorDataAsSpan<OrtBFloat16>()).ToArray()
            : value.GetTensorDataAsSpan<T>().ToArray();
        return new ModelTensor<T>(name, data, shape);
    }

    /// <summary>
    /// An <see cref="OrtValue"/> over <paramref name="data"/> without a copy. <see cref="Half"/> and AiOps'
    /// <see cref="BFloat16"/> are handed over as ONNX Runtime's own 16-bit types (the same bits, reinterpreted in place).
    /// </summary>
    private static OrtValue Wrap(Memory<T> data, long[] shape) =>
        typeof(T) == typeof(Half) ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new ReinterpretedMemory<T, Float16>(data).Memory, shape)
        : typeof(T) == typeof(BFloat16) ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new ReinterpretedMemory<T, OrtBFloat16>(data).Memory, shape)
        : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data, shape);

    public override long IndexOfNonFinite(ModelTensor tensor)
    {
        if (typeof(T) == typeof(float))
        {
            return IndexOfNonFinite(MemoryMarshal.Cast<T, float>(((ModelTensor<T>)tensor).Data.Span));
        }

        if (typeof(T) == typeof(double))
        {
            return IndexOfNonFinite(MemoryMarshal.Cast<T, double>(((ModelTensor<T>)tensor).Data.Span));
        }

        if (typeof(T) == typeof(Half))
        {
            var span = MemoryMarshal.Cast<T, Half>(((ModelTensor<T>)tensor).Data.Span);
            for (var i = 0; i < span.Length; i++)
            {
                if (!Half.IsFinite(span[i]))
                {
                    return i;
                }
            }
        }

        if (typeof(T) == typeof(BFloat16))
        {
            var span = MemoryMarshal.Cast<T, BFloat16>(((ModelTensor<T>)tensor).Data.Span);
            for (var i = 0; i < span.Length; i++)
            {
                if (!BFloat16.IsFinite(span[i]))
                {
                    return i;
                }
            }
        }

        return -1;
    }

    public override ModelTensor Stack(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape, int axis = 0) => StackOf<T>(name, items, inputIndex, shape, axis);

    public override ModelTensor SliceRows(ModelTensor batch, long firstRow, long rows, int axis = 0) => SliceRowsOf<T>(batch, firstRow, rows, axis);

    public override ModelTensor Zeros(string name, long[] shape) => new ModelTensor<T>(name, new T[ElementCount(shape)], shape);

    public override int ElementSize => System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    public override ModelTensor FromValues(string name, long[] shape, IReadOnlyList<double> values)
    {
        var data = new T[ElementCount(shape)];
        if (values.Count != 1 && values.Count != data.Length)
        {
            throw new ArgumentException($"{values.Count} values for a tensor of shape [{string.Join(", ", shape)}]; expected one value (it fills the tensor) or {data.Length}.");
        }

        for (var i = 0; i < data.Length; i++)
        {
            var v = values[values.Count == 1 ? 0 : i];
            data[i] = typeof(T) == typeof(Half) ? (T)(object)(Half)v
                : typeof(T) == typeof(BFloat16) ? (T)(object)(BFloat16)v
                : (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }

        return new ModelTensor<T>(name, data, shape);
    }

    public override ModelTensor FromBytes(string name, long[] shape, ReadOnlySpan<byte> bytes)
    {
        var count = ElementCount(shape);
        if (bytes.Length != (long)count * ElementSize)
        {
            throw new ArgumentException($"{bytes.Length} bytes for a tensor of shape [{string.Join(", ", shape)}] of {typeof(T).Name}; expected {(long)count * ElementSize} (raw little-endian elements).");
        }

        return new ModelTensor<T>(name, MemoryMarshal.Cast<byte, T>(bytes).ToArray(), shape);
    }

    private static long IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // x - x is 0 for every finite x and NaN for NaN and ±Infinity: one subtraction checks a whole vector.
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static long IndexOfNonFinite(ReadOnlySpan<double> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var v = new Vector<double>(values[i..]);
                if (!Vector.EqualsAll(v - v, Vector<double>.Zero))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// <typeparamref name="TFrom"/> memory seen as <typeparamref name="TTo"/> of the same size (System.Half as ONNX
/// Runtime's Float16, AiOps' BFloat16 as ONNX Runtime's): no copy; pinning pins the caller's memory.
/// </summary>
internal sealed class ReinterpretedMemory<TFrom, TTo> : MemoryManager<TTo>
    where TFrom : unmanaged
    where TTo : unmanaged
{
    private readonly Memory<TFrom> _source;

    public ReinterpretedMemory(Memory<TFrom> source)
    {
        System.Diagnostics.Debug.Assert(System.Runtime.CompilerServices.Unsafe.SizeOf<TFrom>() == System.Runtime.CompilerServices.Unsafe.SizeOf<TTo>(), "Same element size.");
        _source = source;
    }

    public override Span<TTo> GetSpan() => MemoryMarshal.Cast<TFrom, TTo>(_source.Span);

    public override MemoryHandle Pin(int elementIndex = 0) => _source[elementIndex..].Pin();

    public override void Unpin()
    {
        // The handle returned by Pin unpins the source when it is disposed.
    }

    protected override void Dispose(bool disposing)
    {
    }
}

/// <summary>String tensors: UTF-8 in ONNX Runtime, so every element is encoded in and decoded out (a copy by nature).</summary>
internal sealed class StringOps : ElementOps
{
    public static readonly StringOps Instance = new();

    private StringOps()
    {
    }

    public override TensorElementType ElementType => TensorElementType.String;

    public override int ElementSize => throw new NotSupportedException("String elements have no fixed size.");

    /// <summary>ONNX Runtime owns string buffers; outputs are read after the run.</summary>
    public override bool CanPreallocate => false;

    public override OrtValue CreateInput(ModelTensor tensor)
    {
        var span = ((ModelTensor<string>)tensor).Span;
        var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape.ToArray());
        try
        {
            for (var i = 0; i < span.Length; i++)
            {
                value.StringTensorSetElementAt(span[i].AsSpan(), i);
            }

            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    public override ModelTensor AllocateOutput(string name, long[] shape, out OrtValue value) =>
        throw new NotSupportedException("String outputs are allocated by ONNX Runtime.");

    public override ModelTensor CopyOutput(string name, OrtValue value) =>
        new ModelTensor<string>(name, value.GetStringTensorAsArray(), value.GetTensorTypeAndShape().Shape);

    public override long IndexOfNonFinite(ModelTensor tensor) => -1;

    public override long IndexOfNull(ModelTensor tensor)
    {
        var span = ((ModelTensor<string>)tensor).Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] is null)
            {
                return i;
            }
        }

        return -1;
    }

    public override ModelTensor Stack(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape, int axis = 0) => StackOf<string>(name, items, inputIndex, shape, axis);

    public override ModelTensor SliceRows(ModelTensor batch, long firstRow, long rows, int axis = 0) => SliceRowsOf<string>(batch, firstRow, rows, axis);

    public override ModelTensor Zeros(string name, long[] shape)
    {
        var data = new string[ElementCount(shape)];
        Array.Fill(data, string.Empty);
        return new ModelTensor<string>(name, data, shape);
    }

    /// <summary>Declared warm-up values of a string input are numbers written as invariant text (e.g. 3 gives "3").</summary>
    public override ModelTensor FromValues(string name, long[] shape, IReadOnlyList<double> values)
    {
        var data = new string[ElementCount(shape)];
        if (values.Count != 1 && values.Count != data.Length)
        {
            throw new ArgumentException($"{values.Count} values for a tensor of shape [{string.Join(", ", shape)}]; expected one value (it fills the tensor) or {data.Length}.");
        }

        for (var i = 0; i < data.Length; i++)
        {
            data[i] = values[values.Count == 1 ? 0 : i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new ModelTensor<string>(name, data, shape);
    }

    public override ModelTensor FromBytes(string name, long[] shape, ReadOnlySpan<byte> bytes) =>
        throw new ArgumentException($"String input '{name}' cannot be read from a raw element file (strings have no fixed size); expected inline Values, or none (empty strings).");
}

/// <summary>
/// A sequence-of-maps output (ONNX <c>seq(map(K, V))</c>, scikit-learn's ZipMap): read from ONNX Runtime after the run
/// into a <see cref="ModelMapSequence{TKey, TValue}"/>, sliced per caller when calls were batched. Never an input.
/// </summary>
internal sealed class MapSequenceOps<TKey, TValue> : ElementOps
    where TKey : notnull
{
    public static readonly MapSequenceOps<TKey, TValue> Instance = new();

    private MapSequenceOps()
    {
    }

    public override TensorElementType ElementType => TensorElementType.SequenceOfMaps;

    public override TensorElementType MapKeyType => TensorElementTypes.Of<TKey>();

    public override TensorElementType MapValueType => TensorElementTypes.Of<TValue>();

    public override int ElementSize => throw new NotSupportedException("A sequence of maps has no fixed element size.");

    public override bool CanPreallocate => false;

    public override ModelTensor CopyOutput(string name, OrtValue value)
    {
        var allocator = OrtAllocator.DefaultInstance;
        var count = value.GetValueCount();
        var maps = new IReadOnlyDictionary<TKey, TValue>[count];
        for (var i = 0; i < count; i++)
        {
            using var map = value.GetValue(i, allocator);
            using var keys = map.GetValue(0, allocator);
            using var values = map.GetValue(1, allocator);
            var k = Read<TKey>(keys);
            var v = Read<TValue>(values);
            var dictionary = new Dictionary<TKey, TValue>(k.Length);
            for (var j = 0; j < k.Length; j++)
            {
                dictionary[k[j]] = v[j];
            }

            maps[i] = dictionary;
        }

        return new ModelMapSequence<TKey, TValue>(name, maps);
    }

    public override ModelTensor SliceRows(ModelTensor batch, long firstRow, long rows, int axis = 0) =>
        ((ModelMapSequence)batch).Slice(checked((int)firstRow), checked((int)rows));

    public override long IndexOfNonFinite(ModelTensor tensor) => -1;

    public override OrtValue CreateInput(ModelTensor tensor) => throw NotAnInput();

    public override ModelTensor AllocateOutput(string name, long[] shape, out OrtValue value) => throw new NotSupportedException("Sequences of maps are allocated by ONNX Runtime.");

    public override ModelTensor Stack(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape, int axis = 0) => throw NotAnInput();

    public override ModelTensor Zeros(string name, long[] shape) => throw NotAnInput();

    public override ModelTensor FromValues(string name, long[] shape, IReadOnlyList<double> values) => throw NotAnInput();

    public override ModelTensor FromBytes(string name, long[] shape, ReadOnlySpan<byte> bytes) => throw NotAnInput();

    private static NotSupportedException NotAnInput() => new("A sequence of maps is never a model input (refused at load).");

    private static T[] Read<T>(OrtValue tensor)
    {
        if (typeof(T) == typeof(string))
        {
            return (T[])(object)tensor.GetStringTensorAsArray();
        }

        if (typeof(T) == typeof(long))
        {
            return (T[])(object)tensor.GetTensorDataAsSpan<long>().ToArray();
        }

        if (typeof(T) == typeof(float))
        {
            return (T[])(object)tensor.GetTensorDataAsSpan<float>().ToArray();
        }

        return (T[])(object)tensor.GetTensorDataAsSpan<double>().ToArray();
    }
}
