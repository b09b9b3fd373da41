using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AiOps.Inference.Serving;

namespace AiOps.Inference.Tests.Serving;

/// <summary>
/// The one-pass request reader (<see cref="OipRequestReader"/>) against the document path it replaces on the hot path:
/// every body it takes, whole or split into 1-byte segments, gives exactly the request the document gives; every body
/// the document refuses, it leaves to the document (so the message is the document's).
/// </summary>
public sealed class RequestReaderTests
{
    private static readonly OipLimits Limits = new(MaxInputs: 4, MaxOutputs: 4, MaxElements: 1 << 20, MaxNestingDepth: 8);

    public static TheoryData<string> Names() => [.. OipDatatypes.All.Select(d => d.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryDatatype_FlatAndNestedJson_SameAsTheDocument_WholeAndInOneByteSegments(string name)
    {
        var leaves = Leaves(name);
        var flat = "[" + string.Join(",", leaves) + "]";
        var nested = "[[" + leaves[0] + "," + leaves[1] + "],[" + leaves[2] + "," + leaves[3] + "]]";
        foreach (var data in new[] { flat, nested })
        {
            AssertSameAsDocument($"{{\"id\":\"r-1\",\"inputs\":[{{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"{name}\",\"data\":{data}}}]}}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryDatatype_BinaryExtension_SameAsTheDocument(string name)
    {
        Assert.True(OipDatatypes.TryGet(name, out var datatype));
        var sample = DatatypeTableTests.Sample(datatype.ElementType);
        var bytes = new byte[datatype.ByteLength(sample)];
        datatype.WriteBytes(sample, bytes);
        var header = $"{{\"inputs\":[{{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"{name}\",\"parameters\":{{\"binary_data_size\":{bytes.Length}}}}},"
            + "{\"name\":\"u\",\"shape\":[1],\"datatype\":\"INT64\",\"data\":[7]}]}";

        AssertSameAsDocument(header, bytes);
    }

    [Theory]
    // The data before the datatype and the shape: skipped, then read again once both are known.
    [InlineData("{\"inputs\":[{\"data\":[[1,2],[3,4]],\"name\":\"t\",\"datatype\":\"FP32\",\"shape\":[2,2]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"data\":[1,2,3,4],\"shape\":[2,2],\"datatype\":\"INT32\"}]}")]
    // Unknown properties anywhere, nested, skipped.
    [InlineData("{\"x\":{\"a\":[1,{\"b\":[2]}]},\"inputs\":[{\"name\":\"t\",\"extra\":[[]],\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],\"y\":null}")]
    // Ids: numeric (echoed as the number's text), exponent, null; escaped names and datatype.
    [InlineData("{\"id\":12345678901234567890,\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"id\":-1.5e3,\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"id\":null,\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"\\u0069d\":\"a\\\"b\",\"inputs\":[{\"n\\u0061me\":\"\\u00e9t\\u00e9\",\"shape\":[1],\"datatype\":\"\\u0046P32\",\"data\":[1]}]}")]
    // Edge shapes: scalar, empty, zero inner dimension.
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[],\"datatype\":\"FP64\",\"data\":[5]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[0],\"datatype\":\"FP32\",\"data\":[]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,0],\"datatype\":\"FP32\",\"data\":[[],[]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,1,2],\"datatype\":\"INT8\",\"data\":[[[1,2]],[[3,4]]]}]}")]
    // Parameters (sequence, binary output), outputs with their parameters, several inputs.
    [InlineData("{\"parameters\":{\"sequence_id\":42,\"sequence_start\":true,\"binary_data_output\":false,\"other\":[1]},\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"BOOL\",\"data\":[true],\"parameters\":{\"note\":\"x\"}},{\"name\":\"b\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"s\"]}],\"outputs\":[{\"name\":\"p\",\"parameters\":{\"classification\":2,\"binary_data\":true}},{\"name\":\"q\"}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[],\"parameters\":null}")]
    public void ValidBodies_SameAsTheDocument(string body) => AssertSameAsDocument(body);

    [Theory]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"inputs\":{}}")]
    [InlineData("{\"inputs\":[]}")]
    [InlineData("{\"inputs\":[7]}")]
    [InlineData("{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":3,\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"fp32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":7,\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[-1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1.5],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1,1,1,1,1,1,1,1,1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[4611686018427387904,4],\"datatype\":\"FP32\",\"data\":[]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1048577],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":0}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\"}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":{}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2],[3]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2],[3,4,5]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2],3,4]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,[3,4]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[[1,2]],[[3,4]]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2,3,4]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2],[3,4],[5,6]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[],\"datatype\":\"FP32\",\"data\":[[1]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,\"4\"]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,null]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,{}]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2],[3,{}]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"INT8\",\"data\":[1,2,3,300]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"UINT64\",\"data\":[1,2,3,-1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"INT32\",\"data\":[1,2,3,4.5]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"BOOL\",\"data\":[true,false,2,0]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"FP16\",\"data\":[1,2,3,1e6]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"BF16\",\"data\":[1,2,3,1e39]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[2,2],\"datatype\":\"BYTES\",\"data\":[\"a\",\"b\",\"c\",4]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},{\"name\":\"u\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},{\"name\":\"v\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},{\"name\":\"w\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"id\":{},\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"id\":true,\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"parameters\":[],\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"parameters\":{\"binary_data_output\":1},\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"parameters\":{\"sequence_start\":true},\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1],\"parameters\":7}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1],\"parameters\":{\"binary_data_size\":4}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":4}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":-1}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":\"p\"}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[{\"name\":\"p\"},{\"name\":\"p\"}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[{\"name\":\"p\",\"parameters\":{\"classification\":0}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]} x")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1,]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1,1,1,1,1,1,1,1],\"datatype\":\"FP32\",\"data\":[[[[[[[[[1]]]]]]]]]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1,1,1,1,1,1,1,1],\"datatype\":\"FP32\",\"data\":[[[[[[[[[[1]]]]]]]]]]}]}")]
    public void RefusedBodies_LeftToTheDocument_WhichNamesTheError(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        Assert.Null(OipRequestReader.TryRead(new ReadOnlySequence<byte>(bytes), [], Limits));
        Assert.Null(OipRequestReader.TryRead(OneByteSegments(bytes), [], Limits));
        var document = Assert.Throws<OipRequestException>(() => ParseWithDocument(bytes, []));
        var served = Assert.Throws<OipRequestException>(() => OipCodec.ParseRequest(bytes, bytes.Length, Limits, "m"));
        Assert.Equal((document.Status, document.Message), (served.Status, served.Message));
    }

    [Theory]
    [InlineData(0, 3)] // binary part longer than the inputs declare
    [InlineData(4, 0)] // binary_data_size past the binary part
    public void BinarySizesThatDoNotAddUp_LeftToTheDocument(int declared, int extra)
    {
        var header = Encoding.UTF8.GetBytes($"{{\"inputs\":[{{\"name\":\"t\",\"shape\":[{declared / 4}],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{declared}}}}}]}}");
        var binary = new byte[extra];

        Assert.Null(OipRequestReader.TryRead(new ReadOnlySequence<byte>(header), binary, Limits));
        var document = Assert.Throws<OipRequestException>(() => ParseWithDocument(header, binary));
        var served = Assert.Throws<OipRequestException>(() => OipCodec.ParseRequest(Concat(header, binary), header.Length, Limits, "m"));
        Assert.Equal(document.Message, served.Message);
    }

    [Theory]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"inputs\":[{\"name\":\"u\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[2]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"t\",\"name\":\"u\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    [InlineData("{\"id\":\"a\",\"id\":\"b\",\"inputs\":[{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}")]
    public void DuplicateKeys_LeftToTheDocument_AnsweredAsBefore(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        Assert.Null(OipRequestReader.TryRead(new ReadOnlySequence<byte>(bytes), [], Limits));
        Assert.Equal(Describe(ParseWithDocument(bytes, [])), Describe(OipCodec.ParseRequest(bytes, bytes.Length, Limits, "m")));
    }

    [Fact]
    public void ManyInputs_StopsAtTheCap_NoMatterHowManyFollow()
    {
        // 40,000 inputs behind a cap of 4: the reader gives up on the fifth; the document names the count.
        var body = RequestBody(40_000);

        Assert.Null(OipRequestReader.TryRead(new ReadOnlySequence<byte>(body), [], Limits));
        var e = Assert.Throws<OipRequestException>(() => OipCodec.ParseRequest(body, body.Length, Limits, "m"));
        Assert.Contains("40000 inputs; model 'm' takes at most 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LargeTensor_OnePass_SameAsTheDocument()
    {
        var values = Enumerable.Range(0, 64 * 1024).Select(i => ((i * 7919) % 10007 / 97.0f).ToString("R", CultureInfo.InvariantCulture));
        AssertSameAsDocument("{\"inputs\":[{\"name\":\"t\",\"shape\":[1024,64],\"datatype\":\"FP32\",\"data\":[" + string.Join(",", values) + "]}]}");
    }

    [Fact]
    public void Response_NumericIdEchoedAsTheNumber_StringIdEscaped()
    {
        var response = new ModelResponse(new ModelKey("m", "1"), [ModelTensor.Create("p", new[] { 1f, 2f }.AsMemory(), 1, 2)]);
        foreach (var (id, expected) in new[] { ("12345678901234567890", "12345678901234567890"), ("-1.5e3", "-1.5e3"), ("\"a\\\"b\"", "\"a\\u0022b\"") })
        {
            var body = Encoding.UTF8.GetBytes($"{{\"id\":{id},\"inputs\":[{{\"name\":\"t\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}}]}}");
            var request = OipCodec.ParseRequest(body, body.Length, Limits, "m");
            var json = new ArrayBufferWriter<byte>();

            OipCodec.WriteResponse(json, new ArrayBufferWriter<byte>(), response, request);

            Assert.Equal($"{{\"model_name\":\"m\",\"model_version\":\"1\",\"id\":{expected},\"outputs\":[{{\"name\":\"p\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}}]}}", Encoding.UTF8.GetString(json.WrittenSpan));
        }
    }

    private static byte[] Concat(byte[] a, byte[] b)
    {
        var all = new byte[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        return all;
    }

    internal static byte[] RequestBody(int inputs)
    {
        var body = new StringBuilder("{\"inputs\":[");
        for (var i = 0; i < inputs; i++)
        {
            body.Append(i == 0 ? string.Empty : ",").Append("{\"name\":\"x").Append(i).Append("\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}");
        }

        return Encoding.UTF8.GetBytes(body.Append("]}").ToString());
    }

    /// <summary>The JSON texts of the datatype's four edge values (<see cref="DatatypeTableTests.Sample"/>).</summary>
    private static string[] Leaves(string name)
    {
        Assert.True(OipDatatypes.TryGet(name, out var datatype));
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            datatype.WriteJson(writer, DatatypeTableTests.Sample(datatype.ElementType));
            writer.WriteEndArray();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return [.. document.RootElement.EnumerateArray().Select(e => e.GetRawText())];
    }

    private static void AssertSameAsDocument(string header, byte[]? binary = null)
    {
        var bytes = Encoding.UTF8.GetBytes(header);
        binary ??= [];
        var expected = Describe(ParseWithDocument(bytes, binary));

        var whole = OipRequestReader.TryRead(new ReadOnlySequence<byte>(bytes), binary, Limits);
        var segmented = OipRequestReader.TryRead(OneByteSegments(bytes), binary, Limits);

        Assert.NotNull(whole);
        Assert.NotNull(segmented);
        Assert.Equal(expected, Describe(whole));
        Assert.Equal(expected, Describe(segmented));
        Assert.Equal(expected, Describe(OipCodec.ParseRequest(Concat(bytes, binary), bytes.Length, Limits, "m")));
    }

    private static OipInferRequest ParseWithDocument(byte[] header, byte[] binary)
    {
        using var document = OipCodec.ParseDocument(header, Limits.MaxNestingDepth);
        return OipCodec.ParseRequest(document.RootElement, binary, Limits, "m");
    }

    /// <summary>Everything the endpoint uses of a request, as text: ids, parameters, outputs, and each input's bytes.</summary>
    private static string Describe(OipInferRequest request)
    {
        var text = new StringBuilder()
            .Append("id=").Append(request.IdText ?? "(none)").Append(request.IdIsNumber ? " number" : string.Empty)
            .Append(" parameters=").Append(request.Parameters?.GetRawText() ?? "(none)")
            .Append(" binary_data_output=").Append(request.BinaryDataOutput)
            .Append(" sequence=").Append(request.Sequence)
            .Append(" outputs=").Append(request.Outputs is null ? "(all)" : string.Join(";", request.Outputs));
        foreach (var input in request.Inputs)
        {
            Assert.True(OipDatatypes.TryGet(input.ElementType, out var datatype));
            var bytes = new byte[datatype.ByteLength(input)];
            datatype.WriteBytes(input, bytes);
            text.Append(" | ").Append(input.Name).Append(' ').Append(datatype.Name).Append(' ').Append(input.FormatShape()).Append(' ').Append(Convert.ToHexString(bytes));
        }

        return text.ToString();
    }

    /// <summary><paramref name="bytes"/> as a sequence of 1-byte segments: every token split across segment ends.</summary>
    internal static ReadOnlySequence<byte> OneByteSegments(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
