using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiOps.Samples.InferenceHost;
using AiOps.Inference.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiOps.IntegrationTests.InferenceHost;

/// <summary>
/// The inference host started on a free loopback port (Kestrel, real HTTP) with its files in a temporary folder, plus an
/// <see cref="HttpClient"/> that speaks to it.
/// </summary>
public sealed class RunningHost : IAsyncDisposable
{
    public const string Model = "classifier";

    private RunningHost(WebApplication app, string root, Uri address)
    {
        App = app;
        Root = root;
        Address = address;
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = address };
    }

    public WebApplication App { get; }

    /// <summary>The content root; the host's data folder is <c>aiops-host</c> under it.</summary>
    public string Root { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public ModelRepository Repository => App.Services.GetRequiredService<ModelRepository>();

    public string ModelFile(int version) => Path.Combine(Root, "aiops-host", "models", $"{Model}-{version}.onnx");

    /// <summary>Starts a host; <paramref name="settings"/> override configuration keys (e.g. <c>AiOps:Models:classifier:MaxQueueLength</c>).</summary>
    public static async Task<RunningHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "aiops-host-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var config = new Dictionary<string, string?>
        {
            ["InferenceHost:EnableRepositoryApi"] = "true",
            ["InferenceHost:MaxRequestBodyBytes"] = (256 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AiOps:Models:classifier:ExecutionProviders:0"] = "Cpu",

            // Generous resilience timeouts: the machine is shared, and no test here is about timeouts.
            ["AiOps:Release:Models:classifier:Resilience:Timeout"] = "00:01:00",
            ["AiOps:Release:Models:classifier:Resilience:AttemptTimeout"] = "00:00:30",
            ["AiOps:Release:EnableController"] = "false",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }

        var app = InferenceHostApp.Build(
            ["--urls=http://127.0.0.1:0", $"--contentRoot={root}"],
            b =>
            {
                b.Configuration.AddInMemoryCollection(config);
                b.Logging.ClearProviders();
            });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RunningHost(app, root, new Uri(address));
    }

    /// <summary>An OIP inference body for <paramref name="features"/> ([rows, 4] row-major).</summary>
    public static string InferBody(float[] features, string? id = null, bool nested = false, string datatype = "FP32", string input = "features", long[]? shape = null)
    {
        var rows = features.Length / 4;
        var o = new JsonObject();
        if (id is not null)
        {
            o["id"] = id;
        }

        JsonArray data;
        if (nested)
        {
            data = [];
            for (var r = 0; r < rows; r++)
            {
                data.Add(new JsonArray([.. features.Skip(r * 4).Take(4).Select(f => JsonValue.Create(f))]));
            }
        }
        else
        {
            data = new JsonArray([.. features.Select(f => JsonValue.Create(f))]);
        }

        o["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = input,
            ["shape"] = new JsonArray([.. (shape ?? [rows, 4]).Select(d => JsonValue.Create(d))]),
            ["datatype"] = datatype,
            ["data"] = data,
        });
        return o.ToJsonString();
    }

    public async Task<HttpResponseMessage> InferAsync(string body, string? version = null, IDictionary<string, string>? headers = null)
    {
        var path = version is null ? $"/v2/models/{Model}/infer" : $"/v2/models/{Model}/versions/{version}/infer";
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(k, v);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>The <c>probabilities</c> output of a successful answer, with the version that answered.</summary>
    public static async Task<(string Version, float[] Probabilities, JsonElement Body)> ReadAnswerAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        var output = body.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probabilities");
        var values = output.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        return (body.GetProperty("model_version").GetString()!, values, body);
    }

    public static async Task<string> ReadErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("error").GetString()!;
    }

    public static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"value {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    public static bool Close(float[] expected, float[] actual) =>
        expected.Length == actual.Length && expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-5f);

    /// <summary>Waits for <paramref name="condition"/>; the cap only keeps a broken build from hanging the run (it is not a speed assertion).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var cap = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (cap.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>Deterministic features, [rows, 4].</summary>
    public static float[] Features(int rows, int seed = 1)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows * 4).Select(_ => (float)((random.NextDouble() * 4) - 2))];
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
        }
    }
}

/// <summary>One host shared by the tests that do not change it.</summary>
public sealed class SharedHostFixture : IAsyncLifetime
{
    public RunningHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await RunningHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
