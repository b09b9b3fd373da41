using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AiOps.Inference.Serving;
using BenchmarkDotNet.Attributes;

namespace AiOps.Benchmarks;

/// <summary>
/// Issue 15: rejecting a hostile body with thousands of one-element inputs costs time linear in the body (the input
/// count is capped at the model's before any per-input work): 40,000 inputs must cost at most 12x 5,000. Measured on
/// the serving edge's request path (JSON parse with the nesting limit, then the codec's checks) up to the rejection.
/// </summary>
[MemoryDiagnoser]
public class ServingRejectBenchmarks
{
    private static readonly OipLimits Limits = new(MaxInputs: 1, MaxOutputs: 1, MaxElements: 16 * 1024 * 1024, MaxNestingDepth: 8);
    private byte[] _body5k = [];
    private byte[] _body40k = [];

    [GlobalSetup]
    public void Setup()
    {
        _body5k = Body(5_000);
        _body40k = Body(40_000);
    }

    [Benchmark(Baseline = true, Description = "reject 5,000 inputs")]
    public int Reject5k() => Reject(_body5k);

    [Benchmark(Description = "reject 40,000 inputs")]
    public int Reject40k() => Reject(_body40k);

    internal static byte[] Body(int inputs)
    {
        var body = new StringBuilder("{\"inputs\":[");
        for (var i = 0; i < inputs; i++)
        {
            body.Append(i == 0 ? string.Empty : ",").Append("{\"name\":\"x").Append(i).Append("\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}");
        }

        return Encoding.UTF8.GetBytes(body.Append("]}").ToString());
    }

    private static int Reject(byte[] body)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 12 });
        try
        {
            OipCodec.ParseRequest(document.RootElement, ReadOnlyMemory<byte>.Empty, Limits, "clf");
            return 0;
        }
        catch (OipRequestException e)
        {
            return e.Status;
        }
    }
}

/// <summary>
/// Issue 15: the binary tensor data extension vs JSON on a 1 MB FP32 tensor (262,144 elements), request parse and
/// response write as the serving edge does them; JSON is the baseline a client gets without the extension.
/// </summary>
[MemoryDiagnoser]
public class ServingBinaryBenchmarks
{
    private const int Elements = 262_144;
    private static readonly OipLimits Limits = new(MaxInputs: 1, MaxOutputs: 1, MaxElements: 16 * 1024 * 1024, MaxNestingDepth: 8);
    private byte[] _json = [];
    private byte[] _binaryHeader = [];
    private byte[] _binaryData = [];
    private ModelResponse _response = null!;

    [GlobalSetup]
    public void Setup()
    {
        var values = AiOps.TestModels.TestModels.Features(Elements / 64, 64);
        _json = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"features\",\"shape\":[4096,64],\"datatype\":\"FP32\",\"data\":["
            + string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}]}");
        _binaryHeader = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"features\",\"shape\":[4096,64],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + (Elements * 4) + "}}]}");
        _binaryData = new byte[Elements * 4];
        Buffer.BlockCopy(values, 0, _binaryData, 0, _binaryData.Length);
        _response = new ModelResponse(new ModelKey("wide", "1"), [ModelTensor.Create<float>("features", values, 4096, 64)]);
    }

    [Benchmark(Baseline = true, Description = "JSON: parse request")]
    public int ParseJson()
    {
        using var document = JsonDocument.Parse(_json, new JsonDocumentOptions { MaxDepth = 12 });
        return OipCodec.ParseRequest(document.RootElement, ReadOnlyMemory<byte>.Empty, Limits, "wide").Inputs.Count;
    }

    [Benchmark(Description = "JSON: parse request, one pass")]
    public int ParseJsonOnePass() => OipCodec.ParseRequest(_json, _json.Length, Limits, "wide").Inputs.Count;

    [Benchmark(Description = "binary: parse request")]
    public int ParseBinary()
    {
        using var document = JsonDocument.Parse(_binaryHeader, new JsonDocumentOptions { MaxDepth = 12 });
        return OipCodec.ParseRequest(document.RootElement, _binaryData, Limits, "wide").Inputs.Count;
    }

    [Benchmark(Description = "JSON: write response")]
    public int WriteJson() => Write(binary: false);

    [Benchmark(Description = "binary: write response")]
    public int WriteBinary() => Write(binary: true);

    private int Write(bool binary)
    {
        var json = new ArrayBufferWriter<byte>(binary ? 256 : 4 * 1024 * 1024);
        var data = new ArrayBufferWriter<byte>(binary ? Elements * 4 : 1);
        OipCodec.WriteResponse(json, data, _response, new OipInferRequest { Inputs = [], BinaryDataOutput = binary });
        return json.WrittenCount + data.WrittenCount;
    }
}

/// <summary>
/// Issue 15: the serving edge's own work on the load test's tiny request (<c>{"id":…,"inputs":[{"name":"features",
/// "shape":[1,4],"datatype":"FP32","data":[…]}]}</c> in, <c>probabilities</c> [1, 3] FP32 out), without the model run:
/// request parse and JSON answer. The document path (a <see cref="JsonDocument"/>, then the codec; the answer through
/// intermediate buffers) is what the endpoint did before the one-pass reader; the hand-written endpoint of
/// <c>serve-load</c> is the user's baseline (its parse and write, here without the session).
/// </summary>
[MemoryDiagnoser]
public class ServingHandlerBenchmarks
{
    private static readonly OipLimits Limits = new(MaxInputs: 1, MaxOutputs: 1, MaxElements: 16 * 1024 * 1024, MaxNestingDepth: 8);
    private readonly ArrayBufferWriter<byte> _pipe = new(4096);
    private byte[] _body = [];
    private ModelResponse _response = null!;
    private float[] _probabilities = [];
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var features = AiOps.TestModels.TestModels.Features(1, 4);
        _body = Encoding.UTF8.GetBytes(
            "{\"id\":\"load-1\",\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":["
            + string.Join(",", features.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}]}");
        _probabilities = [0.25f, 0.5f, 0.25f];
        _response = new ModelResponse(new ModelKey("classifier", "1"), [ModelTensor.Create("probabilities", _probabilities.AsMemory(), 1, 3)]);
        _writer = new Utf8JsonWriter(_pipe);
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    [Benchmark(Baseline = true, Description = "document: JsonDocument + codec, answer via buffers")]
    public int Document()
    {
        using var document = JsonDocument.Parse(_body, new JsonDocumentOptions { MaxDepth = 12 });
        var request = OipCodec.ParseRequest(document.RootElement, ReadOnlyMemory<byte>.Empty, Limits, "classifier");
        var json = new ArrayBufferWriter<byte>(512);
        var binary = new ArrayBufferWriter<byte>();
        OipCodec.WriteResponse(json, binary, _response, request);
        return json.WrittenCount + request.Inputs.Count;
    }

    [Benchmark(Description = "one pass: reader into tensors, answer into the pipe")]
    public int OnePass()
    {
        var request = OipCodec.ParseRequest(_body, _body.Length, Limits, "classifier");
        _pipe.ResetWrittenCount();
        _writer.Reset(_pipe);
        OipCodec.WriteResponse(_writer, null, OipCodec.Plan(_response, request), _response, request);
        return _pipe.WrittenCount + request.Inputs.Count;
    }

    [Benchmark(Description = "hand-written endpoint (serve-load baseline), no session")]
    public int HandWritten()
    {
        using var document = JsonDocument.Parse(_body);
        var input = document.RootElement.GetProperty("inputs")[0];
        var shape = input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var data = input.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        _pipe.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_pipe);
        writer.WriteStartObject();
        writer.WriteString("model_name", "classifier");
        if (document.RootElement.TryGetProperty("id", out var id))
        {
            writer.WriteString("id", id.GetString());
        }

        writer.WriteStartArray("outputs");
        writer.WriteStartObject();
        writer.WriteString("name", "probabilities");
        writer.WriteString("datatype", "FP32");
        writer.WriteStartArray("shape");
        writer.WriteNumberValue(1L);
        writer.WriteNumberValue(3L);
        writer.WriteEndArray();
        writer.WriteStartArray("data");
        foreach (var p in _probabilities)
        {
            writer.WriteNumberValue(p);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        return _pipe.WrittenCount + shape.Length + data.Length;
    }
}
