using System.Text.Json;
using AiOps.Inference.Serving;

namespace AiOps.Inference.Tests.Serving;

/// <summary>Every row of <see cref="OipDatatypes.All"/>: JSON and binary encodings round-trip each type's edge values exactly.</summary>
public sealed class DatatypeTableTests
{
    /// <summary>Edge values of each element type, as a [2, 2] tensor.</summary>
    internal static ModelTensor Sample(TensorElementType type) => type switch
    {
        TensorElementType.Float32 => ModelTensor.Create("t", new[] { float.MinValue, -0f, float.Epsilon, float.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.Float64 => ModelTensor.Create("t", new[] { double.MinValue, 0.1, double.Epsilon, double.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.Int8 => ModelTensor.Create("t", new sbyte[] { sbyte.MinValue, -1, 0, sbyte.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.UInt8 => ModelTensor.Create("t", new byte[] { 0, 1, 128, byte.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.Int16 => ModelTensor.Create("t", new short[] { short.MinValue, -1, 0, short.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.Int32 => ModelTensor.Create("t", new[] { int.MinValue, -1, 0, int.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.Int64 => ModelTensor.Create("t", new[] { long.MinValue, -1, 0, long.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.UInt16 => ModelTensor.Create("t", new ushort[] { 0, 1, 32768, ushort.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.UInt32 => ModelTensor.Create("t", new uint[] { 0, 1, 1u << 31, uint.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.UInt64 => ModelTensor.Create("t", new ulong[] { 0, 1, 1ul << 63, ulong.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.Bool => ModelTensor.Create("t", new[] { true, false, false, true }.AsMemory(), 2, 2),
        TensorElementType.Float16 => ModelTensor.Create("t", new[] { Half.MinValue, Half.NegativeZero, Half.Epsilon, Half.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.BFloat16 => ModelTensor.Create("t", new[] { BFloat16.MinValue, BFloat16.FromBits(0x8000), BFloat16.FromBits(0x0001), BFloat16.MaxValue }.AsMemory(), 2, 2),
        TensorElementType.String => ModelTensor.Create("t", new[] { "", "a", "日本語 🦤", "quote \" and \\ back" }.AsMemory(), 2, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No sample for this type: add one with the datatype."),
    };

    public static TheoryData<string> Names() => [.. OipDatatypes.All.Select(d => d.Name)];

    [Fact]
    public void All_CoversEveryTensorElementTypeOnce()
    {
        var types = Enum.GetValues<TensorElementType>().Where(t => t is not (TensorElementType.Unknown or TensorElementType.SequenceOfMaps));

        Assert.Equal(types.Order(), OipDatatypes.All.Select(d => d.ElementType).Order());
        Assert.Equal(["BF16", "BOOL", "BYTES", "FP16", "FP32", "FP64", "INT16", "INT32", "INT64", "INT8", "UINT16", "UINT32", "UINT64", "UINT8"], OipDatatypes.All.Select(d => d.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void JsonAndBinary_RoundTripEdgeValuesExactly(string name)
    {
        Assert.True(OipDatatypes.TryGet(name, out var datatype));
        var tensor = Sample(datatype.ElementType);

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            datatype.WriteJson(writer, tensor);
            writer.WriteEndArray();
        }

        using var json = JsonDocument.Parse(buffer.WrittenMemory);
        var fromJson = datatype.FromJson("t", [2, 2], 4, json.RootElement);
        var bytes = new byte[datatype.ByteLength(tensor)];
        datatype.WriteBytes(tensor, bytes);
        var fromBytes = datatype.FromBytes("t", [2, 2], 4, bytes);

        Assert.Equal(Elements(tensor), Elements(fromJson));
        Assert.Equal(Elements(tensor), Elements(fromBytes));
        Assert.Equal(datatype.ElementType, fromJson.ElementType);
        if (datatype.FixedByteLength(4) is { } fixedLength)
        {
            Assert.Equal(fixedLength, bytes.Length);
        }
    }

    /// <summary>The elements as comparable text (the raw bits for 16-bit floats, so -0 and subnormals count).</summary>
    private static string[] Elements(ModelTensor t) => t switch
    {
        ModelTensor<Half> h => [.. h.Data.ToArray().Select(v => BitConverter.HalfToUInt16Bits(v).ToString("X4", System.Globalization.CultureInfo.InvariantCulture))],
        ModelTensor<BFloat16> b => [.. b.Data.ToArray().Select(v => v.Bits.ToString("X4", System.Globalization.CultureInfo.InvariantCulture))],
        ModelTensor<float> f => [.. f.Data.ToArray().Select(v => BitConverter.SingleToUInt32Bits(v).ToString("X8", System.Globalization.CultureInfo.InvariantCulture))],
        ModelTensor<double> d => [.. d.Data.ToArray().Select(v => BitConverter.DoubleToUInt64Bits(v).ToString("X16", System.Globalization.CultureInfo.InvariantCulture))],
        ModelTensor<string> s => s.Data.ToArray(),
        ModelTensor<sbyte> v => Text(v),
        ModelTensor<byte> v => Text(v),
        ModelTensor<short> v => Text(v),
        ModelTensor<ushort> v => Text(v),
        ModelTensor<int> v => Text(v),
        ModelTensor<uint> v => Text(v),
        ModelTensor<long> v => Text(v),
        ModelTensor<ulong> v => Text(v),
        ModelTensor<bool> v => Text(v),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t.ElementType, "No comparison for this type."),
    };

    private static string[] Text<T>(ModelTensor<T> t) => [.. t.Data.ToArray().Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!)];
}
