using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
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
        _ => null,
    };

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

    /// <summary>Stacks the tensors along the first dimension into a new tensor of <paramref name="shape"/>.</summary>
    public abstract ModelTensor Stack(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape);

    /// <summary>A view (no copy) of <paramref name="rows"/> rows of <paramref name="batch"/> starting at <paramref name="firstRow"/>.</summary>
    public abstract ModelTensor SliceRows(ModelTensor batch, long firstRow, long rows);

    /// <summary>A tensor of zeros, for warm-up.</summary>
    public abstract ModelTensor Zeros(string name, long[] shape);

    /// <summary>A tensor of <paramref name="values"/> converted to the element type (one value fills it), for warm-up.</summary>
    public abstract ModelTensor FromValues(string name, long[] shape, IReadOnlyList<double> values);

    /// <summary>A tensor of raw little-endian elements, for warm-up from a file.</summary>
    public abstract ModelTensor FromBytes(string name, long[] shape, ReadOnlySpan<byte> bytes);

    /// <summary>The size of one element in bytes.</summary>
    public abstract int ElementSize { get; }
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

    public override OrtValue CreateInput(ModelTensor tensor) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ((ModelTensor<T>)tensor).Data, tensor.Shape.ToArray()); // ONNX Runtime copies the dimensions; the elements stay in the caller's memory

    public override ModelTensor AllocateOutput(string name, long[] shape, out OrtValue value)
    {
        var result = new ModelTensor<T>(name, new T[ElementCount(shape)], shape);
        value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, result.Data, shape);
        return result;
    }

    public override ModelTensor CopyOutput(string name, OrtValue value)
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        return new ModelTensor<T>(name, value.GetTensorDataAsSpan<T>().ToArray(), shape);
    }

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

        return -1;
    }

    public override ModelTensor Stack(string name, IReadOnlyList<ModelTensor[]> items, int inputIndex, long[] shape)
    {
        var data = new T[ElementCount(shape)];
        var offset = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var src = ((ModelTensor<T>)items[i][inputIndex]).Data.Span;
            src.CopyTo(data.AsSpan(offset));
            offset += src.Length;
        }

        return new ModelTensor<T>(name, data, shape);
    }

    public override ModelTensor SliceRows(ModelTensor batch, long firstRow, long rows)
    {
        var typed = (ModelTensor<T>)batch;
        var shape = typed.Shape.ToArray();
        var rowSize = shape[0] == 0 ? 0 : typed.ElementCount / shape[0];
        shape[0] = rows;
        return new ModelTensor<T>(batch.Name, typed.Data.Slice(checked((int)(firstRow * rowSize)), checked((int)(rows * rowSize))), shape);
    }

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
            data[i] = (T)Convert.ChangeType(values[values.Count == 1 ? 0 : i], typeof(T), System.Globalization.CultureInfo.InvariantCulture);
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

    private static int ElementCount(long[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count = checked(count * d);
        }

        return checked((int)count);
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
