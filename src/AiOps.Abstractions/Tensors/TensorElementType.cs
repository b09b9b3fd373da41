namespace AiOps;

/// <summary>The element types a model input or output may have (named as ONNX names them).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names are ONNX element type names, which users look for.")]
public enum TensorElementType
{
    /// <summary>An element type AiOps does not handle.</summary>
    Unknown = 0,

    /// <summary>32-bit IEEE float (<see cref="float"/>).</summary>
    Float32,

    /// <summary>64-bit IEEE float (<see cref="double"/>).</summary>
    Float64,

    /// <summary>Signed 8-bit integer (<see cref="sbyte"/>).</summary>
    Int8,

    /// <summary>Unsigned 8-bit integer (<see cref="byte"/>).</summary>
    UInt8,

    /// <summary>Signed 16-bit integer (<see cref="short"/>).</summary>
    Int16,

    /// <summary>Signed 32-bit integer (<see cref="int"/>).</summary>
    Int32,

    /// <summary>Signed 64-bit integer (<see cref="long"/>).</summary>
    Int64,

    /// <summary>Boolean (<see cref="bool"/>).</summary>
    Bool,

    /// <summary>Unsigned 16-bit integer (<see cref="ushort"/>).</summary>
    UInt16,

    /// <summary>Unsigned 32-bit integer (<see cref="uint"/>).</summary>
    UInt32,

    /// <summary>Unsigned 64-bit integer (<see cref="ulong"/>).</summary>
    UInt64,

    /// <summary>16-bit IEEE float, "half" (<see cref="Half"/>); ONNX <c>float16</c>.</summary>
    Float16,

    /// <summary>bfloat16: the upper half of a 32-bit float (<see cref="AiOps.BFloat16"/>); ONNX <c>bfloat16</c>.</summary>
    BFloat16,

    /// <summary>Text (<see cref="string"/>, UTF-8 in the model); ONNX <c>string</c>. Elements must not be null.</summary>
    String,

    /// <summary>
    /// Not a tensor element type: the output is a sequence of maps (ONNX <c>seq(map(K, V))</c>, e.g. scikit-learn's
    /// ZipMap), carried as <see cref="ModelMapSequence"/>; <see cref="TensorSpec.MapKeyType"/> and
    /// <see cref="TensorSpec.MapValueType"/> say K and V.
    /// </summary>
    SequenceOfMaps,
}

/// <summary>Maps CLR element types to <see cref="TensorElementType"/>.</summary>
public static class TensorElementTypes
{
    /// <summary>Returns the element type for <typeparamref name="T"/>, or <see cref="TensorElementType.Unknown"/>.</summary>
    /// <typeparam name="T">A CLR element type.</typeparam>
    public static TensorElementType Of<T>()
    {
        if (typeof(T) == typeof(float))
        {
            return TensorElementType.Float32;
        }

        if (typeof(T) == typeof(double))
        {
            return TensorElementType.Float64;
        }

        if (typeof(T) == typeof(long))
        {
            return TensorElementType.Int64;
        }

        if (typeof(T) == typeof(int))
        {
            return TensorElementType.Int32;
        }

        if (typeof(T) == typeof(short))
        {
            return TensorElementType.Int16;
        }

        if (typeof(T) == typeof(sbyte))
        {
            return TensorElementType.Int8;
        }

        if (typeof(T) == typeof(byte))
        {
            return TensorElementType.UInt8;
        }

        if (typeof(T) == typeof(bool))
        {
            return TensorElementType.Bool;
        }

        if (typeof(T) == typeof(ushort))
        {
            return TensorElementType.UInt16;
        }

        if (typeof(T) == typeof(uint))
        {
            return TensorElementType.UInt32;
        }

        if (typeof(T) == typeof(ulong))
        {
            return TensorElementType.UInt64;
        }

        if (typeof(T) == typeof(Half))
        {
            return TensorElementType.Float16;
        }

        if (typeof(T) == typeof(BFloat16))
        {
            return TensorElementType.BFloat16;
        }

        if (typeof(T) == typeof(string))
        {
            return TensorElementType.String;
        }

        return TensorElementType.Unknown;
    }

    /// <summary>Returns the size in bytes of one element of <paramref name="type"/>.</summary>
    /// <param name="type">The element type.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is <see cref="TensorElementType.Unknown"/>, or has no fixed size (<see cref="TensorElementType.String"/>).</exception>
    public static int SizeOf(TensorElementType type) => type switch
    {
        TensorElementType.Float32 or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Float64 or TensorElementType.Int64 or TensorElementType.UInt64 => 8,
        TensorElementType.Int16 or TensorElementType.UInt16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Int8 or TensorElementType.UInt8 or TensorElementType.Bool => 1,
        TensorElementType.String or TensorElementType.SequenceOfMaps => throw new ArgumentOutOfRangeException(nameof(type), type, $"{type} elements have no fixed size; expected a fixed-size element type."),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Expected a known tensor element type."),
    };
}
