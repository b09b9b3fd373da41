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

    [NodeGrpcFact]
    public async Task NodeClient_Fp16Bf16AndBytes_RoundTripBitForBitOverGrpc()
    {
        var root = Path.Combine(Path.GetTempPath(), "aiops-grpc-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var models = new Dictionary<string, byte[]>
        {
            ["fp16"] = TestModels.TestModels.Float16IdentityAdd(),
            ["bf16"] = TestModels.TestModels.BFloat16Identity(),
            ["strings"] = TestModels.TestModels.StringIdentity(),
        };
        var (httpPort, grpcPort) = (ProcessRunner.FreeLoopbackPort(), ProcessRunner.FreeLoopbackPort());
        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:http:Url"] = $"http://127.0.0.1:{httpPort}",
            ["Kestrel:Endpoints:grpc:Url"] = $"http://127.0.0.1:{grpcPort}",
            ["Kestrel:Endpoints:grpc:Protocols"] = "Http2",
            ["AiOps:Release:EnableController"] = "false",
        };
        foreach (var (name, bytes) in models)
        {
            var path = Path.Combine(root, $"{name}.onnx");
            File.WriteAllBytes(path, bytes);
            settings[$"AiOps:Models:{name}:Path"] = path;
            settings[$"AiOps:Models:{name}:ExecutionProviders:0"] = "Cpu";
        }

        var app = InferenceHostApp.Build(
            [$"--contentRoot={root}"],
            b =>
            {
                b.Configuration.AddInMemoryCollection(settings);
                b.Logging.ClearProviders();
            });
        await app.StartAsync();
        try
        {
            var proto = Path.Combine(RepoPaths.Root, "src", "AiOps.Inference", "Serving", "Grpc", "grpc_predict_v2.proto");
            var result = await RunNodeScriptAsync("typed.mjs", proto, $"127.0.0.1:{grpcPort}");

            Assert.Equal("FP16", result.GetProperty("fp16Metadata").GetProperty("inputs")[0].GetProperty("datatype").GetString());
            Assert.Equal("BF16", result.GetProperty("bf16Metadata").GetProperty("outputs")[0].GetProperty("datatype").GetString());
            Assert.Equal("BYTES", result.GetProperty("stringsMetadata").GetProperty("inputs")[0].GetProperty("datatype").GetString());

            static ushort[] Bits(params Half[] values) => [.. values.Select(BitConverter.HalfToUInt16Bits)];
            static ushort[] Values(JsonElement output) => [.. output.GetProperty("values").EnumerateArray().Select(v => v.GetUInt16())];
            var fp16 = result.GetProperty("fp16");
            Assert.Equal("FP16", fp16.GetProperty("sum").GetProperty("datatype").GetString());
            Assert.Equal(Bits((Half)1, (Half)(-0.5), Half.MaxValue), Values(fp16.GetProperty("y")));
            Assert.Equal(Bits((Half)1 + (Half)0.25, (Half)(-0.5) + (Half)0.25, Half.MaxValue + (Half)(-1)), Values(fp16.GetProperty("sum")));
            AssertError(result, "fp16Typed", "INVALID_ARGUMENT", "no typed contents field in the protocol; expected its little-endian bytes (2 per element) in raw_input_contents");
            Assert.Equal([(ushort)0x3FC0, (ushort)0xC049, (ushort)0x0001, (ushort)0x8000], Values(result.GetProperty("bf16").GetProperty("y")));

            string[] words = ["héllo", "", "日本語", "🦤"];
            foreach (var call in new[] { "bytesContents", "bytesRaw" })
            {
                var o = result.GetProperty(call).GetProperty("o");
                Assert.Equal("BYTES", o.GetProperty("datatype").GetString());
                Assert.Equal(["2", "2"], o.GetProperty("shape").EnumerateArray().Select(d => d.GetString()));
                Assert.Equal(words, o.GetProperty("values").EnumerateArray().Select(v => v.GetString()));
            }

            AssertError(result, "bytesNotUtf8", "INVALID_ARGUMENT", "BYTES element 1 is not valid UTF-8");
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

    private static async Task<JsonElement> RunNodeScriptAsync(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Node!)
        {
            WorkingDirectory = ClientDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(script);
        foreach (var a in arguments)
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
