using System.Diagnostics;
using System.Text.Json;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Samples.InferenceHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AiOps.IntegrationTests.InferenceHost;

/// <summary>Skips with a clear message when node or the npm-installed gRPC client packages are absent.</summary>
public sealed class NodeGrpcFactAttribute : FactAttribute
{
    public NodeGrpcFactAttribute()
    {
        if (GrpcProtocolTests.Node is null)
        {
            Skip = "node is not on PATH: install Node.js to run the gRPC protocol test against a non-.NET client.";
        }
        else if (!Directory.Exists(Path.Combine(GrpcProtocolTests.ClientDirectory, "node_modules", "@grpc", "grpc-js")))
        {
            Skip = $"The JS gRPC client packages are not installed: run 'npm install --prefix {GrpcProtocolTests.ClientDirectory}' (.ci/run does).";
        }
    }
}

/// <summary>The gRPC GRPCInferenceService of the sample host, driven by @grpc/grpc-js from node with the protocol's .proto.</summary>
public sealed class GrpcProtocolTests
{
    public static string ClientDirectory { get; } = Path.Combine(RepoPaths.Root, "tests", "AiOps.IntegrationTests", "InferenceHost", "GrpcClient");

    public static string? Node { get; } = ProcessRunner.FindOnPath("node");

    [NodeGrpcFact]
    public async Task NodeClient_EveryRpc_AnswersAsTheRestEndpointsDo()
    {
        var root = Path.Combine(Path.GetTempPath(), "aiops-grpc-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var (httpPort, grpcPort) = (ProcessRunner.FreeLoopbackPort(), ProcessRunner.FreeLoopbackPort());
        var app = InferenceHostApp.Build(
            [$"--contentRoot={root}"],
            b =>
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Kestrel:Endpoints:http:Url"] = $"http://127.0.0.1:{httpPort}",
                    ["Kestrel:Endpoints:grpc:Url"] = $"http://127.0.0.1:{grpcPort}",
                    ["Kestrel:Endpoints:grpc:Protocols"] = "Http2",
                    ["AiOps:Models:classifier:ExecutionProviders:0"] = "Cpu",
                    ["AiOps:Release:EnableController"] = "false",
                    ["AiOps:Release:Models:classifier:Resilience:Timeout"] = "00:01:00",
                    ["AiOps:Release:Models:classifier:Resilience:AttemptTimeout"] = "00:00:30",
                });
                b.Logging.ClearProviders();
            });
        await app.StartAsync();
        try
        {
            var features = RunningHost.Features(2, seed: 31);
            var proto = Path.Combine(RepoPaths.Root, "src", "AiOps.Inference", "Serving", "Grpc", "grpc_predict_v2.proto");
            var result = await RunNodeAsync(proto, $"127.0.0.1:{grpcPort}", "classifier", features, rows: 2);

            Assert.True(result.GetProperty("live").GetProperty("live").GetBoolean());
            Assert.True(result.GetProperty("ready").GetProperty("ready").GetBoolean());
            Assert.Equal(InferenceHostApp.ServerName, result.GetProperty("server").GetProperty("name").GetString());
            var metadata = result.GetProperty("metadata");
            Assert.Equal(["1", "2"], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal("FP32", metadata.GetProperty("inputs")[0].GetProperty("datatype").GetString());
            Assert.True(result.GetProperty("modelReady").GetProperty("ready").GetBoolean());

            var typed = result.GetProperty("typed");
            Assert.Equal("1", typed.GetProperty("model_version").GetString()); // unversioned: the stable version
            Assert.Equal("js-1", typed.GetProperty("id").GetString());
            Assert.Equal(["2", "3"], typed.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetString()));
            RunningHost.AssertClose(TestModels.TestModels.Classifier(1).Predict(features), [.. typed.GetProperty("values").EnumerateArray().Select(v => v.GetSingle())]);
            var raw = result.GetProperty("raw");
            Assert.Equal("2", raw.GetProperty("model_version").GetString());
            RunningHost.AssertClose(TestModels.TestModels.Classifier(2).Predict(features), [.. raw.GetProperty("values").EnumerateArray().Select(v => v.GetSingle())]);

            AssertError(result, "tooManyInputs", "INVALID_ARGUMENT", "5000 inputs; model 'classifier' takes at most 1");
            AssertError(result, "badDatatype", "INVALID_ARGUMENT", "'FP8'; expected one of FP32");
            AssertError(result, "unknownModel", "NOT_FOUND", "Unknown model 'nope'");

            var metrics = await new HttpClient().GetStringAsync($"http://127.0.0.1:{httpPort}/metrics");
            Assert.Matches("aiops_inference_request_duration_seconds_count\\{[^}]*model=\"classifier\"[^}]*outcome=\"ok\"[^}]*protocol=\"grpc\"", metrics);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void AssertError(JsonElement result, string call, string code, string message)
    {
        var error = result.GetProperty(call).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Contains(message, error.GetProperty("details").GetString(), StringComparison.Ordinal);
    }

    private static async Task<JsonElement> RunNodeAsync(string proto, string address, string model, float[] features, int rows)
    {
        var start = new ProcessStartInfo(Node!)
        {
            WorkingDirectory = ClientDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "client.mjs", proto, address, model, string.Join(",", features.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture))), rows.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"node exited with {process.ExitCode}: {await stderr}");
        return JsonDocument.Parse(await stdout).RootElement;
    }
}
