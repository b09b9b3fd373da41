using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AiOps.Inference.Serving;

/// <summary>
/// The inference request in one forward pass of <see cref="Utf8JsonReader"/> over the body (one buffer or many
/// segments), each input's <c>data</c> read straight into its tensor's typed buffer: no document, no second walk. It takes
/// every valid body and checks as it goes everything <see cref="OipCodec.ParseRequest(JsonElement, ReadOnlyMemory{byte}, OipLimits, string)"/>
/// checks, under the same limits, in an order that bounds the work the same way: the input count at the model's before
/// the input past it is read, each input's element count against the request's limit before its buffer is allocated,
/// the nesting depth by the reader. At the first thing it does not take (an error, a duplicate key, a
/// <c>binary_data_size</c> it cannot honour) it answers <see langword="null"/>, and the caller parses the body as a
/// document, which names the error: one message text for each error, in one place.
/// </summary>
/// <remarks>
/// <c>parameters</c> objects (of the request, of an input) and <c>outputs</c> are small and rare: they are read as
/// <see cref="JsonElement"/>s (<see cref="JsonElement.ParseValue"/>, a copy independent of the body) and checked by the
/// document path's own functions. An input's <c>data</c> that comes before its <c>datatype</c> or <c>shape</c> is
/// skipped and read again from a saved reader once both are known.
/// </remarks>
internal static class OipRequestReader
{
    /// <summary>Reads a request, or answers <see langword="null"/> when the document path must judge the body.</summary>
    /// <param name="header">The JSON header.</param>
    /// <param name="binary">The binary part after the header (empty without the extension).</param>
    /// <param name="limits">The limits.</param>
    public static OipInferRequest? TryRead(ReadOnlySequence<byte> header, ReadOnlySpan<byte> binary, OipLimits limits)
    {
        try
        {
            return Read(header, binary, limits);
        }
        catch (Exception e) when (e is JsonException or OipRequestException or InvalidOperationException or FormatException)
        {
            // Invalid JSON, too deep, or a check of a parameters object: the document path answers with its message.
            return null;
        }
    }

    private static OipInferRequest? Read(ReadOnlySequence<byte> header, ReadOnlySpan<byte> binary, OipLimits limits)
    {
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = limits.MaxNestingDepth + 4 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        List<ModelTensor>? inputs = null;
        string? idText = null;
        var idIsNumber = false;
        var seenId = false;
        JsonElement? parameters = null;
        var seenParameters = false;
        List<OipRequestedOutput>? outputs = null;
        var seenOutputs = false;
        var offset = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("inputs"u8))
            {
                if (inputs is not null || !reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                {
                    return null;
                }

                inputs = ReadInputs(ref reader, binary, ref offset, limits);
                if (inputs is null)
                {
                    return null;
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                if (seenId || !reader.Read())
                {
                    return null;
                }

                seenId = true;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        idText = reader.GetString();
                        break;
                    case JsonTokenType.Number:
                        idText = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
                        idIsNumber = true;
                        break;
                    case JsonTokenType.Null:
                        break;
                    default:
                        return null;
                }
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                if (seenParameters || !TryReadObject(ref reader, out parameters))
                {
                    return null;
                }

                seenParameters = true;
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                if (seenOutputs || !reader.Read())
                {
                    return null;
                }

                seenOutputs = true;
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    outputs = OipCodec.ParseOutputs(JsonElement.ParseValue(ref reader), limits);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return null;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        // The root object's end; the reader refuses anything after it but whitespace.
        if (reader.TokenType != JsonTokenType.EndObject || inputs is null || reader.Read() || offset != binary.Length)
        {
            return null;
        }

        return new OipInferRequest
        {
            Inputs = inputs,
            IdText = idText,
            IdIsNumber = idIsNumber,
            Parameters = parameters,
            BinaryDataOutput = OipCodec.ReadBinaryDataOutput(parameters),
            Outputs = outputs,
            Sequence = OipCodec.ReadSequence(parameters),
        };
    }

    /// <summary>The <c>inputs</c> array, the reader on its start; at most <see cref="OipLimits.MaxInputs"/> are read.</summary>
    private static List<ModelTensor>? ReadInputs(ref Utf8JsonReader reader, ReadOnlySpan<byte> binary, ref int offset, OipLimits limits)
    {
        var inputs = new List<ModelTensor>(Math.Min(limits.MaxInputs, 4));
        long elements = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // Before any work on the input past the cap: a hostile body may carry tens of thousands.
            if (inputs.Count == limits.MaxInputs || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            var tensor = ReadTensor(ref reader, inputs, binary, ref offset, ref elements, limits);
            if (tensor is null)
            {
                return null;
            }

            inputs.Add(tensor);
        }

        return inputs.Count == 0 ? null : inputs;
    }

    /// <summary>One input object, the reader on its start; on success the reader is on its end.</summary>
    private static ModelTensor? ReadTensor(ref Utf8JsonReader reader, List<ModelTensor> previous, ReadOnlySpan<byte> binary, ref int offset, ref long elements, OipLimits limits)
    {
        string? name = null;
        OipDatatype? datatype = null;
        long[]? shape = null;
        JsonElement? parameters = null;
        var seenParameters = false;
        var seenData = false;
        var counted = false;
        ModelTensor? tensor = null;
        Utf8JsonReader savedData = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                if (name is not null || !reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return null;
                }

                name = ReadName(ref reader);
                if (string.IsNullOrEmpty(name) || IsTaken(previous, name))
                {
                    return null;
                }
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                if (datatype is not null || !reader.Read() || reader.TokenType != JsonTokenType.String || !OipDatatypes.TryGet(ref reader, out datatype))
                {
                    return null;
                }
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null || !reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                {
                    return null;
                }

                shape = ReadShape(ref reader, limits);
                if (shape is null)
                {
                    return null;
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                if (seenData || !reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                {
                    return null;
                }

                seenData = true;
                if (name is not null && datatype is not null && shape is not null)
                {
                    // The usual order (name, shape, datatype, then data): straight into the typed buffer.
                    if (!TryCount(shape, ref elements, limits, out var count))
                    {
                        return null;
                    }

                    counted = true;
                    tensor = datatype.TryReadJson(name, shape, count, ref reader);
                    if (tensor is null)
                    {
                        return null;
                    }
                }
                else
                {
                    savedData = reader;
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                if (seenParameters || !TryReadObject(ref reader, out parameters))
                {
                    return null;
                }

                seenParameters = true;
            }
            else
            {
                reader.Skip();
            }
        }

        if (name is null || datatype is null || shape is null)
        {
            return null;
        }

        var elementCount = 0;
        if (!counted && !TryCount(shape, ref elements, limits, out elementCount))
        {
            return null;
        }

        if (OipCodec.TryGetBinaryDataSize(parameters, out var sizeElement))
        {
            // The binary tensor data extension: the input's bytes follow the JSON header, in input order.
            if (seenData || !sizeElement.TryGetInt64(out var size) || size < 0 || size > binary.Length - offset
                || (datatype.FixedByteLength(elementCount) is { } takes && size != takes))
            {
                return null;
            }

            tensor = datatype.FromBytes(name, shape, elementCount, binary.Slice(offset, (int)size));
            offset += (int)size;
            return tensor;
        }

        if (!seenData)
        {
            return null;
        }

        if (tensor is null)
        {
            // The data came before the datatype or the shape: read it again now that both are known.
            var data = savedData;
            tensor = datatype.TryReadJson(name, shape, elementCount, ref data);
        }

        return tensor;
    }

    /// <summary>The shape array, the reader on its start: non-negative integers, at most the nesting limit of them.</summary>
    private static long[]? ReadShape(ref Utf8JsonReader reader, OipLimits limits)
    {
        Span<long> dims = limits.MaxNestingDepth <= 32 ? stackalloc long[32] : new long[limits.MaxNestingDepth];
        var rank = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (rank == limits.MaxNestingDepth || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim) || dim < 0)
            {
                return null;
            }

            dims[rank++] = dim;
        }

        // The thread's scratch array: the tensor's constructor copies the dimensions, nothing else keeps them.
        return Sessions.Scratch.Dims(dims[..rank]);
    }

    private const int NameCacheSize = 4;

    private const int MaxCachedNameLength = 128;

    /// <summary>The input names this thread read last: a request naming one of them again takes the same string.</summary>
    [ThreadStatic]
    private static string[]? t_names;

    [ThreadStatic]
    private static int t_nextName;

    /// <summary>An input's name, the reader on it: a name this thread read recently is not allocated again.</summary>
    private static string? ReadName(ref Utf8JsonReader reader)
    {
        var names = t_names ??= new string[NameCacheSize];
        foreach (var cached in names)
        {
            if (cached is not null && reader.ValueTextEquals(cached))
            {
                return cached;
            }
        }

        var name = reader.GetString();
        if (name is { Length: > 0 and <= MaxCachedNameLength })
        {
            names[t_nextName] = name;
            t_nextName = (t_nextName + 1) % NameCacheSize;
        }

        return name;
    }

    /// <summary>The shape's element count, added to the request's when within its limit (before any buffer is allocated).</summary>
    private static bool TryCount(long[] shape, ref long elements, OipLimits limits, out int count)
    {
        long expected = 1;
        foreach (var dim in shape)
        {
            expected = dim == 0 || expected <= limits.MaxElements / dim ? expected * dim : long.MaxValue;
        }

        if (expected > limits.MaxElements - elements)
        {
            count = 0;
            return false;
        }

        elements += expected;
        count = (int)expected;
        return true;
    }

    /// <summary>A <c>parameters</c> value, the reader on its property name: JSON null, or an object copied out.</summary>
    private static bool TryReadObject(ref Utf8JsonReader reader, out JsonElement? value)
    {
        value = null;
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.StartObject)
        {
            value = JsonElement.ParseValue(ref reader);
            return true;
        }

        return reader.TokenType == JsonTokenType.Null;
    }

    private static bool IsTaken(List<ModelTensor> previous, string name)
    {
        foreach (var t in previous)
        {
            if (string.Equals(t.Name, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
