namespace AiOps.Abstractions.Tests;

public sealed class BFloat16Tests
{
    [Theory]
    [InlineData(1.0f, (ushort)0x3F80)]
    [InlineData(-2.0f, (ushort)0xC000)]
    [InlineData(0.0f, (ushort)0x0000)]
    [InlineData(-0.0f, (ushort)0x8000)]
    [InlineData(float.PositiveInfinity, (ushort)0x7F80)]
    [InlineData(float.NegativeInfinity, (ushort)0xFF80)]
    [InlineData(3.140625f, (ushort)0x4049)] // exactly representable
    public void FromFloat_ExactValues_KeepTheirUpperBits(float value, ushort bits)
    {
        Assert.Equal(bits, ((BFloat16)value).Bits);
        Assert.Equal(BitConverter.SingleToUInt32Bits(value), BitConverter.SingleToUInt32Bits((float)BFloat16.FromBits(bits)));
    }

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // halfway, kept part even: stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway, kept part odd: rounds up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above halfway: up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just below halfway: down
    [InlineData(0xBF818000u, (ushort)0xBF82)] // negative: symmetric
    [InlineData(0x3FFF8000u, (ushort)0x4000)] // carry into the exponent
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float.MaxValue is past the last bfloat16 midpoint: infinity
    [InlineData(0x00008000u, (ushort)0x0000)] // subnormal halfway, even: zero
    [InlineData(0x00018000u, (ushort)0x0002)] // subnormal halfway, odd: up
    public void FromFloat_RoundsToNearestTiesToEven(uint floatBits, ushort expected) =>
        Assert.Equal(expected, ((BFloat16)BitConverter.UInt32BitsToSingle(floatBits)).Bits);

    [Fact]
    public void FromFloat_NaN_StaysNaNWithItsSign()
    {
        var positive = (BFloat16)float.NaN;
        var negative = (BFloat16)BitConverter.UInt32BitsToSingle(0xFFC00001);
        var lowPayload = (BFloat16)BitConverter.UInt32BitsToSingle(0x7F800001); // a NaN whose payload is only in the dropped bits

        Assert.True(BFloat16.IsNaN(positive));
        Assert.True(BFloat16.IsNaN(negative));
        Assert.True(BFloat16.IsNaN(lowPayload));
        Assert.Equal(0x8000, negative.Bits & 0x8000);
        Assert.False(BFloat16.IsFinite(positive));
    }

    [Fact]
    public void RoundTrip_EveryBitPattern_IsExact()
    {
        for (var bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var value = BFloat16.FromBits((ushort)bits);
            var back = (BFloat16)(float)value;
            if (BFloat16.IsNaN(value))
            {
                Assert.True(BFloat16.IsNaN(back));
                continue;
            }

            Assert.Equal((ushort)bits, back.Bits);
        }
    }

    [Fact]
    public void FromFloat_MatchesDoubleReferenceOnRandomValues()
    {
        // The nearest bfloat16 found by comparing distances in double (exact for these magnitudes), ties to the even bits.
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var f = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 0x7F7F0000)) * (random.Next(2) == 0 ? 1 : -1);
            var down = (ushort)(BitConverter.SingleToUInt32Bits(f) >> 16);
            var up = (ushort)(down + 1);
            double dDown = Math.Abs((double)(float)BFloat16.FromBits(down) - f), dUp = Math.Abs((double)(float)BFloat16.FromBits(up) - f);
            var expected = dDown < dUp ? down : dUp < dDown ? up : (down & 1) == 0 ? down : up;
            Assert.Equal(expected, ((BFloat16)f).Bits);
        }
    }

    [Fact]
    public void Equality_IsIeeeForOperatorsAndFloatLikeForEquals()
    {
        var nan = BFloat16.NaN;
        var otherNan = BFloat16.FromBits(0xFFC1);
        var zero = BFloat16.FromBits(0x0000);
        var negativeZero = BFloat16.FromBits(0x8000);

        Assert.False(nan == otherNan);
        Assert.True(nan != otherNan);
        Assert.True(nan.Equals(otherNan));
        Assert.True(zero == negativeZero);
        Assert.True(zero.Equals(negativeZero));
        Assert.Equal(zero.GetHashCode(), negativeZero.GetHashCode());
        Assert.True((BFloat16)1f < (BFloat16)2f);
        Assert.Equal("1.5", ((BFloat16)1.5f).ToString());
        Assert.Equal(338953138925153547590470800371487866880.0, (double)BFloat16.MaxValue);
    }

    [Fact]
    public void Tensors_OfHalfBFloat16AndString_ReportTheirElementTypes()
    {
        Assert.Equal(TensorElementType.Float16, ModelTensor.Create("h", new Half[2].AsMemory(), 2).ElementType);
        Assert.Equal(TensorElementType.BFloat16, ModelTensor.Create("b", new BFloat16[2].AsMemory(), 2).ElementType);
        Assert.Equal(TensorElementType.String, ModelTensor.Create("s", new[] { "a", "b" }.AsMemory(), 2).ElementType);
        Assert.Equal(2, TensorElementTypes.SizeOf(TensorElementType.Float16));
        Assert.Equal(2, TensorElementTypes.SizeOf(TensorElementType.BFloat16));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorElementTypes.SizeOf(TensorElementType.String));
    }

    [Fact]
    public void Tensor_OfAnUnsupportedType_RefusedNamingTheSupportedOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelTensor.Create("d", new decimal[1].AsMemory(), 1));
        Assert.Contains("Half, BFloat16", error.Message, StringComparison.Ordinal);
        Assert.Contains("string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapSequence_SlicesWithoutCopyingAndRefusesWrongTypes()
    {
        IReadOnlyDictionary<long, float>[] maps = [new Dictionary<long, float> { [0] = 0.25f, [1] = 0.75f }, new Dictionary<long, float> { [0] = 1f, [1] = 0f }, new Dictionary<long, float>()];
        ModelTensor output = new ModelMapSequence<long, float>("probabilities", maps);

        var sequence = output.AsMapSequence<long, float>();
        var tail = (ModelMapSequence<long, float>)sequence.Slice(1, 2);

        Assert.Equal(TensorElementType.SequenceOfMaps, output.ElementType);
        Assert.Equal([3L], output.Shape.ToArray());
        Assert.Equal(TensorElementType.Int64, sequence.KeyType);
        Assert.Equal(TensorElementType.Float32, sequence.ValueType);
        Assert.Equal(0.75f, sequence[0][1]);
        Assert.Equal(2, tail.Count);
        Assert.Same(maps[1], tail[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => tail[2]);
        Assert.Contains("sequence of maps from Int64 to Float32", Assert.Throws<InvalidCastException>(() => output.AsMapSequence<string, float>()).Message, StringComparison.Ordinal);
        Assert.Contains("AsMapSequence", Assert.Throws<InvalidCastException>(() => output.As<float>()).Message, StringComparison.Ordinal);
        Assert.Contains("null map at index 1", Assert.Throws<ArgumentException>(() => new ModelMapSequence<long, float>("p", [maps[0], null!])).Message, StringComparison.Ordinal);
        Assert.Contains("expected long or string", Assert.Throws<ArgumentException>(() => new ModelMapSequence<int, float>("p", [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_MapSequenceOfOtherKeyType_IsNotAReplacement()
    {
        var input = new TensorSpec("x", TensorElementType.Float32, [-1, 4]);
        var now = new ModelMetadata([input], [new TensorSpec("probabilities", TensorElementType.SequenceOfMaps, [-1]) { MapKeyType = TensorElementType.Int64, MapValueType = TensorElementType.Float32 }]);
        var then = new ModelMetadata([input], [new TensorSpec("probabilities", TensorElementType.SequenceOfMaps, [-1]) { MapKeyType = TensorElementType.String, MapValueType = TensorElementType.Float32 }]);

        var result = now.CheckReplacement(then);

        Assert.False(result.IsCompatible);
        Assert.Contains(result.Problems, p => p.Contains("from Int64 to Float32 today but from String to Float32", StringComparison.Ordinal));
        Assert.True(now.CheckReplacement(now).IsCompatible);
        Assert.Equal("probabilities: seq(map(Int64, Float32))", now.Outputs[0].ToString());
    }
}
