using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace AiOps.Inference.Tests.Serving;

/// <summary>FP16, BF16 and BYTES on the wire (JSON and the binary tensor data extension), and a ZipMap output over REST.</summary>
public sealed class DatatypeWireTests(ServingHostFixture fixture) : IClassFixture<ServingHostFixture>
{
    private const string HeaderLength = "Inference-Header-Content-Length";

    private ServingHost Host => fixture.Host;

    private static Dictionary<string, JsonElement> Outputs(JsonElement answer) =>
        answer.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);

    [Fact]
    public async Task Metadata_ReportsFp16Bf16AndBytesDatatypes()
    {
        var fp16 = await Host.Client.GetFromJsonAsync<JsonElement>("/v2/models/fp16");
        var bf16 = await Host.Client.GetFromJsonAsync<JsonElement>("/v2/models/bf16");
        var strings = await Host.Client.GetFromJsonAsync<JsonElement>("/v2/models/strings");
        var sklearn = await Host.Client.GetFromJsonAsync<JsonElement>("/v2/models/sklearn");

        Assert.All(fp16.GetProperty("inputs").EnumerateArray().Concat(fp16.GetProperty("outputs").EnumerateArray()), t => Assert.Equal("FP16", t.GetProperty("datatype").GetString()));
        Assert.Equal("BF16", bf16.GetProperty("inputs")[0].GetProperty("datatype").GetString());
        Assert.Equal("BYTES", strings.GetProperty("outputs")[0].GetProperty("datatype").GetString());
        var probability = sklearn.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "output_probability");
        Assert.Equal("BYTES", probability.GetProperty("datatype").GetString());
        Assert.Equal("[-1]", probability.GetProperty("shape").GetRawText());
    }

    [Fact]
    public async Task Infer_Fp16Json_NumbersRoundedToNearestHalfAndAddedInHalfPrecision()
    {
        using var response = await Host.PostAsync("/v2/models/fp16/infer", """
            {"inputs":[
              {"name":"a","datatype":"FP16","shape":[1,3],"data":[0.1,65519,-2.5]},
              {"name":"b","datatype":"FP16","shape":[1,3],"data":[[0.2,-1,1e-8]]}]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var outputs = Outputs(await response.Content.ReadFromJsonAsync<JsonElement>());
        Assert.Equal("FP16", outputs["y"].GetProperty("datatype").GetString());
        var y = outputs["y"].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var sum = outputs["sum"].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal([(float)(Half)0.1, 65504f, -2.5f], y); // 65519 rounds down to the largest half, 65504
        Assert.Equal([(float)((Half)0.1 + (Half)0.2), 65504f, -2.5f], sum);
    }

    [Theory]
    [InlineData("FP16", "65520")] // rounds to infinity in half precision
    [InlineData("FP16", "-1e6")]
    [InlineData("FP16", "\"1\"")]
    [InlineData("BF16", "1e39")] // past float32, so past bfloat16
    public async Task Infer_Fp16OrBf16ValueOutOfRangeOrNotANumber_400Json(string datatype, string value)
    {
        var model = datatype == "FP16" ? "fp16" : "bf16";
        var body = datatype == "FP16"
            ? $$"""{"inputs":[{"name":"a","datatype":"FP16","shape":[1,3],"data":[1,{{value}},2]},{"name":"b","datatype":"FP16","shape":[1,3],"data":[1,1,1]}]}"""
            : $$"""{"inputs":[{"name":"x","datatype":"BF16","shape":[1,2],"data":[1,{{value}}]}]}""";

        using var response = await Host.PostAsync($"/v2/models/{model}/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ServingHost.ErrorOf(response);
        Assert.Contains($"not a valid {datatype} value", error, StringComparison.Ordinal);
        Assert.Contains("index 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_Bf16Json_RoundTripsTheBfloat16Values()
    {
        using var response = await Host.PostAsync("/v2/models/bf16/infer", """
            {"inputs":[{"name":"x","datatype":"BF16","shape":[2,2],"data":[1.5,-3.140625,1e30,0.1]}]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var y = Outputs(await response.Content.ReadFromJsonAsync<JsonElement>())["y"];
        Assert.Equal("BF16", y.GetProperty("datatype").GetString());
        Assert.Equal(
            new[] { 1.5, -3.140625, 1e30, 0.1 }.Select(v => (float)(BFloat16)v),
            y.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()));
    }

    [Fact]
    public async Task Infer_BytesJson_StringsRoundTripAndANonStringIs400()
    {
        using var ok = await Host.PostAsync("/v2/models/strings/infer", """
            {"inputs":[{"name":"s","datatype":"BYTES","shape":[2,2],"data":[["héllo",""],["日本語","🦤"]]}]}
            """);
        using var bad = await Host.PostAsync("/v2/models/strings/infer", """
            {"inputs":[{"name":"s","datatype":"BYTES","shape":[1,2],"data":["a",7]}]}
            """);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var o = Outputs(await ok.Content.ReadFromJsonAsync<JsonElement>())["o"];
        Assert.Equal("BYTES", o.GetProperty("datatype").GetString());
        Assert.Equal(["héllo", "", "日本語", "🦤"], o.GetProperty("data").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("value 7 at index 1 is not a valid BYTES value; expected a JSON string", await ServingHost.ErrorOf(bad), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_BinaryFp16AndBytes_RequestAndResponseBytesAsTritonWritesThem()
    {
        Half[] a = [(Half)1, (Half)(-0.5), Half.MaxValue];
        Half[] b = [(Half)0.25, (Half)0.25, (Half)(-1)];
        var halves = MemoryMarshal.AsBytes(a.AsSpan()).ToArray().Concat(MemoryMarshal.AsBytes(b.AsSpan()).ToArray()).ToArray();
        var header = "{\"inputs\":["
            + "{\"name\":\"a\",\"shape\":[1,3],\"datatype\":\"FP16\",\"parameters\":{\"binary_data_size\":6}},"
            + "{\"name\":\"b\",\"shape\":[1,3],\"datatype\":\"FP16\",\"parameters\":{\"binary_data_size\":6}}],"
            + "\"parameters\":{\"binary_data_output\":true}}";
        string[] words = ["ab", "", "ü", "xyz"];
        var strings = LengthPrefixed(words);
        var stringHeader = $"{{\"inputs\":[{{\"name\":\"s\",\"shape\":[2,2],\"datatype\":\"BYTES\",\"parameters\":{{\"binary_data_size\":{strings.Length}}}}}],\"outputs\":[{{\"name\":\"o\",\"parameters\":{{\"binary_data\":true}}}}]}}";

        var (fp16Answer, fp16Data) = await ReadBinaryAsync(await SendBinaryAsync("/v2/models/fp16/infer", header, halves));
        var (bytesAnswer, bytesData) = await ReadBinaryAsync(await SendBinaryAsync("/v2/models/strings/infer", stringHeader, strings));

        var outputs = Outputs(fp16Answer);
        Assert.Equal(6, outputs["y"].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(12, fp16Data.Length);
        Assert.Equal(halves[..6], fp16Data[..6]); // y = a, the same little-endian bits
        var sum = MemoryMarshal.Cast<byte, Half>(fp16Data.AsSpan(6)).ToArray();
        Assert.Equal([(Half)1.25, (Half)(-0.25), Half.MaxValue - (Half)1], sum);
        Assert.Equal(strings.Length, Outputs(bytesAnswer)["o"].GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(strings, bytesData);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0, (byte)'a' }, "says 2 bytes but 1 are left")]
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a', 0, 0 }, "has no 4-byte length")]
    [InlineData(new byte[] { 1, 0, 0, 0, 0xFF, 1, 0, 0, 0, (byte)'b' }, "not valid UTF-8")]
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a', 1, 0, 0, 0, (byte)'b', 9 }, "1 bytes after its 2 BYTES elements")]
    public async Task Infer_MalformedBinaryBytes_400Json(byte[] data, string expected)
    {
        var header = $"{{\"inputs\":[{{\"name\":\"s\",\"shape\":[1,2],\"datatype\":\"BYTES\",\"parameters\":{{\"binary_data_size\":{data.Length}}}}}]}}";

        using var response = await SendBinaryAsync("/v2/models/strings/infer", header, data);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_SklearnZipMapOutput_EachRowsMapAsJsonTextAndLabelsAsInt64()
    {
        var x = Kit.Features(2, seed: 4);
        using var response = await Host.PostAsync("/v2/models/sklearn/infer",
            $"{{\"inputs\":[{{\"name\":\"float_input\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[{string.Join(",", x.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}]}}]}}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var outputs = Outputs(await response.Content.ReadFromJsonAsync<JsonElement>());
        var probability = outputs["output_probability"];
        Assert.Equal("BYTES", probability.GetProperty("datatype").GetString());
        Assert.Equal("[2]", probability.GetProperty("shape").GetRawText());
        var labels = outputs["output_label"].GetProperty("data").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var rows = probability.GetProperty("data").EnumerateArray().Select(e => JsonDocument.Parse(e.GetString()!).RootElement).ToArray();
        for (var r = 0; r < 2; r++)
        {
            var map = rows[r].EnumerateObject().ToDictionary(p => long.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture), p => p.Value.GetSingle());
            Assert.Equal([0L, 1L, 2L], map.Keys.Order());
            Assert.Equal(1.0, map.Values.Sum(), 1e-5);
            Assert.Equal(labels[r], map.MaxBy(p => p.Value).Key);
        }
    }

    private static byte[] LengthPrefixed(string[] values)
    {
        var stream = new MemoryStream();
        var length = new byte[4];
        foreach (var v in values)
        {
            var bytes = Encoding.UTF8.GetBytes(v);
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }

        return stream.ToArray();
    }

    private Task<HttpResponseMessage> SendBinaryAsync(string path, string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var content = new ByteArrayContent([.. json, .. data]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation(HeaderLength, json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Host.Client.SendAsync(request);
    }

    private static async Task<(JsonElement Header, byte[] Data)> ReadBinaryAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        var length = int.Parse(response.Headers.GetValues(HeaderLength).Single(), System.Globalization.CultureInfo.InvariantCulture);
        return (JsonDocument.Parse(body.AsMemory(0, length)).RootElement, body[length..]);
    }
}
