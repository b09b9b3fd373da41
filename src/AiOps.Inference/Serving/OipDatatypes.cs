using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AiOps.Inference.Serving;

/// <summary>
/// One protocol datatype (<c>FP32</c>, <c>INT64</c>, …): how its elements are read from JSON and from the binary tensor
/// data extension, and written back. Every datatype of the protocol is one entry of <see cref="OipDatatypes.All"/>, so a
/// new element type (FP16, BF16, BYTES) is one more line there.
/// </summary>
internal abstract class OipDatatype(string name, TensorElementType elementType, int elementSize)
{
    /// <summary>The protocol name (<c>FP32</c>).</summary>
    public string Name { get; } = name;

    /// <summary>The protocol name as UTF-8, for matching a request's <c>datatype</c> without decoding it.</summary>
    public byte[] Utf8Name { get; } = System.Text.Encoding.UTF8.GetBytes(name);

    /// <summary>The element type it maps to.</summary>
    public TensorElementType ElementType { get; } = elementType;

    /// <summary>Bytes per element in the binary extension (0 for BYTES, whose elements carry their own length).</summary>
    public int ElementSize { get; } = elementSize;

    /// <summary>The bytes <paramref name="count"/> elements take in the binary extension, or <see langword="null"/> when they vary (BYTES).</summary>
    public virtual long? FixedByteLength(long count) => count * ElementSize;

    /// <summary>The bytes <paramref name="tensor"/> takes in the binary extension.</summary>
    public virtual int ByteLength(ModelTensor tensor) => checked((int)(tensor.ElementCount * ElementSize));

    /// <summary>Creates a tensor of <paramref name="count"/> elements from the JSON leaves of <paramref name="data"/> (already checked against the shape).</summary>
    public abstract ModelTensor FromJson(string input, long[] shape, int count, JsonElement data);

    /// <summary>
    /// Creates a tensor of <paramref name="count"/> elements straight from the request's <c>data</c> array, the reader on
    /// its <see cref="JsonTokenType.StartArray"/>, in one forward pass; on success the reader is on the array's end. Answers
    /// <see langword="null"/> (the reader then somewhere inside) when the data does not follow the shape exactly or a
    /// value is not one of this datatype: the caller then lets the document reader judge the body, for its message.
    /// </summary>
    public abstract ModelTensor? TryReadJson(string input, long[] shape, int count, ref Utf8JsonReader reader);

    /// <summary>Creates a tensor from little-endian row-major bytes (length already checked).</summary>
    public abstract ModelTensor FromBytes(string input, long[] shape, int count, ReadOnlySpan<byte> bytes);

    /// <summary>Writes the elements of <paramref name="tensor"/> as JSON values (inside an open array).</summary>
    public abstract void WriteJson(Utf8JsonWriter writer, ModelTensor tensor);

    /// <summary>Copies the elements of <paramref name="tensor"/> as little-endian bytes into <paramref name="destination"/> (<see cref="ByteLength"/> long).</summary>
    public abstract void WriteBytes(ModelTensor tensor, Span<byte> destination);

    /// <summary>Reads the elements as doubles, for classification.</summary>
    public abstract bool TryGetDoubles(ModelTensor tensor, out double[] values);

    /// <summary>Creates a tensor from the typed contents of a gRPC request (count checked here).</summary>
    public abstract ModelTensor FromContents(string input, long[] shape, int count, Grpc.InferTensorContents contents);

    /// <summary>Reads one leaf value at the reader's current (scalar) token.</summary>
    internal delegate bool LeafReader<T>(ref Utf8JsonReader reader, out T value);

    /// <summary>
    /// Fills <paramref name="values"/> with the leaves of the data array the reader is on, checking as it goes exactly what
    /// the document path checks: flat (scalars only, as many as the shape's elements) or, when the first entry is an
    /// array, nested exactly as <paramref name="shape"/> (each level as long as its dimension, scalars only at the last).
    /// Every value passes <paramref name="read"/> (and is a JSON number when <paramref name="numbersOnly"/>).
    /// </summary>
    /// <returns>Whether the data is valid; the reader is then on the data array's end.</returns>
    protected static bool TryReadLeaves<T>(ref Utf8JsonReader reader, long[] shape, T[] values, LeafReader<T> read, bool numbersOnly)
    {
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.StartArray)
        {
            return TryReadNested(ref reader, shape, values, read, numbersOnly);
        }

        var index = 0;
        while (reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject
                || (numbersOnly && reader.TokenType != JsonTokenType.Number)
                || index == values.Length
                || !read(ref reader, out values[index]))
            {
                return false;
            }

            index++;
            if (!reader.Read())
            {
                return false;
            }
        }

        return index == values.Length;
    }

    /// <summary>Nested data, the reader on the first inner array's start.</summary>
    private static bool TryReadNested<T>(ref Utf8JsonReader reader, long[] shape, T[] values, LeafReader<T> read, bool numbersOnly)
    {
        var rank = shape.Length;
        if (rank == 0)
        {
            return false;
        }

        // counts[level]: the entries seen so far in the open array of that level (level 0 is the data array itself).
        Span<long> counts = rank <= 32 ? stackalloc long[32] : new long[rank];
        counts[0] = 0;
        var level = 0;
        var index = 0;
        while (true)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    if (level == rank - 1 || ++counts[level] > shape[level])
                    {
                        return false;
                    }

                    counts[++level] = 0;
                    break;
                case JsonTokenType.EndArray:
                    if (counts[level] != shape[level])
                    {
                        return false;
                    }

                    if (level == 0)
                    {
                        return index == values.Length;
                    }

                    level--;
                    break;
                case JsonTokenType.StartObject:
                    return false;
                default:
                    if (level != rank - 1
                        || ++counts[level] > shape[level]
                        || (numbersOnly && reader.TokenType != JsonTokenType.Number)
                        || index == values.Length
                        || !read(ref reader, out values[index]))
                    {
                        return false;
                    }

                    index++;
                    break;
            }

            if (!reader.Read())
            {
                return false;
            }
        }
    }

    /// <summary>
    /// The <paramref name="count"/> JSON leaves of <paramref name="data"/> (flat or nested, row-major, already checked
    /// against the shape) read by <paramref name="read"/>; a leaf it refuses is a 400 naming its index and <paramref name="expected"/>.
    /// </summary>
    protected T[] ReadJsonLeaves<T>(string input, int count, JsonElement data, Func<JsonElement, (bool Ok, T Value)> read, string expected)
    {
        var values = new T[count];
        var index = 0;
        Fill(data);
        return values;

        void Fill(JsonElement array)
        {
            foreach (var e in array.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.Array)
                {
                    Fill(e);
                    continue;
                }

                var (ok, value) = read(e);
                if (!ok)
                {
                    throw new OipRequestException(400, $"Input '{input}' value {OipDatatypes.Show(e)} at index {index} is not a valid {Name} value; expected {expected}.");
                }

                values[index++] = value;
            }
        }
    }
}

/// <summary>The datatype table.</summary>
internal static class OipDatatypes
{
    /// <summary>Every datatype the endpoints read and write.</summary>
    public static readonly OipDatatype[] All =
    [
        // name, JSON read (streaming reader, document element), JSON write, gRPC contents (count, read at index).
        new Numeric<float>("FP32", static (ref Utf8JsonReader r, out float v) => r.TryGetSingle(out v), static e => e.TryGetSingle(out var v) ? (true, v) : (false, 0), static (w, v) => w.WriteNumberValue(v), static c => c.Fp32Contents.Count, static (c, i) => (true, c.Fp32Contents[i])),
        new Numeric<double>("FP64", static (ref Utf8JsonReader r, out double v) => r.TryGetDouble(out v), static e => e.TryGetDouble(out var v) ? (true, v) : (false, 0), static (w, v) => w.WriteNumberValue(v), static c => c.Fp64Contents.Count, static (c, i) => (true, c.Fp64Contents[i])),
        new Numeric<sbyte>("INT8", static (ref Utf8JsonReader r, out sbyte v) => r.TryGetSByte(out v), static e => e.TryGetSByte(out var v) ? (true, v) : (false, (sbyte)0), static (w, v) => w.WriteNumberValue(v), static c => c.IntContents.Count, static (c, i) => c.IntContents[i] is >= sbyte.MinValue and <= sbyte.MaxValue ? (true, (sbyte)c.IntContents[i]) : (false, (sbyte)0)),
        new Numeric<byte>("UINT8", static (ref Utf8JsonReader r, out byte v) => r.TryGetByte(out v), static e => e.TryGetByte(out var v) ? (true, v) : (false, (byte)0), static (w, v) => w.WriteNumberValue(v), static c => c.UintContents.Count, static (c, i) => c.UintContents[i] <= byte.MaxValue ? (true, (byte)c.UintContents[i]) : (false, (byte)0)),
        new Numeric<short>("INT16", static (ref Utf8JsonReader r, out short v) => r.TryGetInt16(out v), static e => e.TryGetInt16(out var v) ? (true, v) : (false, (short)0), static (w, v) => w.WriteNumberValue(v), static c => c.IntContents.Count, static (c, i) => c.IntContents[i] is >= short.MinValue and <= short.MaxValue ? (true, (short)c.IntContents[i]) : (false, (short)0)),
        new Numeric<int>("INT32", static (ref Utf8JsonReader r, out int v) => r.TryGetInt32(out v), static e => e.TryGetInt32(out var v) ? (true, v) : (false, 0), static (w, v) => w.WriteNumberValue(v), static c => c.IntContents.Count, static (c, i) => (true, c.IntContents[i])),
        new Numeric<long>("INT64", static (ref Utf8JsonReader r, out long v) => r.TryGetInt64(out v), static e => e.TryGetInt64(out var v) ? (true, v) : (false, 0L), static (w, v) => w.WriteNumberValue(v), static c => c.Int64Contents.Count, static (c, i) => (true, c.Int64Contents[i])),
        new Numeric<ushort>("UINT16", static (ref Utf8JsonReader r, out ushort v) => r.TryGetUInt16(out v), static e => e.TryGetUInt16(out var v) ? (true, v) : (false, (ushort)0), static (w, v) => w.WriteNumberValue(v), static c => c.UintContents.Count, static (c, i) => c.UintContents[i] <= ushort.MaxValue ? (true, (ushort)c.UintContents[i]) : (false, (ushort)0)),
        new Numeric<uint>("UINT32", static (ref Utf8JsonReader r, out uint v) => r.TryGetUInt32(out v), static e => e.TryGetUInt32(out var v) ? (true, v) : (false, 0u), static (w, v) => w.WriteNumberValue(v), static c => c.UintContents.Count, static (c, i) => (true, c.UintContents[i])),
        new Numeric<ulong>("UINT64", static (ref Utf8JsonReader r, out ulong v) => r.TryGetUInt64(out v), static e => e.TryGetUInt64(out var v) ? (true, v) : (false, 0ul), static (w, v) => w.WriteNumberValue(v), static c => c.Uint64Contents.Count, static (c, i) => (true, c.Uint64Contents[i])),
        new BoolType(),

        // No typed contents field in the KServe proto for FP16/BF16: raw_input_contents only. JSON numbers are rounded to
        // nearest (ties to even); a finite number beyond the type's range is refused (not turned into infinity).
        new Numeric<Half>("FP16", static (ref Utf8JsonReader r, out Half v) => r.TryGetDouble(out var d) & Half.IsFinite(v = (Half)d), static e => e.TryGetDouble(out var v) && (Half)v is var h && Half.IsFinite(h) ? (true, h) : (false, default), static (w, v) => w.WriteNumberValue((float)v), null, null),
        new Numeric<BFloat16>("BF16", static (ref Utf8JsonReader r, out BFloat16 v) => r.TryGetDouble(out var d) & BFloat16.IsFinite(v = (BFloat16)d), static e => e.TryGetDouble(out var v) && (BFloat16)v is var b && BFloat16.IsFinite(b) ? (true, b) : (false, default), static (w, v) => w.WriteNumberValue((float)v), null, null),
        new BytesType(),
    ];

    private static readonly FrozenDictionary<string, OipDatatype> s_byName = All.ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);
    private static readonly FrozenDictionary<TensorElementType, OipDatatype> s_byType = All.ToFrozenDictionary(d => d.ElementType);

    /// <summary>The names, for messages.</summary>
    public static readonly string Names = string.Join(", ", All.Select(d => d.Name));

    /// <summary>Finds a datatype by its protocol name.</summary>
    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OipDatatype? datatype) => s_byName.TryGetValue(name, out datatype);

    /// <summary>Finds the datatype the reader's current string token names (ordinal, escapes decoded).</summary>
    public static bool TryGet(ref Utf8JsonReader reader, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OipDatatype? datatype)
    {
        foreach (var d in All)
        {
            if (reader.ValueTextEquals(d.Utf8Name))
            {
                datatype = d;
                return true;
            }
        }

        datatype = null;
        return false;
    }

    /// <summary>Finds the datatype of an element type.</summary>
    public static bool TryGet(TensorElementType type, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OipDatatype? datatype) => s_byType.TryGetValue(type, out datatype);

    /// <summary>The protocol name of an element type (<c>BYTES</c> for a sequence of maps, sent as JSON text per map).</summary>
    public static string NameOf(TensorElementType type) => TryGet(type, out var d) ? d.Name : "BYTES";

    /// <summary>
    /// The output as the protocol carries it: a sequence of maps (scikit-learn's ZipMap, which the protocol has no
    /// datatype for) becomes a BYTES tensor of shape [maps], each element the map as a JSON object
    /// (<c>{"0":0.25,"1":0.75}</c>); a tensor stays as it is.
    /// </summary>
    public static ModelTensor ToWire(ModelTensor output) => output switch
    {
        ModelMapSequence<long, float> m => MapsAsJson(m),
        ModelMapSequence<long, double> m => MapsAsJson(m),
        ModelMapSequence<long, long> m => MapsAsJson(m),
        ModelMapSequence<long, string> m => MapsAsJson(m),
        ModelMapSequence<string, float> m => MapsAsJson(m),
        ModelMapSequence<string, double> m => MapsAsJson(m),
        ModelMapSequence<string, long> m => MapsAsJson(m),
        ModelMapSequence<string, string> m => MapsAsJson(m),
        _ => output,
    };

    private static ModelTensor<string> MapsAsJson<TKey, TValue>(ModelMapSequence<TKey, TValue> maps)
        where TKey : notnull
    {
        var texts = new string[maps.Count];
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        for (var i = 0; i < texts.Length; i++)
        {
            buffer.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                foreach (var (key, value) in maps[i])
                {
                    w.WritePropertyName(key is string k ? k : ((long)(object)key).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    switch (value)
                    {
                        case float f:
                            w.WriteNumberValue(f);
                            break;
                        case double d:
                            w.WriteNumberValue(d);
                            break;
                        case long l:
                            w.WriteNumberValue(l);
                            break;
                        default:
                            w.WriteStringValue(value as string);
                            break;
                    }
                }

                w.WriteEndObject();
            }

            texts[i] = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        return new ModelTensor<string>(maps.Name, texts, texts.Length);
    }

    private sealed class Numeric<T>(
        string name,
        OipDatatype.LeafReader<T> readLeaf,
        Func<JsonElement, (bool Ok, T Value)> read,
        Action<Utf8JsonWriter, T> write,
        Func<Grpc.InferTensorContents, int>? contentsCount,
        Func<Grpc.InferTensorContents, int, (bool Ok, T Value)>? contentsAt)
        : OipDatatype(name, TensorElementTypes.Of<T>(), System.Runtime.CompilerServices.Unsafe.SizeOf<T>())
        where T : unmanaged
    {
        public override ModelTensor FromContents(string input, long[] shape, int count, Grpc.InferTensorContents contents)
        {
            if (contentsCount is null || contentsAt is null)
            {
                throw new OipRequestException(400, $"Input '{input}' is {Name}, which has no typed contents field in the protocol; expected its little-endian bytes ({ElementSize} per element) in raw_input_contents.");
            }

            var available = contentsCount(contents);
            if (available != count)
            {
                throw new OipRequestException(400, $"Input '{input}' has shape {ModelTensor.FormatShape(shape)} ({count} elements) but {available} {Name} contents values.");
            }

            var values = new T[count];
            for (var i = 0; i < count; i++)
            {
                var (ok, value) = contentsAt(contents, i);
                values[i] = ok ? value : throw new OipRequestException(400, $"Input '{input}' value at index {i} is out of the {Name} range.");
            }

            return new ModelTensor<T>(input, values, shape);
        }

        public override ModelTensor FromJson(string input, long[] shape, int count, JsonElement data) =>
            new ModelTensor<T>(input, ReadJsonLeaves(input, count, data, e => e.ValueKind == JsonValueKind.Number ? read(e) : (false, default), "a JSON number in range"), shape);

        public override ModelTensor? TryReadJson(string input, long[] shape, int count, ref Utf8JsonReader reader)
        {
            var values = new T[count];
            return TryReadLeaves(ref reader, shape, values, readLeaf, numbersOnly: true) ? new ModelTensor<T>(input, values, shape) : null;
        }

        public override ModelTensor FromBytes(string input, long[] shape, int count, ReadOnlySpan<byte> bytes)
        {
            var values = new T[count];
            bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            if (!BitConverter.IsLittleEndian)
            {
                ReverseEndianness(values);
            }

            return new ModelTensor<T>(input, values, shape);
        }

        public override void WriteJson(Utf8JsonWriter writer, ModelTensor tensor)
        {
            foreach (var v in ((ModelTensor<T>)tensor).Span)
            {
                write(writer, v);
            }
        }

        public override void WriteBytes(ModelTensor tensor, Span<byte> destination)
        {
            var span = ((ModelTensor<T>)tensor).Span;
            MemoryMarshal.AsBytes(span).CopyTo(destination);
            if (!BitConverter.IsLittleEndian)
            {
                ReverseEndianness(MemoryMarshal.Cast<byte, T>(destination[..(span.Length * ElementSize)]));
            }
        }

        public override bool TryGetDoubles(ModelTensor tensor, out double[] values)
        {
            var span = ((ModelTensor<T>)tensor).Span;
            values = new double[span.Length];
            for (var i = 0; i < span.Length; i++)
            {
                values[i] = ToDouble(span[i]);
            }

            return true;
        }

        private static double ToDouble(T value) => value switch
        {
            float f => f,
            double d => d,
            sbyte s => s,
            byte b => b,
            short s => s,
            int i => i,
            long l => l,
            ushort u => u,
            uint u => u,
            ulong u => u,
            Half h => (double)h,
            BFloat16 b => (double)b,
            _ => 0,
        };

        private static void ReverseEndianness(Span<T> values)
        {
            if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() == 2)
            {
                var v = MemoryMarshal.Cast<T, short>(values);
                BinaryPrimitives.ReverseEndianness(v, v);
            }
            else if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() == 4)
            {
                var v = MemoryMarshal.Cast<T, int>(values);
                BinaryPrimitives.ReverseEndianness(v, v);
            }
            else if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() == 8)
            {
                var v = MemoryMarshal.Cast<T, long>(values);
                BinaryPrimitives.ReverseEndianness(v, v);
            }
        }
    }

    private sealed class BoolType() : OipDatatype("BOOL", TensorElementType.Bool, 1)
    {
        public override ModelTensor FromContents(string input, long[] shape, int count, Grpc.InferTensorContents contents)
        {
            if (contents.BoolContents.Count != count)
            {
                throw new OipRequestException(400, $"Input '{input}' has shape {ModelTensor.FormatShape(shape)} ({count} elements) but {contents.BoolContents.Count} BOOL contents values.");
            }

            return new ModelTensor<bool>(input, contents.BoolContents.ToArray(), shape);
        }

        public override ModelTensor FromJson(string input, long[] shape, int count, JsonElement data) =>
            new ModelTensor<bool>(input, ReadJsonLeaves(input, count, data, static e => e.ValueKind switch
            {
                JsonValueKind.True => (true, true),
                JsonValueKind.False => (true, false),
                JsonValueKind.Number when e.TryGetInt32(out var n) && n is 0 or 1 => (true, n == 1),
                _ => (false, false),
            }, "true, false, 0 or 1"), shape);

        public override ModelTensor? TryReadJson(string input, long[] shape, int count, ref Utf8JsonReader reader)
        {
            var values = new bool[count];
            return TryReadLeaves(ref reader, shape, values, ReadBool, numbersOnly: false) ? new ModelTensor<bool>(input, values, shape) : null;
        }

        private static bool ReadBool(ref Utf8JsonReader reader, out bool value)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.True:
                    value = true;
                    return true;
                case JsonTokenType.False:
                    value = false;
                    return true;
                case JsonTokenType.Number when reader.TryGetInt32(out var n) && n is 0 or 1:
                    value = n == 1;
                    return true;
                default:
                    value = false;
                    return false;
            }
        }

        public override ModelTensor FromBytes(string input, long[] shape, int count, ReadOnlySpan<byte> bytes)
        {
            var values = new bool[count];
            for (var i = 0; i < count; i++)
            {
                values[i] = bytes[i] != 0;
            }

            return new ModelTensor<bool>(input, values, shape);
        }

        public override void WriteJson(Utf8JsonWriter writer, ModelTensor tensor)
        {
            foreach (var v in ((ModelTensor<bool>)tensor).Span)
            {
                writer.WriteBooleanValue(v);
            }
        }

        public override void WriteBytes(ModelTensor tensor, Span<byte> destination)
        {
            var span = ((ModelTensor<bool>)tensor).Span;
            for (var i = 0; i < span.Length; i++)
            {
                destination[i] = span[i] ? (byte)1 : (byte)0;
            }
        }

        public override bool TryGetDoubles(ModelTensor tensor, out double[] values)
        {
            values = [];
            return false;
        }
    }

    /// <summary>
    /// BYTES: string tensors. JSON data is strings; in the binary extension (and gRPC raw contents) each element is a
    /// 4-byte little-endian length and that many bytes, as Triton writes them; gRPC typed contents use <c>bytes_contents</c>.
    /// Elements must be UTF-8 (ONNX string tensors are text).
    /// </summary>
    private sealed class BytesType() : OipDatatype("BYTES", TensorElementType.String, 0)
    {
        private static readonly System.Text.UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public override long? FixedByteLength(long count) => null;

        public override int ByteLength(ModelTensor tensor)
        {
            long total = 0;
            foreach (var s in ((ModelTensor<string>)tensor).Span)
            {
                total += 4 + System.Text.Encoding.UTF8.GetByteCount(s ?? string.Empty);
            }

            return checked((int)total);
        }

        public override ModelTensor FromContents(string input, long[] shape, int count, Grpc.InferTensorContents contents)
        {
            if (contents.BytesContents.Count != count)
            {
                throw new OipRequestException(400, $"Input '{input}' has shape {ModelTensor.FormatShape(shape)} ({count} elements) but {contents.BytesContents.Count} BYTES contents values.");
            }

            var values = new string[count];
            for (var i = 0; i < count; i++)
            {
                values[i] = Decode(input, i, contents.BytesContents[i].Span);
            }

            return new ModelTensor<string>(input, values, shape);
        }

        public override ModelTensor FromJson(string input, long[] shape, int count, JsonElement data) =>
            new ModelTensor<string>(input, ReadJsonLeaves(input, count, data, static e => e.ValueKind == JsonValueKind.String ? (true, e.GetString()!) : (false, string.Empty), "a JSON string"), shape);

        public override ModelTensor? TryReadJson(string input, long[] shape, int count, ref Utf8JsonReader reader)
        {
            var values = new string[count];
            return TryReadLeaves(ref reader, shape, values, ReadString, numbersOnly: false) ? new ModelTensor<string>(input, values, shape) : null;
        }

        private static bool ReadString(ref Utf8JsonReader reader, out string value)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                value = reader.GetString()!;
                return true;
            }

            value = string.Empty;
            return false;
        }

        public override ModelTensor FromBytes(string input, long[] shape, int count, ReadOnlySpan<byte> bytes)
        {
            var values = new string[count];
            var at = 0;
            for (var i = 0; i < count; i++)
            {
                if (bytes.Length - at < 4)
                {
                    throw new OipRequestException(400, $"Input '{input}' BYTES element {i} has no 4-byte length: {bytes.Length - at} bytes are left; expected a little-endian length and that many bytes per element.");
                }

                var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);
                at += 4;
                if (length > (uint)(bytes.Length - at))
                {
                    throw new OipRequestException(400, $"Input '{input}' BYTES element {i} says {length} bytes but {bytes.Length - at} are left.");
                }

                values[i] = Decode(input, i, bytes.Slice(at, (int)length));
                at += (int)length;
            }

            if (at != bytes.Length)
            {
                throw new OipRequestException(400, $"Input '{input}' has {bytes.Length - at} bytes after its {count} BYTES elements; expected exactly the shape's elements.");
            }

            return new ModelTensor<string>(input, values, shape);
        }

        public override void WriteJson(Utf8JsonWriter writer, ModelTensor tensor)
        {
            foreach (var v in ((ModelTensor<string>)tensor).Span)
            {
                writer.WriteStringValue(v);
            }
        }

        public override void WriteBytes(ModelTensor tensor, Span<byte> destination)
        {
            var at = 0;
            foreach (var v in ((ModelTensor<string>)tensor).Span)
            {
                var n = System.Text.Encoding.UTF8.GetBytes(v ?? string.Empty, destination[(at + 4)..]);
                BinaryPrimitives.WriteInt32LittleEndian(destination[at..], n);
                at += 4 + n;
            }
        }

        public override bool TryGetDoubles(ModelTensor tensor, out double[] values)
        {
            values = [];
            return false;
        }

        private static string Decode(string input, int index, ReadOnlySpan<byte> bytes)
        {
            try
            {
                return s_strict.GetString(bytes);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new OipRequestException(400, $"Input '{input}' BYTES element {index} is not valid UTF-8; expected text (the model's string tensors hold UTF-8).");
            }
        }
    }

    /// <summary>A JSON value as a message shows it: short, never the whole of a hostile value.</summary>
    internal static string Show(JsonElement e)
    {
        var text = e.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.Null => "null",
            _ => e.GetRawText(),
        };
        return text.Length > 40 ? text[..40] + "…" : text;
    }
}
