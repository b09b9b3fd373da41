using System.Globalization;

namespace AiOps;

/// <summary>
/// A bfloat16 ("brain float") value: the upper 16 bits of an IEEE 754 single (1 sign, 8 exponent, 7 mantissa bits),
/// the element type of <see cref="TensorElementType.BFloat16"/> tensors. It has the range of <see cref="float"/> and
/// about three significant decimal digits. <see cref="Bits"/> is what ONNX stores, bit for bit; converting from
/// <see cref="float"/> rounds to nearest, ties to even (NaN stays NaN), converting back is exact.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>
{
    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>Not a number (the quiet NaN <c>0x7FC0</c>).</summary>
    public static BFloat16 NaN => new(0x7FC0);

    /// <summary>Positive infinity (<c>0x7F80</c>).</summary>
    public static BFloat16 PositiveInfinity => new(0x7F80);

    /// <summary>Negative infinity (<c>0xFF80</c>).</summary>
    public static BFloat16 NegativeInfinity => new(0xFF80);

    /// <summary>The largest finite value (<c>0x7F7F</c>, about 3.39e38).</summary>
    public static BFloat16 MaxValue => new(0x7F7F);

    /// <summary>The smallest finite value (<c>0xFF7F</c>).</summary>
    public static BFloat16 MinValue => new(0xFF7F);

    /// <summary>The raw 16 bits, as ONNX stores them.</summary>
    public ushort Bits { get; }

    /// <summary>The value with these raw bits.</summary>
    /// <param name="bits">The raw 16 bits.</param>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Whether <paramref name="value"/> is NaN.</summary>
    /// <param name="value">The value.</param>
    public static bool IsNaN(BFloat16 value) => (value.Bits & 0x7FFF) > 0x7F80;

    /// <summary>Whether <paramref name="value"/> is neither NaN nor infinite.</summary>
    /// <param name="value">The value.</param>
    public static bool IsFinite(BFloat16 value) => (value.Bits & 0x7F80) != 0x7F80;

    /// <summary>Rounds a <see cref="float"/> to the nearest bfloat16 (ties to even); NaN gives a quiet NaN of the same sign.</summary>
    /// <param name="value">The value.</param>
    public static explicit operator BFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return new((ushort)((bits >> 16) | 0x0040));
        }

        // Add half of the dropped part's range, plus one when the kept part is odd (ties to even); a carry may
        // move the exponent up, which is right (it rounds to the next binade, or to infinity past MaxValue).
        var lsb = (bits >> 16) & 1;
        return new((ushort)((bits + 0x7FFF + lsb) >> 16));
    }

    /// <summary>Rounds a <see cref="double"/> to the nearest bfloat16 (through <see cref="float"/>).</summary>
    /// <param name="value">The value.</param>
    public static explicit operator BFloat16(double value) => (BFloat16)(float)value;

    /// <summary>The exact <see cref="float"/> value.</summary>
    /// <param name="value">The value.</param>
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <summary>The exact <see cref="double"/> value.</summary>
    /// <param name="value">The value.</param>
    public static explicit operator double(BFloat16 value) => (float)value;

    /// <summary>IEEE equality: NaN equals nothing, +0 equals -0.</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    public static bool operator ==(BFloat16 left, BFloat16 right) => (float)left == (float)right;

    /// <summary>IEEE inequality: NaN differs from everything, +0 equals -0.</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    public static bool operator !=(BFloat16 left, BFloat16 right) => !(left == right);

    /// <summary>Whether <paramref name="left"/> is less than <paramref name="right"/> (false when either is NaN).</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    public static bool operator <(BFloat16 left, BFloat16 right) => (float)left < (float)right;

    /// <summary>Whether <paramref name="left"/> is greater than <paramref name="right"/> (false when either is NaN).</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    public static bool operator >(BFloat16 left, BFloat16 right) => (float)left > (float)right;

    /// <summary>Whether <paramref name="left"/> is at most <paramref name="right"/> (false when either is NaN).</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    public static bool operator <=(BFloat16 left, BFloat16 right) => (float)left <= (float)right;

    /// <summary>Whether <paramref name="left"/> is at least <paramref name="right"/> (false when either is NaN).</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    public static bool operator >=(BFloat16 left, BFloat16 right) => (float)left >= (float)right;

    /// <summary>Equality as <see cref="float.Equals(float)"/> has it: NaN equals NaN, +0 equals -0.</summary>
    /// <param name="other">Another value.</param>
    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => ((float)this).GetHashCode();

    /// <summary>Orders as <see cref="float.CompareTo(float)"/> does (NaN first).</summary>
    /// <param name="other">Another value.</param>
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);

    /// <summary>The value as the shortest round-tripping <see cref="float"/> text, invariant culture.</summary>
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
}
