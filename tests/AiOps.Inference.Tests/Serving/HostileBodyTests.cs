using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AiOps.Inference.Tests.Serving;

/// <summary>Every limit and every malformed body answers 4xx with a JSON <c>{"error": …}</c> naming what was expected.</summary>
public sealed class HostileBodyTests(ServingHostFixture fixture) : IClassFixture<ServingHostFixture>
{
    private ServingHost Host => fixture.Host;

    [Theory]
    [InlineData(5_000)]
    [InlineData(40_000)]
    public async Task Infer_ThousandsOfOneElementInputs_400NamingTheModelsInputCount(int inputs)
    {
        var body = new StringBuilder("{\"inputs\":[");
        for (var i = 0; i < inputs; i++)
        {
            body.Append(i == 0 ? string.Empty : ",").Append("{\"name\":\"x").Append(i).Append("\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}");
        }

        body.Append("]}");
        using var response = await Host.PostAsync("/v2/models/clf/infer", body.ToString());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"{inputs} inputs; model 'clf' takes at most 1", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_DuplicateInputNames_400NamingTheName()
    {
        const string body = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]},{\"name\":\"a\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}";

        using var response = await Host.PostAsync("/v2/models/multi/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'a' is given twice", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("1.5")]
    [InlineData("null")]
    public async Task Infer_NonStringDatatype_400NamingTheExpectedDatatypes(string datatype)
    {
        var body = $"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[1,4],\"datatype\":{datatype},\"data\":[1,2,3,4]}}]}}";

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("expected a string, one of FP32", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"FP8\"", "'FP8'; expected one of FP32, FP64")]
    [InlineData("\"fp32\"", "'fp32'; expected one of FP32")]
    public async Task Infer_UnknownDatatype_400(string datatype, string expected)
    {
        var body = $"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[1,4],\"datatype\":{datatype},\"data\":[1,2,3,4]}}]}}";

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[[1,2,3,4],[5,6,7]]", "ragged")]
    [InlineData("[[1,2,3,4],5,6,7,8]", "ragged")]
    [InlineData("[1,2,3,4,[5,6,7,8]]", "ragged")]
    [InlineData("[[[1,2,3,4]],[[5,6,7,8]]]", "ragged")]
    [InlineData("[[1,2],[3,4],[5,6],[7,8]]", "ragged")]
    [InlineData("[1,2,3,4,5,6,7]", "(8 elements) but 7 data values")]
    [InlineData("[1,2,3,4,5,6,7,\"8\"]", "value \"8\" at index 7 is not a valid FP32 value")]
    [InlineData("[1,2,3,4,5,6,7,null]", "value null at index 7")]
    public async Task Infer_DataNotFollowingTheShape_400(string data, string expected)
    {
        var body = $"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":{data}}}]}}";

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_NestedDataExactlyAsTheShape_Accepted()
    {
        const string body = "{\"inputs\":[{\"name\":\"features\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[[1,2,3,4],[5,6,7,8]]}]}";

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Infer_ShapeTheModelDoesNotTake_400FromTheRunnersValidation()
    {
        using var response = await Host.PostAsync("/v2/models/clf/infer", "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,5],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5]}]}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("features", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_HugeDeclaredShapeWithLittleData_413BeforeAnyAllocation()
    {
        using var response = await Host.PostAsync("/v2/models/clf/infer", "{\"inputs\":[{\"name\":\"features\",\"shape\":[4611686018427387904,4],\"datatype\":\"FP32\",\"data\":[]}]}");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit of 16777216 elements", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_DeeplyNestedData_400NamingTheNestingLimit()
    {
        var body = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":" + new string('[', 500) + new string(']', 500) + "}]}";

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("deeper than 8 levels", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_RankOverTheNestingLimit_400()
    {
        using var response = await Host.PostAsync("/v2/models/clf/infer", "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,1,1,1,1,1,1,1,1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("rank 10; at most 8", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[]", "a JSON object")]
    [InlineData("{}", "'inputs' array")]
    [InlineData("{\"inputs\":{}}", "'inputs' array")]
    [InlineData("{\"inputs\":[]}", "at least one tensor")]
    [InlineData("{\"inputs\":[7]}", "must be an object")]
    [InlineData("{\"inputs\":[{\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "no 'name'")]
    [InlineData("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "no 'shape' array")]
    [InlineData("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,-4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "expected non-negative integers")]
    [InlineData("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\"}]}", "no 'data' array")]
    [InlineData("{\"id\":{},\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "'id' to be a string or a number")]
    [InlineData("{\"parameters\":[],\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "'parameters' of the request to be an object")]
    [InlineData("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],\"outputs\":[{\"name\":\"nope\"}]}", "Output 'nope' was requested")]
    [InlineData("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],\"outputs\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "asks for 2 outputs; the model has 1")]
    public async Task Infer_MalformedBody_400JsonNamingTheProblem(string body, string expected)
    {
        using var response = await Host.PostAsync("/v2/models/clf/infer", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_BodyOverTheLimit_413Json()
    {
        await using var host = await ServingHost.StartAsync(o => o.MaxRequestBodyBytes = 2048);
        var body = ServingHost.ClassifierBody(Kit.Features(200));

        using var declared = await host.PostAsync("/v2/models/clf/infer", body);
        using var chunked = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v2/models/clf/infer")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))), // no Content-Length: sent chunked
        });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("at most 2048", await ServingHost.ErrorOf(declared), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Contains("2048", await ServingHost.ErrorOf(chunked), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"req-1\"")]
    [InlineData("42")]
    [InlineData("1.5e3")]
    public async Task Infer_StringOrNumericId_EchoedAsSent(string id)
    {
        var body = ServingHost.ClassifierBody(Kit.Features(1), extra: $",\"id\":{id},\"parameters\":{{\"trace\":\"t-1\",\"n\":3}}");

        using var response = await Host.PostAsync("/v2/models/clf/infer", body);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, answer.GetProperty("id").GetRawText());
        Assert.Equal("t-1", answer.GetProperty("parameters").GetProperty("trace").GetString());
        Assert.Equal(3, answer.GetProperty("parameters").GetProperty("n").GetInt32());
    }

    [Theory]
    [InlineData("GET", "/v2/nope", HttpStatusCode.NotFound, null)]
    [InlineData("GET", "/v2/models/clf/versions/1/nope", HttpStatusCode.NotFound, null)]
    [InlineData("POST", "/v2/repository/index", HttpStatusCode.NotFound, null)]
    [InlineData("GET", "/v2/models/clf/infer", HttpStatusCode.MethodNotAllowed, "POST")]
    [InlineData("PUT", "/v2/models/clf/versions/1/infer", HttpStatusCode.MethodNotAllowed, "POST")]
    [InlineData("DELETE", "/v2", HttpStatusCode.MethodNotAllowed, "GET")]
    [InlineData("POST", "/v2/health/ready", HttpStatusCode.MethodNotAllowed, "GET")]
    public async Task UnknownRouteOrMethod_JsonError(string method, string path, HttpStatusCode expected, string? allow)
    {
        using var response = await Host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(expected, response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(await ServingHost.ErrorOf(response)));
        if (allow is not null)
        {
            Assert.Equal(allow, string.Join(",", response.Content.Headers.Allow));
        }
    }

    [Theory]
    [InlineData("/v2/models/nope", "Unknown model 'nope'; served: bf16, clf, fp16, multi, sklearn, strings, uints, wide")]
    [InlineData("/v2/models/clf/versions/9", "Unknown version '9' of model 'clf'; served: 1, 2")]
    [InlineData("/v2/models/clf/versions/9/ready", "Unknown version '9'")]
    public async Task UnknownModelOrVersion_404Json(string path, string expected)
    {
        using var response = await Host.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerMetadata_RepositoryOff_NotAdvertised()
    {
        var body = await Host.Client.GetFromJsonAsync<JsonElement>("/v2");

        var extensions = body.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.DoesNotContain("model_repository", extensions);
        Assert.Contains("binary_tensor_data", extensions);
    }
}
