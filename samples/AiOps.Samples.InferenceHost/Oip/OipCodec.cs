using System.Text.Json;

namespace AiOps.Samples.InferenceHost.Oip;

/// <summary>
/// Reads and writes the Open Inference Protocol (KServe/Triton "v2") JSON bodies: tensors as
/// <c>{ "name", "shape", "datatype", "data" }</c> with row-major data, flat or nested.
/// </summary>
public static class OipCodec
{
    /// <summary>Maps an OIP datatype name to the element type, or throws naming the supported ones.</summary>
    /// <param name="datatype">FP32, FP64, INT8, UINT8, INT16, INT32, INT64 or BOOL.</param>
    /// <param name="inputName">The input, for the message.</param>
    public static TensorElementType ParseDatatype(string? datatype, string inputName) => datatype switch
    {
        "FP32" => TensorElementType.Float32,
        "FP64" => TensorElementType.Float64,
        "INT8" => TensorElementType.Int8,
        "UINT8" => TensorElementType.UInt8,
        "INT16" => TensorElementType.Int16,
        "INT32" => TensorElementType.Int32,
        "INT64" => TensorElementType.Int64,
        "BOOL" => TensorElementType.Bool,
        _ => throw new ModelInputException(inputName, $"Input '{inputName}' has datatype '{datatype}'; expected one of FP32, FP64, INT8, UINT8, INT16, INT32, INT64, BOOL."),
    };

    /// <summary>The OIP datatype name of an element type.</summary>
    /// <param name="type">The element type.</param>
    public static string FormatDatatype(TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "FP32",
        TensorElementType.Float64 => "FP64",
        TensorElementType.Int8 => "INT8",
        TensorElementType.UInt8 => "UINT8",
        TensorElementType.Int16 => "INT16",
        TensorElementType.Int32 => "INT32",
        TensorElementType.Int64 => "INT64",
        TensorElementType.Bool => "BOOL",
        _ => "BYTES",
    };

    /// <summary>Parses an inference request body into a <see cref="ModelRequest"/>.</summary>
    /// <param name="body">The JSON document.</param>
    /// <param name="routingKey">The routing key (from a header), if any.</param>
    /// <param name="pinnedVersion">A version from the URL or a header, if any.</param>
    /// <exception cref="ModelInputException">The body does not follow the protocol.</exception>
    public static ModelRequest ParseRequest(JsonElement body, string? routingKey, ModelVersion? pinnedVersion)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException(null, "Expected a JSON object with an 'inputs' array.");
        }

        var tensors = new List<ModelTensor>(inputs.GetArrayLength());
        foreach (var input in inputs.EnumerateArray())
        {
            tensors.Add(ParseTensor(input));
        }

        if (tensors.Count == 0)
        {
            throw new ModelInputException(null, "Expected at least one tensor in 'inputs'.");
        }

        string? id = body.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        try
        {
            return new ModelRequest(tensors) { RequestId = id, RoutingKey = routingKey ?? id, PinnedVersion = pinnedVersion };
        }
        catch (ArgumentException ex)
        {
            throw new ModelInputException(null, ex.Message);
        }
    }

    private static ModelTensor ParseTensor(JsonElement input)
    {
        if (input.ValueKind != JsonValueKind.Object)
        {
            throw new ModelInputException(null, "Each entry of 'inputs' must be an object with name, shape, datatype and data.");
        }

        var name = input.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new ModelInputException(null, "An input has no 'name'.");
        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException(name, $"Input '{name}' has no 'shape' array.");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
            {
                throw new ModelInputException(name, $"Input '{name}' has shape entry {d}; expected non-negative integers.");
            }

            shape[i++] = dim;
        }

        var type = ParseDatatype(input.TryGetProperty("datatype", out var dt) ? dt.GetString() : null, name);
        if (!input.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException(name, $"Input '{name}' has no 'data' array.");
        }

        long expected = 1;
        try
        {
            foreach (var d in shape)
            {
                expected = checked(expected * d);
            }
        }
        catch (OverflowException)
        {
            throw new ModelInputException(name, $"Input '{name}' has shape {ModelTensor.FormatShape(shape)}, whose element count overflows.");
        }

        // Count the values before allocating, so a large declared shape with little data never allocates much.
        var count = CountValues(data);
        if (count != expected)
        {
            throw new ModelInputException(name, $"Input '{name}' has shape {ModelTensor.FormatShape(shape)} ({expected} elements) but {count} data values.");
        }

        return type switch
        {
            TensorElementType.Float32 => Build(name, shape, expected, data, static e => e.GetSingle()),
            TensorElementType.Float64 => Build(name, shape, expected, data, static e => e.GetDouble()),
            TensorElementType.Int8 => Build(name, shape, expected, data, static e => e.GetSByte()),
            TensorElementType.UInt8 => Build(name, shape, expected, data, static e => e.GetByte()),
            TensorElementType.Int16 => Build(name, shape, expected, data, static e => e.GetInt16()),
            TensorElementType.Int32 => Build(name, shape, expected, data, static e => e.GetInt32()),
            TensorElementType.Int64 => Build(name, shape, expected, data, static e => e.GetInt64()),
            _ => Build(name, shape, expected, data, static e => e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number => e.GetInt32() != 0,
                _ => throw new FormatException(),
            }),
        };
    }

    /// <summary>Counts the leaf values of a (possibly nested) data array; nesting is bounded by the JSON reader's depth limit.</summary>
    private static long CountValues(JsonElement array)
    {
        long count = 0;
        foreach (var e in array.EnumerateArray())
        {
            count += e.ValueKind == JsonValueKind.Array ? CountValues(e) : 1;
        }

        return count;
    }

    private static ModelTensor<T> Build<T>(string name, long[] shape, long expected, JsonElement data, Func<JsonElement, T> read)
        where T : unmanaged
    {
        var values = new T[expected];
        var count = 0L;
        Flatten(data);
        return new ModelTensor<T>(name, values, shape);

        void Flatten(JsonElement element)
        {
            foreach (var e in element.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.Array)
                {
                    Flatten(e);
                    continue;
                }

                try
                {
                    values[count++] = read(e);
                }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
                {
                    throw new ModelInputException(name, $"Input '{name}' value {e} at index {count - 1} is not a valid {OipCodec.FormatDatatype(TensorElementTypes.Of<T>())} value.");
                }
            }
        }
    }

    /// <summary>The output names the request asks for (<c>"outputs": [{ "name": … }]</c>), or <see langword="null"/> for all.</summary>
    /// <param name="body">The JSON document.</param>
    /// <exception cref="ModelInputException">The <c>outputs</c> entry does not follow the protocol.</exception>
    public static IReadOnlyList<string>? ParseRequestedOutputs(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("outputs", out var outputs) || outputs.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw new ModelInputException(null, "Expected 'outputs' to be an array of { \"name\": … } objects.");
        }

        var names = new List<string>(outputs.GetArrayLength());
        foreach (var o in outputs.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
            {
                throw new ModelInputException(null, "Each entry of 'outputs' must be an object with a string 'name'.");
            }

            names.Add(n.GetString()!);
        }

        return names.Count == 0 ? null : names;
    }

    /// <summary>Writes an inference response body.</summary>
    /// <param name="writer">The JSON writer.</param>
    /// <param name="response">The model's answer.</param>
    /// <param name="requestId">The request's id, echoed back.</param>
    /// <param name="requestedOutputs">The outputs to write; <see langword="null"/> for all.</param>
    /// <exception cref="ModelInputException">A requested output does not exist.</exception>
    public static void WriteResponse(Utf8JsonWriter writer, ModelResponse response, string? requestId, IReadOnlyList<string>? requestedOutputs = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(response);
        var outputs = response.Outputs;
        if (requestedOutputs is not null)
        {
            var chosen = new List<ModelTensor>(requestedOutputs.Count);
            foreach (var name in requestedOutputs)
            {
                chosen.Add(response.Outputs.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.Ordinal))
                    ?? throw new ModelInputException(null, $"Output '{name}' was requested; the model has: {string.Join(", ", response.Outputs.Select(o => o.Name))}."));
            }

            outputs = chosen;
        }

        writer.WriteStartObject();
        writer.WriteString("model_name", response.Key.Model.Value);
        writer.WriteString("model_version", response.Key.Version.Value);
        if (requestId is not null)
        {
            writer.WriteString("id", requestId);
        }

        writer.WriteStartArray("outputs");
        foreach (var output in outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", FormatDatatype(output.ElementType));
            writer.WriteStartArray("shape");
            foreach (var d in output.Shape)
            {
                writer.WriteNumberValue(d);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            WriteData(writer, output);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes a tensor's metadata entry (<c>{ name, datatype, shape }</c>, -1 for dynamic dimensions).</summary>
    /// <param name="writer">The JSON writer.</param>
    /// <param name="spec">The tensor spec.</param>
    public static void WriteSpec(Utf8JsonWriter writer, TensorSpec spec)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(spec);
        writer.WriteStartObject();
        writer.WriteString("name", spec.Name);
        writer.WriteString("datatype", FormatDatatype(spec.ElementType));
        writer.WriteStartArray("shape");
        foreach (var d in spec.Dimensions)
        {
            writer.WriteNumberValue(d);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteData(Utf8JsonWriter writer, ModelTensor tensor)
    {
        switch (tensor)
        {
            case ModelTensor<float> f:
                foreach (var v in f.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<double> d:
                foreach (var v in d.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<long> l:
                foreach (var v in l.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<int> i:
                foreach (var v in i.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<short> s:
                foreach (var v in s.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<sbyte> sb:
                foreach (var v in sb.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<byte> b:
                foreach (var v in b.Span)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case ModelTensor<bool> bo:
                foreach (var v in bo.Span)
                {
                    writer.WriteBooleanValue(v);
                }

                break;
            default:
                throw new NotSupportedException($"Output '{tensor.Name}' has element type {tensor.ElementType}, which the protocol writer does not handle.");
        }
    }
}
