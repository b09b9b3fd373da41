using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiOps.Inference.Serving;
using AiOps.Inference.Serving.Grpc;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Inference.Tests.Serving;

/// <summary>
/// A stateful model over the Open Inference Protocol: Triton's sequence parameters (<c>sequence_id</c>,
/// <c>sequence_start</c>, <c>sequence_end</c>) drive the runner's sequences; metadata hides the carried states.
/// </summary>
public sealed class SequenceParameterTests : IAsyncLifetime
{
    private readonly string _model = Path.Combine(Path.GetTempPath(), $"aiops-rnn-{Guid.NewGuid():N}.onnx");
    private ServingHost _host = null!;

    public async Task InitializeAsync()
    {
        File.WriteAllBytes(_model, Kit.RecurrentCell());
        _host = await ServingHost.StartAsync(services: s => s.AddAiOpsInference().AddOnnxModel("rnn", o =>
        {
            o.Path = _model;
            o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
            o.IntraOpNumThreads = 1;
            o.Sequences.States["h_in"] = "h_out";
            o.Sequences.States["c_in"] = "c_out";
        }));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        File.Delete(_model);
    }

    private static float[] X(int step, ulong seed) => Kit.Features(1, inputSize: 3, seed: seed * 1000 + (ulong)step);

    private static string Body(float[] x, string parameters) =>
        $"{{\"inputs\":[{{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[{string.Join(",", x.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}],\"parameters\":{{{parameters}}}}}";

    private async Task<float[]> StepAsync(float[] x, string parameters)
    {
        using var response = await _host.PostAsync("/v2/models/rnn/infer", Body(x, parameters));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var outputs = JsonDocument.Parse(text).RootElement.GetProperty("outputs");
        Assert.Equal(["y"], outputs.EnumerateArray().Select(o => o.GetProperty("name").GetString())); // states stay inside
        return [.. outputs[0].GetProperty("data").EnumerateArray().Select(v => v.GetSingle())];
    }

    [Fact]
    public async Task Metadata_ListsOnlyWhatTheClientSendsAndGets_NotTheCarriedStates()
    {
        var metadata = await _host.Client.GetFromJsonAsync<JsonElement>("/v2/models/rnn");

        Assert.Equal(["x"], metadata.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(["y"], metadata.GetProperty("outputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task TwoInterleavedSequences_NumericAndStringIds_EachEqualsRawOnnxRuntimeCarryingItsOwnState()
    {
        using var first = new SequenceTests.HandCarried(_model);
        using var second = new SequenceTests.HandCarried(_model);
        for (var step = 0; step < 6; step++)
        {
            var flags = (step == 0 ? ",\"sequence_start\":true" : string.Empty) + (step == 5 ? ",\"sequence_end\":true" : string.Empty);
            var a = X(step, seed: 1);
            var b = X(step, seed: 2);

            Assert.Equal(first.Step(a), await StepAsync(a, "\"sequence_id\":42" + flags));
            Assert.Equal(second.Step(b), await StepAsync(b, "\"sequence_id\":\"call-7\"" + flags));
        }

        // Both ended: a continuation is refused (the state is gone, never silently restarted from zeros).
        using var after = await _host.PostAsync("/v2/models/rnn/infer", Body(X(6, 1), "\"sequence_id\":42"));
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
        Assert.Contains("SequenceStart", await ServingHost.ErrorOf(after), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"binary_data_output\":false", "SequenceId")]                       // a stateful model needs a sequence
    [InlineData("\"sequence_id\":0,\"sequence_start\":true", "sequence_id")]          // 0 is "no sequence" (Triton)
    [InlineData("\"sequence_start\":true", "sequence_id")]
    [InlineData("\"sequence_id\":true", "unsigned integer or a string")]
    [InlineData("\"sequence_id\":-3", "unsigned integer or a string")]
    [InlineData("\"sequence_id\":1.5", "unsigned integer or a string")]
    [InlineData("\"sequence_id\":\"a\",\"sequence_start\":\"yes\"", "'sequence_start' to be true or false")]
    public async Task BadSequenceParameters_400JsonNamingWhatWasExpected(string parameters, string expected)
    {
        using var response = await _host.PostAsync("/v2/models/rnn/infer", Body(X(0, 3), parameters));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SequenceIdTooLongOrWithControlCharacters_400()
    {
        foreach (var id in new[] { new string('s', OipSequence.MaxIdLength + 1), "a\\u0001b" })
        {
            using var response = await _host.PostAsync("/v2/models/rnn/infer", Body(X(0, 3), $"\"sequence_id\":\"{id}\",\"sequence_start\":true"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("at most 256 characters without control characters", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StatelessModel_GivenASequenceId_400()
    {
        using var response = await _host.PostAsync("/v2/models/clf/infer", ServingHost.ClassifierBody([1, 2, 3, 4], extra: ",\"parameters\":{\"sequence_id\":5,\"sequence_start\":true}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("SequenceId", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    [Fact]
    public void Grpc_SequenceParameters_ReadAsTritonClientsSendThem()
    {
        static Google.Protobuf.Collections.MapField<string, InferParameter> Map(params (string Name, InferParameter Value)[] entries)
        {
            var map = new Google.Protobuf.Collections.MapField<string, InferParameter>();
            foreach (var (name, value) in entries)
            {
                map[name] = value;
            }

            return map;
        }

        Assert.Equal(new OipSequence("9", true, false), OipGrpcService.ReadSequence(Map(("sequence_id", new InferParameter { Uint64Param = 9 }), ("sequence_start", new InferParameter { BoolParam = true }))));
        Assert.Equal(new OipSequence("12", false, true), OipGrpcService.ReadSequence(Map(("sequence_id", new InferParameter { Int64Param = 12 }), ("sequence_end", new InferParameter { BoolParam = true }))));
        Assert.Equal(new OipSequence("user-1", false, false), OipGrpcService.ReadSequence(Map(("sequence_id", new InferParameter { StringParam = "user-1" }))));
        Assert.Equal(default, OipGrpcService.ReadSequence(Map()));

        Assert.Contains("unsigned integer", Assert.Throws<OipRequestException>(() => OipGrpcService.ReadSequence(Map(("sequence_id", new InferParameter { Int64Param = -1 })))).Message, StringComparison.Ordinal);
        Assert.Contains("bool_param", Assert.Throws<OipRequestException>(() => OipGrpcService.ReadSequence(Map(("sequence_id", new InferParameter { Uint64Param = 1 }), ("sequence_start", new InferParameter { StringParam = "true" })))).Message, StringComparison.Ordinal);
        Assert.Contains("names no sequence", Assert.Throws<OipRequestException>(() => OipGrpcService.ReadSequence(Map(("sequence_end", new InferParameter { BoolParam = true })))).Message, StringComparison.Ordinal);
    }
}
