using System.ComponentModel;
using System.Globalization;

namespace AiOps.Inference;

/// <summary>
/// The declared batch axis of one input or output (<see cref="OnnxBatchingOptions.BatchAxes"/>): the index of the
/// dimension calls are stacked along, or <see cref="None"/> for a tensor that is not batched (a shared scalar, a
/// lookup table). In configuration it is written as the index (<c>0</c>) or <c>none</c>.
/// </summary>
[TypeConverter(typeof(OnnxBatchAxisConverter))]
public readonly record struct OnnxBatchAxis
{
    private readonly int _axis; // index + 1; 0 is None (the default value)

    private OnnxBatchAxis(int axisPlusOne) => _axis = axisPlusOne;

    /// <summary>Not batched: every call of a batch must give the same value (an input), or every caller receives the whole tensor (an output).</summary>
    public static OnnxBatchAxis None => default;

    /// <summary>The dimension index calls are stacked along; <see langword="null"/> for <see cref="None"/>.</summary>
    public int? Axis => _axis == 0 ? null : _axis - 1;

    /// <summary>Whether the tensor is not batched.</summary>
    public bool IsNone => _axis == 0;

    /// <summary>The batch along dimension <paramref name="axis"/>.</summary>
    /// <param name="axis">The dimension index, 0 or more.</param>
    /// <returns>The declared axis.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is negative.</exception>
    public static OnnxBatchAxis At(int axis)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        return new OnnxBatchAxis(axis + 1);
    }

    /// <summary>The batch along dimension <paramref name="axis"/> (<c>BatchAxes["x"] = 0</c>).</summary>
    /// <param name="axis">The dimension index, 0 or more.</param>
    public static implicit operator OnnxBatchAxis(int axis) => At(axis);

    /// <summary>Same as the implicit conversion from <see cref="int"/>.</summary>
    /// <param name="axis">The dimension index, 0 or more.</param>
    /// <returns>The declared axis.</returns>
    public static OnnxBatchAxis FromInt32(int axis) => At(axis);

    /// <summary>Parses <c>none</c> (any case) or a dimension index.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The declared axis.</returns>
    /// <exception cref="FormatException">Neither <c>none</c> nor an index of 0 or more.</exception>
    public static OnnxBatchAxis Parse(string text)
    {
        var trimmed = text?.Trim();
        if (string.Equals(trimmed, "none", StringComparison.OrdinalIgnoreCase))
        {
            return None;
        }

        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var axis))
        {
            return At(axis);
        }

        throw new FormatException($"Batch axis '{text}' is not valid; expected a dimension index (0 or more) or 'none'.");
    }

    /// <summary>The index, or <c>none</c>.</summary>
    /// <returns>The text form (what <see cref="Parse"/> reads).</returns>
    public override string ToString() => Axis is { } axis ? axis.ToString(CultureInfo.InvariantCulture) : "none";
}

/// <summary>Converts <see cref="OnnxBatchAxis"/> from configuration text (<c>0</c>, <c>none</c>).</summary>
internal sealed class OnnxBatchAxisConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || sourceType == typeof(int) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) => value switch
    {
        string text => OnnxBatchAxis.Parse(text),
        int axis => OnnxBatchAxis.At(axis),
        _ => base.ConvertFrom(context, culture, value),
    };

    public override bool CanConvertTo(ITypeDescriptorContext? context, Type? destinationType) =>
        destinationType == typeof(string) || base.CanConvertTo(context, destinationType);

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is OnnxBatchAxis axis ? axis.ToString() : base.ConvertTo(context, culture, value, destinationType);
}
