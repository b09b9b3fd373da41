using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AiOps.Inference.Tests.Serving;

/// <summary>The binary tensor data extension (request and response), output selection with <c>binary_data</c>, classification.</summary>
public sealed class BinaryTensorTests(ServingHostFixture fixture) : IClassFixture<ServingHostFixture>
{
    private const string HeaderLength = "Inference-Header-Content-Length";

    private ServingHost Host => fixture.Host;

    [Fact]
    public async Task Infer_OneMegabyteBinaryTensor_AnswersTheSameAsJsonAndTheManagedModel()
    {
        const int rows = 4096; // 4096 x 64 FP32 = 1 MiB
        var features = Kit.Features(rows, ServingHost.WideFeatures, seed: 5);
        var bytes = new byte[features.Length * 4];
        Buffer.BlockCopy(features, 0, bytes, 0, bytes.Length);
        var header = $"{{\"id\":\"bin-1\",\"inputs\":[{{\"name\":\"features\",\"shape\":[{rows},{ServingHost.WideFeatures}],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{bytes.Length}}}}}],\"parameters\":{{\"binary_data_output\":true}}}}";

        using var binary = await SendBinaryAsync("/v2/models/wide/infer", header, bytes);
        var (answer, data) = await ReadBinaryAsync(binary);
        using var json = await Host.PostAsync("/v2/models/wide/infer", ServingHost.ClassifierBody(features, ServingHost.WideFeatures));
        var jsonAnswer = await json.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("application/octet-stream", binary.Content.Headers.ContentType?.MediaType);
        Assert.Equal("bin-1", answer.GetProperty("id").GetString());
        var output = answer.GetProperty("outputs")[0];
        Assert.False(output.TryGetProperty("data", out _));
        Assert.Equal(rows * 3 * 4, output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
        Assert.Equal(rows * 3 * 4, data.Length);
        var fromBinary = new float[rows * 3];
        Buffer.BlockCopy(data, 0, fromBinary, 0, data.Length);
        var fromJson = jsonAnswer.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(fromJson, fromBinary);
        var expected = Kit.Classifier(1, inputSize: ServingHost.WideFeatures).Predict(features);
        Assert.All(Enumerable.Range(0, expected.Length), i => Assert.True(Math.Abs(expected[i] - fromBinary[i]) <= 1e-5f, $"value {i}"));
    }

    [Fact]
    public async Task Infer_OneMegabyteInt64BinaryRoundTrip_BytesComeBackUnchanged()
    {
        await using var host = await ServingHost.StartAsync(o => o.MaxRequestBodyBytes = 16 * 1024 * 1024);
        const int batch = 131_072; // int64[131072] = 1 MiB each way
        var ids = new byte[batch * 8];
        for (var i = 0; i < batch; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(ids.AsSpan(i * 8), (i * 7919L) - 1_000_000_000_000L);
        }

        var floats = new byte[batch * 3 * 4];
        var header = "{\"inputs\":["
            + $"{{\"name\":\"a\",\"shape\":[{batch},3],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{floats.Length}}}}},"
            + $"{{\"name\":\"b\",\"shape\":[{batch},3],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{floats.Length}}}}},"
            + $"{{\"name\":\"ids\",\"shape\":[{batch}],\"datatype\":\"INT64\",\"parameters\":{{\"binary_data_size\":{ids.Length}}}}}],"
            + "\"outputs\":[{\"name\":\"ids_out\",\"parameters\":{\"binary_data\":true}},{\"name\":\"sum\",\"parameters\":{\"binary_data\":false}}]}";

        using var response = await SendBinaryAsync("/v2/models/multi/infer", header, [.. floats, .. floats, .. ids], host);
        var (answer, data) = await ReadBinaryAsync(response);

        var outputs = answer.GetProperty("outputs");
        Assert.Equal(["ids_out", "sum"], outputs.EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        Assert.Equal("INT64", outputs[0].GetProperty("datatype").GetString());
        Assert.Equal(ids, data); // only ids_out went binary
        Assert.Equal(batch * 3, outputs[1].GetProperty("data").GetArrayLength()); // sum asked for in JSON
    }

    [Fact]
    public async Task Infer_JsonRequestWithClassification_TopClassesAsBytesStrings()
    {
        var features = Kit.Features(2, seed: 3);
        var body = ServingHost.ClassifierBody(features, extra: ",\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"classification\":2}}]");

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var output = answer.GetProperty("outputs")[0];
        Assert.Equal("BYTES", output.GetProperty("datatype").GetString());
        Assert.Equal([2L, 2L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var probabilities = Kit.Classifier(1).Predict(features);
        var labels = output.GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToArray();
        for (var r = 0; r < 2; r++)
        {
            var row = probabilities.AsSpan(r * 3, 3).ToArray();
            var best = Array.IndexOf(row, row.Max());
            Assert.EndsWith($":{best}", labels[r * 2], StringComparison.Ordinal);
            var scores = labels.Skip(r * 2).Take(2).Select(l => double.Parse(l.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(scores[0] >= scores[1], "highest first");
        }
    }

    [Theory]
    [InlineData(15, 16, "binary_data_size 15; shape [1, 4] of FP32 takes 16 bytes")]
    [InlineData(16, 12, "only 12 bytes of binary tensor data are left")]
    [InlineData(16, 20, "binary tensor data is 20 bytes; the inputs' binary_data_size add up to 16")]
    public async Task Infer_BinarySizesThatDoNotAddUp_400(int declared, int sent, string expected)
    {
        var header = $"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{declared}}}}}]}}";

        using var response = await SendBinaryAsync("/v2/models/clf/infer", header, new byte[sent]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999")]
    [InlineData("-1")]
    [InlineData("abc")]
    public async Task Infer_HeaderLengthNotWithinTheBody_400(string value)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/clf/infer") { Content = new StringContent(ServingHost.ClassifierBody(Kit.Features(1))) };
        request.Headers.TryAddWithoutValidation(HeaderLength, value);

        using var response = await Host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(HeaderLength, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> SendBinaryAsync(string path, string header, byte[] data, ServingHost? host = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var content = new ByteArrayContent([.. json, .. data]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation(HeaderLength, json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return (host ?? Host).Client.SendAsync(request);
    }

    private static async Task<(JsonElement Header, byte[] Data)> ReadBinaryAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        var length = int.Parse(response.Headers.GetValues(HeaderLength).Single(), System.Globalization.CultureInfo.InvariantCulture);
        return (JsonDocument.Parse(body.AsMemory(0, length)).RootElement, body[length..]);
    }
}
