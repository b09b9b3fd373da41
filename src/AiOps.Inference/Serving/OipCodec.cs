using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AiOps.Inference.Serving;

/// <summary>A request the protocol answers with a 4xx status and <c>{"error": message}</c>.</summary>
internal sealed class OipRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>The limits a request is parsed under.</summary>
/// <param name="MaxInputs">The most inputs (the model's input count, capped by the options).</param>
/// <param name="MaxOutputs">The most requested outputs (the model's output count).</param>
/// <param name="MaxElements">The most elements over all inputs.</param>
/// <param name="MaxNestingDepth">The deepest nested data (and the highest rank).</param>
internal readonly record struct OipLimits(int MaxInputs, int MaxOutputs, long MaxElements, int MaxNestingDepth);

/// <summary>An output the request asks for, with its extension parameters.</summary>
internal sealed record OipRequestedOutput(string Name, bool? BinaryData, int Classification);

/// <summary>A parsed inference request body.</summary>
internal sealed class OipInferRequest
{
    public required List<ModelTensor> Inputs { get; init; }

    /// <summary>The request id as text (a number's JSON text), for label joins and routing, and echoed back.</summary>
    public string? IdText { get; init; }

    /// <summary>Whether the id was sent as a JSON number (echoed back as that number's text), not a string.</summary>
    public bool IdIsNumber { get; init; }

    /// <summary>The request-level parameters object (independent of the body's buffer), passed through to the response.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>The <c>binary_data_output</c> request parameter: every output in binary unless an output says otherwise.</summary>
    public bool BinaryDataOutput { get; init; }

    /// <summary>The outputs asked for, or <see langword="null"/> for all.</summary>
    public List<OipRequestedOutput>? Outputs { get; init; }

    /// <summary>The sequence parameters (<c>sequence_id</c>, <c>sequence_start</c>, <c>sequence_end</c>) of a stateful model's call.</summary>
    public OipSequence Sequence { get; init; }
}

/// <summary>
/// Triton's sequence request parameters: <c>sequence_id</c> (an unsigned integer or a string; 0 and "" mean none),
/// <c>sequence_start</c> and <c>sequence_end</c> (booleans), mapped to <see cref="ModelRequest.SequenceId"/>,
/// <see cref="ModelRequest.SequenceStart"/> and <see cref="ModelRequest.SequenceEnd"/>.
/// </summary>
internal readonly record struct OipSequence(string? Id, bool Start, bool End)
{
    /// <summary>The longest string <c>sequence_id</c> accepted.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Checks the combination: start or end without an id is refused.</summary>
    /// <exception cref="OipRequestException">A flag is set without a <c>sequence_id</c>.</exception>
    public OipSequence Validated() => Id is null && (Start || End)
        ? throw new OipRequestException(400, "Expected a non-zero 'sequence_id' parameter with 'sequence_start' / 'sequence_end'; the request sets a flag but names no sequence.")
        : this;

    /// <summary>A string id: empty means none; longer than <see cref="MaxIdLength"/> or with control characters is refused.</summary>
    /// <exception cref="OipRequestException">The id is too long or holds control characters.</exception>
    public static string? StringId(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        if (value.Length > MaxIdLength || value.AsSpan().ContainsAnyInRange('\u0000', '\u001f'))
        {
            throw new OipRequestException(400, $"Expected parameter 'sequence_id' to be an unsigned integer or a string of at most {MaxIdLength} characters without control characters; it is a string of {value.Length} characters.");
        }

        return value;
    }

    /// <summary>A numeric id as its invariant text; 0 means none.</summary>
    public static string? NumberId(ulong value) => value == 0 ? null : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Reads and writes the Open Inference Protocol bodies: JSON tensors (<c>{ name, shape, datatype, data }</c>, row-major,
/// flat or nested exactly as the shape) and the binary tensor data extension (the JSON header first, its length in
/// <c>Inference-Header-Content-Length</c>, then each binary tensor's little-endian bytes in order). Every check runs
/// before the work it bounds and costs time linear in the body.
/// </summary>
internal static class OipCodec
{
    /// <summary>The header of the binary tensor data extension.</summary>
    public const string HeaderContentLength = "Inference-Header-Content-Length";

    /// <summary>
    /// Parses an inference request body: one forward pass of <see cref="Utf8JsonReader"/> straight into the tensors'
    /// typed buffers (<see cref="OipRequestReader"/>); a body that pass does not take (any error, or a rare form it leaves
    /// to the document) is parsed again as a <see cref="JsonDocument"/> by <see cref="ParseRequest(JsonElement, ReadOnlyMemory{byte}, OipLimits, string)"/>,
    /// which is the judge of every message. The request holds nothing of <paramref name="body"/>.
    /// </summary>
    /// <param name="body">The body: the JSON header, then the binary part.</param>
    /// <param name="headerLength">The JSON header's length (the whole body without the binary extension).</param>
    /// <param name="limits">The limits.</param>
    /// <param name="model">The model, for messages.</param>
    /// <exception cref="OipRequestException">The body does not follow the protocol or passes a limit.</exception>
    public static OipInferRequest ParseRequest(ReadOnlyMemory<byte> body, int headerLength, OipLimits limits, string model)
    {
        var header = body[..headerLength];
        var binary = body[headerLength..];
        if (OipRequestReader.TryRead(new ReadOnlySequence<byte>(header), binary.Span, limits) is { } request)
        {
            return request;
        }

        using var document = ParseDocument(header, limits.MaxNestingDepth);
        return ParseRequest(document.RootElement, binary, limits, model);
    }

    /// <summary>Parses a JSON body as a document, the nesting limit applied; invalid JSON is a 400.</summary>
    /// <exception cref="OipRequestException">The body is not valid JSON or nests too deep.</exception>
    internal static JsonDocument ParseDocument(ReadOnlyMemory<byte> json, int maxNestingDepth)
    {
        try
        {
            // Root object, inputs array, tensor object, data array, then one level per nested dimension.
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxNestingDepth + 4 });
        }
        catch (JsonException e)
        {
            throw new OipRequestException(400, $"The request body is not valid JSON, or nests deeper than {maxNestingDepth} levels of data (AiOps:Serving:MaxNestingDepth): {e.Message}");
        }
    }

    /// <summary>Parses an inference request from its document (the judge of every error message).</summary>
    /// <param name="body">The JSON header.</param>
    /// <param name="binary">The binary part after the JSON header (empty without the extension).</param>
    /// <param name="limits">The limits.</param>
    /// <param name="model">The model, for messages.</param>
    /// <exception cref="OipRequestException">The body does not follow the protocol or passes a limit.</exception>
    public static OipInferRequest ParseRequest(JsonElement body, ReadOnlyMemory<byte> binary, OipLimits limits, string model)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Bad("Expected the request body to be a JSON object with an 'inputs' array.");
        }

        if (!body.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            throw Bad("Expected the request body to have an 'inputs' array.");
        }

        var count = inputs.GetArrayLength();
        if (count == 0)
        {
            throw Bad("Expected at least one tensor in 'inputs'.");
        }

        // Before any per-input work: a model takes a handful of inputs, a hostile body may carry tens of thousands.
        if (count > limits.MaxInputs)
        {
            throw Bad($"The request has {count} inputs; model '{model}' takes at most {limits.MaxInputs}.");
        }

        string? idText = null;
        var idIsNumber = false;
        if (body.TryGetProperty("id", out var idElement))
        {
            switch (idElement.ValueKind)
            {
                case JsonValueKind.String:
                    idText = idElement.GetString();
                    break;
                case JsonValueKind.Number:
                    idText = idElement.GetRawText();
                    idIsNumber = true;
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    throw Bad($"Expected 'id' to be a string or a number; it is {OipDatatypes.Show(idElement)}.");
            }
        }

        var parameters = ReadParameters(body, "the request");
        var binaryDataOutput = ReadBinaryDataOutput(parameters);
        var sequence = ReadSequence(parameters);

        var names = new HashSet<string>(count, StringComparer.Ordinal);
        var tensors = new List<ModelTensor>(count);
        long elements = 0;
        var offset = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            tensors.Add(ParseTensor(input, names, binary, ref offset, ref elements, limits));
        }

        if (offset != binary.Length)
        {
            throw Bad($"The binary tensor data is {binary.Length} bytes; the inputs' binary_data_size add up to {offset}.");
        }

        return new OipInferRequest
        {
            Inputs = tensors,
            IdText = idText,
            IdIsNumber = idIsNumber,
            Parameters = parameters?.Clone(),
            BinaryDataOutput = binaryDataOutput,
            Outputs = body.TryGetProperty("outputs", out var outputs) ? ParseOutputs(outputs, limits) : null,
            Sequence = sequence,
        };
    }

    private static ModelTensor ParseTensor(JsonElement input, HashSet<string> names, ReadOnlyMemory<byte> binary, ref int offset, ref long elements, OipLimits limits)
    {
        if (input.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"Each entry of 'inputs' must be an object with name, shape, datatype and data; one is {OipDatatypes.Show(input)}.");
        }

        if (!input.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || n.GetString() is not { Length: > 0 } name)
        {
            throw Bad("An input has no 'name' string.");
        }

        if (!names.Add(name))
        {
            throw Bad($"Input '{name}' is given twice; expected distinct input names.");
        }

        if (!input.TryGetProperty("datatype", out var dt) || dt.ValueKind != JsonValueKind.String)
        {
            throw Bad($"Input '{name}' has datatype {(input.TryGetProperty("datatype", out var d) ? OipDatatypes.Show(d) : "missing")}; expected a string, one of {OipDatatypes.Names}.");
        }

        if (!OipDatatypes.TryGet(dt.GetString()!, out var datatype))
        {
            throw Bad($"Input '{name}' has datatype '{Truncate(dt.GetString()!)}'; expected one of {OipDatatypes.Names}.");
        }

        var shape = ParseShape(input, name, limits);
        long expected = 1;
        foreach (var dim in shape)
        {
            expected = dim == 0 || expected <= limits.MaxElements / dim ? expected * dim : long.MaxValue;
        }

        if (expected > limits.MaxElements - elements)
        {
            throw new OipRequestException(413, $"Input '{name}' has shape {ModelTensor.FormatShape(shape)}: the request's inputs pass the limit of {limits.MaxElements} elements.");
        }

        elements += expected;
        var parameters = ReadParameters(input, $"input '{name}'");
        var count = (int)expected;
        if (parameters is { } p && p.TryGetProperty("binary_data_size", out var sizeElement))
        {
            if (!sizeElement.TryGetInt64(out var size) || size < 0)
            {
                throw Bad($"Input '{name}' has binary_data_size {OipDatatypes.Show(sizeElement)}; expected a non-negative integer.");
            }

            if (input.TryGetProperty("data", out _))
            {
                throw Bad($"Input '{name}' has both 'data' and binary_data_size; expected one of them.");
            }

            if (datatype.FixedByteLength(expected) is { } takes && size != takes)
            {
                throw Bad($"Input '{name}' has binary_data_size {size}; shape {ModelTensor.FormatShape(shape)} of {datatype.Name} takes {takes} bytes.");
            }

            if (size > binary.Length - offset)
            {
                throw Bad($"Input '{name}' has binary_data_size {size}; only {binary.Length - offset} bytes of binary tensor data are left.");
            }

            var tensor = datatype.FromBytes(name, shape, count, binary.Span.Slice(offset, (int)size));
            offset += (int)size;
            return tensor;
        }

        if (!input.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"Input '{name}' has no 'data' array (nor a binary_data_size parameter).");
        }

        CheckData(data, shape, name, expected);
        return datatype.FromJson(name, shape, count, data);
    }

    private static long[] ParseShape(JsonElement input, string name, OipLimits limits)
    {
        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"Input '{name}' has no 'shape' array.");
        }

        var rank = shapeElement.GetArrayLength();
        if (rank > limits.MaxNestingDepth)
        {
            throw Bad($"Input '{name}' has rank {rank}; at most {limits.MaxNestingDepth} dimensions are accepted.");
        }

        var shape = new long[rank];
        var i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
            {
                throw Bad($"Input '{name}' has shape entry {OipDatatypes.Show(d)}; expected non-negative integers.");
            }

            shape[i++] = dim;
        }

        return shape;
    }

    /// <summary>
    /// Checks that <paramref name="data"/> holds exactly the shape's elements: flat (scalars only) with the element
    /// count, or nested exactly as the shape (each level as long as its dimension, scalars only at the last). Ragged or
    /// mixed nesting is refused.
    /// </summary>
    private static void CheckData(JsonElement data, long[] shape, string name, long expected)
    {
        var length = data.GetArrayLength();
        var nested = length > 0 && data[0].ValueKind == JsonValueKind.Array;
        if (!nested)
        {
            foreach (var e in data.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.Array)
                {
                    throw Bad($"Input '{name}' has ragged data: flat values mixed with nested arrays; expected flat data or data nested as shape {ModelTensor.FormatShape(shape)}.");
                }
            }

            if (length != expected)
            {
                throw Bad($"Input '{name}' has shape {ModelTensor.FormatShape(shape)} ({expected} elements) but {length} data values.");
            }

            return;
        }

        CheckLevel(data, 0);

        void CheckLevel(JsonElement array, int level)
        {
            if (level >= shape.Length || array.GetArrayLength() != shape[level])
            {
                throw Bad($"Input '{name}' has ragged data: nested data does not follow shape {ModelTensor.FormatShape(shape)} (level {level} has {array.GetArrayLength()} entries).");
            }

            var last = level == shape.Length - 1;
            foreach (var e in array.EnumerateArray())
            {
                if ((e.ValueKind == JsonValueKind.Array) == last)
                {
                    throw Bad($"Input '{name}' has ragged data: nested data does not follow shape {ModelTensor.FormatShape(shape)} (level {level} mixes values and arrays).");
                }

                if (!last)
                {
                    CheckLevel(e, level + 1);
                }
            }
        }
    }

    /// <summary>The request's <c>outputs</c> value: <see langword="null"/> (all outputs) for JSON null or an empty array.</summary>
    internal static List<OipRequestedOutput>? ParseOutputs(JsonElement outputs, OipLimits limits)
    {
        if (outputs.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (outputs.ValueKind != JsonValueKind.Array)
        {
            throw Bad("Expected 'outputs' to be an array of { \"name\": … } objects.");
        }

        var count = outputs.GetArrayLength();
        if (count > limits.MaxOutputs)
        {
            throw Bad($"The request asks for {count} outputs; the model has {limits.MaxOutputs}.");
        }

        var names = new HashSet<string>(count, StringComparer.Ordinal);
        var list = new List<OipRequestedOutput>(count);
        foreach (var o in outputs.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
            {
                throw Bad("Each entry of 'outputs' must be an object with a string 'name'.");
            }

            var name = n.GetString()!;
            if (!names.Add(name))
            {
                throw Bad($"Output '{Truncate(name)}' is asked for twice.");
            }

            bool? binaryData = null;
            var classification = 0;
            if (ReadParameters(o, $"output '{Truncate(name)}'") is { } p)
            {
                if (p.TryGetProperty("binary_data", out var bd))
                {
                    binaryData = ReadBool(bd, $"parameter 'binary_data' of output '{Truncate(name)}'");
                }

                if (p.TryGetProperty("classification", out var c))
                {
                    if (!c.TryGetInt32(out classification) || classification < 1)
                    {
                        throw Bad($"Output '{Truncate(name)}' has classification {OipDatatypes.Show(c)}; expected a positive integer (the top classes to return).");
                    }
                }
            }

            list.Add(new OipRequestedOutput(name, binaryData, classification));
        }

        return list.Count == 0 ? null : list;
    }

    private static JsonElement? ReadParameters(JsonElement owner, string what)
    {
        if (!owner.TryGetProperty("parameters", out var p) || p.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return p.ValueKind == JsonValueKind.Object ? p : throw Bad($"Expected 'parameters' of {what} to be an object; it is {OipDatatypes.Show(p)}.");
    }

    /// <summary>The <c>binary_data_output</c> request parameter.</summary>
    internal static bool ReadBinaryDataOutput(JsonElement? parameters) =>
        parameters is { } p && p.TryGetProperty("binary_data_output", out var bdo) && ReadBool(bdo, "parameter 'binary_data_output'");

    /// <summary>The input parameter <c>binary_data_size</c>, when present.</summary>
    internal static bool TryGetBinaryDataSize(JsonElement? parameters, out JsonElement size)
    {
        size = default;
        return parameters is { } p && p.TryGetProperty("binary_data_size", out size);
    }

    internal static OipSequence ReadSequence(JsonElement? parameters)
    {
        if (parameters is not { } p)
        {
            return default;
        }

        string? id = null;
        if (p.TryGetProperty("sequence_id", out var idElement))
        {
            id = idElement.ValueKind switch
            {
                JsonValueKind.Number when idElement.TryGetUInt64(out var n) => OipSequence.NumberId(n),
                JsonValueKind.String => OipSequence.StringId(idElement.GetString()!),
                JsonValueKind.Null => null,
                _ => throw Bad($"Expected parameter 'sequence_id' to be an unsigned integer or a string of at most {OipSequence.MaxIdLength} characters; it is {OipDatatypes.Show(idElement)}."),
            };
        }

        var start = p.TryGetProperty("sequence_start", out var s) && s.ValueKind != JsonValueKind.Null && ReadBool(s, "parameter 'sequence_start'");
        var end = p.TryGetProperty("sequence_end", out var e) && e.ValueKind != JsonValueKind.Null && ReadBool(e, "parameter 'sequence_end'");
        return new OipSequence(id, start, end).Validated();
    }

    private static bool ReadBool(JsonElement e, string what) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Bad($"Expected {what} to be true or false; it is {OipDatatypes.Show(e)}."),
    };

    private static OipRequestException Bad(string message) => new(400, message);

    private static string Truncate(string s) => s.Length > 64 ? s[..64] + "…" : s;

    /// <summary>
    /// Writes the response: the JSON (into <paramref name="json"/>) and, when any output goes binary, the binary part
    /// (into <paramref name="binary"/>, after which the caller sends the JSON then the binary part).
    /// </summary>
    /// <returns>Whether any output went binary.</returns>
    /// <exception cref="OipRequestException">A requested output does not exist, or cannot be classified.</exception>
    public static bool WriteResponse(IBufferWriter<byte> json, ArrayBufferWriter<byte> binary, ModelResponse response, OipInferRequest request)
    {
        var plans = Plan(response, request);
        using var writer = new Utf8JsonWriter(json);
        WriteResponse(writer, binary, plans, response, request);
        return AnyBinary(plans);
    }

    /// <summary>Whether any planned output goes binary.</summary>
    public static bool AnyBinary(OutputPlan[] plans)
    {
        foreach (var plan in plans)
        {
            if (plan.Binary)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the planned response with <paramref name="writer"/> (flushed at the end), the binary outputs' bytes into
    /// <paramref name="binary"/> (needed only when <see cref="AnyBinary"/>). Nothing here throws for a request: every
    /// check is in <see cref="Plan"/>, so the caller may write straight into the response body.
    /// </summary>
    public static void WriteResponse(Utf8JsonWriter writer, IBufferWriter<byte>? binary, OutputPlan[] plans, ModelResponse response, OipInferRequest request)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name", response.Key.Model.Value);
        writer.WriteString("model_version", response.Key.Version.Value);
        if (request.IdText is { } id)
        {
            if (request.IdIsNumber)
            {
                writer.WritePropertyName("id");
                writer.WriteRawValue(id, skipInputValidation: true);
            }
            else
            {
                writer.WriteString("id", id);
            }
        }

        if (request.Parameters is { } parameters)
        {
            writer.WritePropertyName("parameters");
            parameters.WriteTo(writer);
        }

        writer.WriteStartArray("outputs");
        foreach (var plan in plans)
        {
            writer.WriteStartObject();
            writer.WriteString("name", plan.Name);
            writer.WriteString("datatype", plan.Datatype);
            writer.WriteStartArray("shape");
            foreach (var d in plan.Shape)
            {
                writer.WriteNumberValue(d);
            }

            writer.WriteEndArray();
            if (plan.Binary)
            {
                var span = binary!.GetSpan(plan.ByteLength)[..plan.ByteLength];
                plan.WriteBytes(span);
                binary.Advance(plan.ByteLength);
                writer.WriteStartObject("parameters");
                writer.WriteNumber("binary_data_size", plan.ByteLength);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStartArray("data");
                plan.WriteJson(writer);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>
    /// One output of the answer, checked and sized: a tensor written by its datatype, or the classification extension's
    /// labels. No delegates or copies of the tensor: the writer reads the output where the response holds it.
    /// </summary>
    internal sealed class OutputPlan
    {
        private readonly OipDatatype? _datatype;
        private readonly ModelTensor? _tensor;
        private readonly long[]? _shape;
        private readonly List<string>? _labels;

        /// <summary>A tensor output.</summary>
        public OutputPlan(ModelTensor tensor, OipDatatype datatype, bool binary)
        {
            _tensor = tensor;
            _datatype = datatype;
            Name = tensor.Name;
            Datatype = datatype.Name;
            Binary = binary;
            ByteLength = binary ? datatype.ByteLength(tensor) : 0;
        }

        /// <summary>A classification output: BYTES labels of <paramref name="shape"/>.</summary>
        public OutputPlan(string name, long[] shape, List<string> labels, bool binary)
        {
            Name = name;
            Datatype = "BYTES";
            _shape = shape;
            _labels = labels;
            Binary = binary;
            if (binary)
            {
                var total = 0;
                foreach (var l in labels)
                {
                    total += 4 + Encoding.UTF8.GetByteCount(l);
                }

                ByteLength = total;
            }
        }

        public string Name { get; }

        public string Datatype { get; }

        public ReadOnlySpan<long> Shape => _shape ?? _tensor!.Shape;

        public bool Binary { get; }

        /// <summary>The bytes of the binary part (0 when the output goes as JSON).</summary>
        public int ByteLength { get; }

        public void WriteJson(Utf8JsonWriter writer)
        {
            if (_labels is null)
            {
                _datatype!.WriteJson(writer, _tensor!);
                return;
            }

            foreach (var l in _labels)
            {
                writer.WriteStringValue(l);
            }
        }

        public void WriteBytes(Span<byte> destination)
        {
            if (_labels is null)
            {
                _datatype!.WriteBytes(_tensor!, destination);
                return;
            }

            var at = 0;
            foreach (var l in _labels)
            {
                var n = Encoding.UTF8.GetBytes(l, destination[(at + 4)..]);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(destination[at..], n);
                at += 4 + n;
            }
        }
    }

    /// <summary>Checks and sizes the outputs of the answer, in the order they are written.</summary>
    /// <exception cref="OipRequestException">A requested output does not exist, or cannot be classified.</exception>
    internal static OutputPlan[] Plan(ModelResponse response, OipInferRequest request)
    {
        if (request.Outputs is null)
        {
            var all = new OutputPlan[response.Outputs.Count];
            for (var i = 0; i < all.Length; i++)
            {
                all[i] = PlanTensor(response.Outputs[i], request.BinaryDataOutput);
            }

            return all;
        }

        var plans = new OutputPlan[request.Outputs.Count];
        var at = 0;
        foreach (var asked in request.Outputs)
        {
            ModelTensor? output = null;
            foreach (var o in response.Outputs)
            {
                if (string.Equals(o.Name, asked.Name, StringComparison.Ordinal))
                {
                    output = o;
                    break;
                }
            }

            if (output is null)
            {
                throw Bad($"Output '{Truncate(asked.Name)}' was requested; model {response.Key} has: {string.Join(", ", response.Outputs.Select(o => o.Name))}.");
            }

            var binary = asked.BinaryData ?? request.BinaryDataOutput;
            plans[at++] = asked.Classification > 0 ? PlanClassification(output, asked.Classification, binary) : PlanTensor(output, binary);
        }

        return plans;
    }

    private static OutputPlan PlanTensor(ModelTensor output, bool binary)
    {
        output = OipDatatypes.ToWire(output);
        if (!OipDatatypes.TryGet(output.ElementType, out var datatype))
        {
            throw new NotSupportedException($"Output '{output.Name}' has element type {output.ElementType}, which the protocol writer does not handle.");
        }

        return new OutputPlan(output, datatype, binary);
    }

    /// <summary>
    /// The classification extension: the top <paramref name="k"/> classes of each row (the last dimension holds the
    /// scores) as <c>BYTES</c> strings <c>"score:index"</c>, highest first; shape <c>[rows…, k]</c>.
    /// </summary>
    private static OutputPlan PlanClassification(ModelTensor output, int k, bool binary)
    {
        if (output.Rank == 0 || !OipDatatypes.TryGet(output.ElementType, out var datatype) || !datatype.TryGetDoubles(output, out var scores))
        {
            throw Bad($"Output '{output.Name}' ({output.ElementType}, shape {output.FormatShape()}) cannot be classified; expected a numeric output with the classes as its last dimension.");
        }

        var classes = (int)output.Shape[^1];
        var top = Math.Min(k, classes);
        var rows = classes == 0 ? 0 : scores.Length / classes;
        var labels = new List<string>(rows * top);
        var order = new int[classes];
        for (var r = 0; r < rows; r++)
        {
            var row = new ReadOnlySpan<double>(scores, r * classes, classes);
            for (var i = 0; i < classes; i++)
            {
                order[i] = i;
            }

            var rowArray = row.ToArray();
            Array.Sort(order, (a, b) => rowArray[b].CompareTo(rowArray[a]) is var c && c != 0 ? c : a.CompareTo(b));
            for (var i = 0; i < top; i++)
            {
                labels.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{rowArray[order[i]]}:{order[i]}"));
            }
        }

        var shape = output.Shape.ToArray();
        shape[^1] = top;
        return new OutputPlan(output.Name, shape, labels, binary);
    }
}
