using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiOps.Inference.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiOps.Inference.Tests.Serving;

/// <summary>
/// A real Kestrel host on a free loopback port serving, over <c>MapOpenInferenceProtocol()</c>: <c>clf</c> (the kit's
/// classifier, versions 1 and 2, default 1), <c>multi</c> (two float inputs and an int64 one) and <c>wide</c> (a
/// classifier over 64 features, for megabyte tensors), <c>uints</c> (identity over UINT16/32/64), <c>fp16</c> (float16
/// identity and add), <c>bf16</c> (bfloat16 identity), <c>strings</c> (string identity) and <c>sklearn</c> (a
/// LinearClassifier + ZipMap export with a <c>seq(map(int64, float))</c> output).
/// </summary>
public sealed class ServingHost : IAsyncDisposable
{
    public const int WideFeatures = 64;

    private ServingHost(WebApplication app, string root, Uri address)
    {
        App = app;
        Root = root;
        Client = new HttpClient { BaseAddress = address };
    }

    public WebApplication App { get; }

    public string Root { get; }

    public HttpClient Client { get; }

    public static async Task<ServingHost> StartAsync(Action<OpenInferenceProtocolOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "aiops-serving-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var v1 = Write(root, "clf-1.onnx", Kit.Classifier(1).ToOnnx());
        var v2 = Write(root, "clf-2.onnx", Kit.Classifier(2).ToOnnx());
        var multi = Write(root, "multi.onnx", Kit.MultiInput());
        var wide = Write(root, "wide.onnx", Kit.Classifier(1, inputSize: WideFeatures).ToOnnx());
        var uints = Write(root, "uints.onnx", Kit.UnsignedIdentity());
        var typed = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["fp16"] = Write(root, "fp16.onnx", Kit.Float16IdentityAdd()),
            ["bf16"] = Write(root, "bf16.onnx", Kit.BFloat16Identity()),
            ["strings"] = Write(root, "strings.onnx", Kit.StringIdentity()),
            ["sklearn"] = Write(root, "sklearn.onnx", Kit.SklearnClassifier()),
        };

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddAiOpsInference()
            .AddOnnxModel("clf", o =>
            {
                Cpu(o);
                o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = v1 });
                o.Versions.Add(new OnnxModelVersionOptions { Version = "2", Path = v2 });
                o.DefaultVersion = "1";
            })
            .AddOnnxModel("multi", o =>
            {
                Cpu(o);
                o.Path = multi;
            })
            .AddOnnxModel("wide", o =>
            {
                Cpu(o);
                o.Path = wide;
            })
            .AddOnnxModel("uints", o =>
            {
                Cpu(o);
                o.Path = uints;
            });
        foreach (var (name, path) in typed)
        {
            builder.Services.AddAiOpsInference().AddOnnxModel(name, o =>
            {
                Cpu(o);
                o.Path = path;
            });
        }

        builder.Services.AddOpenInferenceProtocol(configure);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapOpenInferenceProtocol();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new ServingHost(app, root, new Uri(address));

        static void Cpu(OnnxModelOptions o)
        {
            o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
            o.IntraOpNumThreads = 1;
            o.WarmUpIterations = 1;
            o.MaxRowsPerCall = 1 << 20;
        }
    }

    /// <summary>A JSON inference body for the classifier: <paramref name="features"/> as [rows, 4].</summary>
    public static string ClassifierBody(float[] features, int inputSize = 4, string? extra = null) =>
        $"{{\"inputs\":[{{\"name\":\"features\",\"shape\":[{features.Length / inputSize},{inputSize}],\"datatype\":\"FP32\",\"data\":[{string.Join(",", features.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}]}}]{extra}}}";

    public Task<HttpResponseMessage> PostAsync(string path, string body, IDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(k, v);
        }

        return Client.SendAsync(request);
    }

    /// <summary>Reads the JSON body of an error answer and returns its <c>error</c> message (fails when the body is not that JSON).</summary>
    public static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("error").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner removes it.
        }
    }

    private static string Write(string root, string name, byte[] bytes)
    {
        var path = Path.Combine(root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

/// <summary>One host shared by the tests that do not change it.</summary>
public sealed class ServingHostFixture : IAsyncLifetime
{
    public ServingHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServingHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
