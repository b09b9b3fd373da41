using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace AiOps.IntegrationTests.InferenceHost;

public sealed class OpenInferenceProtocolTests : IClassFixture<SharedHostFixture>
{
    private readonly RunningHost _host;

    public OpenInferenceProtocolTests(SharedHostFixture fixture) => _host = fixture.Host;

    private HttpClient Client => _host.Client;

    [Fact]
    public async Task Health_StartedHost_LiveAndReady()
    {
        var live = await Client.GetAsync("/v2/health/live");
        var ready = await Client.GetAsync("/v2/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.True((await live.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("live").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True((await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task ModelMetadata_DemoClassifier_DescribesVersionsPlatformAndDynamicBatch()
    {
        var body = await Client.GetFromJsonAsync<JsonElement>("/v2/models/classifier");

        Assert.Equal("classifier", body.GetProperty("name").GetString());
        Assert.Equal(["1", "2"], body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("onnxruntime_onnx", body.GetProperty("platform").GetString());
        var input = Assert.Single(body.GetProperty("inputs").EnumerateArray());
        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 4L], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var output = Assert.Single(body.GetProperty("outputs").EnumerateArray());
        Assert.Equal("probabilities", output.GetProperty("name").GetString());
        Assert.Equal([-1L, 3L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Fact]
    public async Task VersionMetadataAndReady_KnownVersion_AnswersForThatVersion()
    {
        var body = await Client.GetFromJsonAsync<JsonElement>("/v2/models/classifier/versions/2");
        var ready = await Client.GetAsync("/v2/models/classifier/versions/2/ready");
        var modelReady = await Client.GetAsync("/v2/models/classifier/ready");

        Assert.Equal(["2"], body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, modelReady.StatusCode);
    }

    [Fact]
    public async Task Infer_FlatData_MatchesManagedPredictionAndEchoesId()
    {
        var features = RunningHost.Features(3, seed: 11);

        var response = await _host.InferAsync(RunningHost.InferBody(features, id: "req-42"));
        var (version, probabilities, body) = await RunningHost.ReadAnswerAsync(response);

        Assert.Equal("1", version);
        Assert.Equal("classifier", body.GetProperty("model_name").GetString());
        Assert.Equal("req-42", body.GetProperty("id").GetString());
        var output = body.GetProperty("outputs")[0];
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        Assert.Equal([3L, 3L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        RunningHost.AssertClose(TestModels.TestModels.Classifier(1).Predict(features), probabilities);
    }

    [Fact]
    public async Task Infer_NestedDataOnVersionRoute_MatchesThatVersion()
    {
        var features = RunningHost.Features(2, seed: 12);

        var (version, probabilities, _) = await RunningHost.ReadAnswerAsync(await _host.InferAsync(RunningHost.InferBody(features, nested: true), version: "2"));

        Assert.Equal("2", version);
        RunningHost.AssertClose(TestModels.TestModels.Classifier(2).Predict(features), probabilities);
    }

    [Fact]
    public async Task Infer_VersionHeader_PinsTheVersion()
    {
        var features = RunningHost.Features(1, seed: 13);

        var response = await _host.InferAsync(RunningHost.InferBody(features), headers: new Dictionary<string, string> { ["x-aiops-version"] = "2" });
        var (version, probabilities, _) = await RunningHost.ReadAnswerAsync(response);

        Assert.Equal("2", version);
        Assert.Equal("2", response.Headers.GetValues("x-aiops-version").Single());
        RunningHost.AssertClose(TestModels.TestModels.Classifier(2).Predict(features), probabilities);
    }

    [Theory]
    [InlineData("shape", "features")]
    [InlineData("datatype", "features")]
    [InlineData("input", "pixels")]
    [InlineData("count", "8 elements")]
    public async Task Infer_BadInput_Returns400NamingTheProblem(string fault, string expectedInMessage)
    {
        var features = RunningHost.Features(1);
        var body = fault switch
        {
            "shape" => RunningHost.InferBody(features[..3], shape: [1, 3]),
            "datatype" => RunningHost.InferBody(features, datatype: "FP64"),
            "input" => RunningHost.InferBody(features, input: "pixels"),
            _ => RunningHost.InferBody(features, shape: [2, 4]),
        };

        var response = await _host.InferAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expectedInMessage, await RunningHost.ReadErrorAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"inputs\": 3}")]
    [InlineData("{\"inputs\": [{\"name\": \"features\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [1, 2, \"x\", 4]}]}")]
    [InlineData("{\"inputs\": [{\"name\": \"features\", \"shape\": [1, 4], \"datatype\": \"STRING\", \"data\": [1, 2, 3, 4]}]}")]
    public async Task Infer_MalformedBody_Returns400(string body)
    {
        var response = await _host.InferAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(await RunningHost.ReadErrorAsync(response)));
    }

    [Fact]
    public async Task Infer_UnknownRequestedOutput_Returns400()
    {
        var body = RunningHost.InferBody(RunningHost.Features(1)).TrimEnd('}') + ",\"outputs\":[{\"name\":\"logits\"}]}";

        var response = await _host.InferAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("logits", await RunningHost.ReadErrorAsync(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v2/models/nope")]
    [InlineData("/v2/models/nope/ready")]
    [InlineData("/v2/models/classifier/versions/9")]
    [InlineData("/v2/models/classifier/versions/9/ready")]
    [InlineData("/v2/models/Not%20A%20Name")]
    public async Task Get_UnknownModelOrVersion_Returns404(string path)
    {
        var response = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Unknown", await RunningHost.ReadErrorAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_UnknownModelVersionOrPinnedHeader_Returns404()
    {
        var body = RunningHost.InferBody(RunningHost.Features(1));
        using var unknownModel = await Client.PostAsync("/v2/models/nope/infer", new StringContent(body, Encoding.UTF8, "application/json"));
        using var unknownVersion = await _host.InferAsync(body, version: "7");
        using var unknownPinned = await _host.InferAsync(body, headers: new Dictionary<string, string> { ["x-aiops-version"] = "7" });

        Assert.Equal(HttpStatusCode.NotFound, unknownModel.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownVersion.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownPinned.StatusCode);
    }

    [Fact]
    public async Task Infer_BodyOverLimitWithContentLength_Returns413BeforeTheBodyIsSent()
    {
        // Raw socket: declare a 64 MiB body and send none of it. The host must refuse from the header alone.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _host.Address.Port);
        var head = $"POST /v2/models/classifier/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));

        var buffer = new byte[4096];
        var received = new StringBuilder();
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await socket.ReceiveAsync(buffer);
            if (n == 0)
            {
                break;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        Assert.StartsWith("HTTP/1.1 413", received.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_ChunkedBodyOverLimit_Returns413()
    {
        // No Content-Length: the limit is enforced while reading.
        var huge = RunningHost.InferBody(RunningHost.Features(20_000));
        Assert.True(huge.Length > 256 * 1024);
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/classifier/infer") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterCalls_ExposeInferenceAndModelSeries()
    {
        (await _host.InferAsync(RunningHost.InferBody(RunningHost.Features(2)))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.BadRequest, (await _host.InferAsync(RunningHost.InferBody(RunningHost.Features(1), datatype: "FP64"))).StatusCode);

        var response = await Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        Assert.Contains("aiops_inference_requests_total{", text, StringComparison.Ordinal);
        Assert.Contains("aiops_inference_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Matches("aiops_inference_requests_total\\{[^}]*model=\"classifier\"[^}]*outcome=\"ok\"", text);
        Assert.Matches("aiops_model_requests_total\\{[^}]*outcome=\"bad_input\"", text);
    }

    [Fact]
    public async Task ServerMetadata_Root_NamesServer()
    {
        var body = await Client.GetFromJsonAsync<JsonElement>("/v2");

        Assert.Equal("aiops-inference-host", body.GetProperty("name").GetString());
    }

    [Fact]
    public async Task ServerMetadata_RepositoryApiOn_AdvertisesModelRepository()
    {
        var body = await Client.GetFromJsonAsync<JsonElement>("/v2");

        Assert.Contains("model_repository", body.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task UnversionedMetadataAndInfer_TwoVersions_BothDescribeTheStableVersion()
    {
        // The host serves versions 1 and 2 with 1 stable: the newest (2) must not be what unversioned metadata describes.
        var metadata = await Client.GetFromJsonAsync<JsonElement>("/v2/models/classifier");
        var (answered, _, _) = await RunningHost.ReadAnswerAsync(await _host.InferAsync(RunningHost.InferBody(RunningHost.Features(1))));

        Assert.Equal("1", metadata.GetProperty("parameters").GetProperty("served_version").GetString());
        Assert.Equal("1", answered);
    }

    [Fact]
    public async Task Metrics_AfterInfer_ExportEndToEndRequestDurationWithProtocolTag()
    {
        await RunningHost.ReadAnswerAsync(await _host.InferAsync(RunningHost.InferBody(RunningHost.Features(1))));

        var text = await Client.GetStringAsync("/metrics");

        Assert.Matches("aiops_inference_request_duration_seconds_bucket\\{[^}]*model=\"classifier\"[^}]*outcome=\"ok\"[^}]*protocol=\"rest\"[^}]*le=\"0.0001\"", text);
    }
}
