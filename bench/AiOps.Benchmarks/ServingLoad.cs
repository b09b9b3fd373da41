using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiOps.Inference;
using AiOps.TestModels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Benchmarks;

/// <summary>
/// Issue 15: REST infer on the tiny classifier under N concurrent connections (default 32), the library endpoint
/// (<c>MapOpenInferenceProtocol()</c> over <c>AddOnnxModel</c>, default options) against the minimal raw-ONNX Runtime
/// ASP.NET endpoint a user would write (System.Text.Json parse of the same OIP body, <c>InferenceSession.Run</c>, JSON
/// answer). Both listen on loopback Kestrel in this process; the load comes from <c>wrk</c> (another process), the two
/// driven alternately (A B A B …) for several rounds; medians of requests/s and p99 per side, and the median of the
/// per-round ratios.
/// </summary>
internal static partial class ServingLoad
{
    private const string Model = "classifier";
    private const string InferPath = "/v2/models/" + Model + "/infer";

    public static async Task<int> RunAsync(double seconds, int rounds, int connections)
    {
        var wrk = FindOnPath("wrk");
        if (wrk is null)
        {
            Console.Error.WriteLine("wrk is not on PATH (Debian: apt-get install -y wrk); the load comparison needs a load generator outside this process.");
            return 2;
        }

        var directory = Directory.CreateTempSubdirectory("aiops-serve-load-").FullName;
        try
        {
            var model = TestModels.TestModels.Classifier(1);
            var path = model.WriteTo(Path.Combine(directory, "classifier.onnx"));
            var features = TestModels.TestModels.Features(1, model.InputSize);
            var body = Body(features, model.InputSize);
            var script = Path.Combine(directory, "post.lua");
            await File.WriteAllTextAsync(script,
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = " + LuaString(body) + "\n");

            await using var library = await StartLibraryAsync(path);
            await using var baseline = await StartBaselineAsync(path);
            var expected = model.Predict(features);
            foreach (var (name, host) in new[] { ("library", library), ("baseline", baseline) })
            {
                var answer = await PostOnceAsync(host.Url, body);
                if (!Close(expected, answer))
                {
                    Console.Error.WriteLine($"The {name} endpoint answered [{string.Join(", ", answer)}]; expected [{string.Join(", ", expected)}].");
                    return 3;
                }
            }

            Console.WriteLine($"load before: {LoadAverage()}");
            // Warm-up: JIT, pools, connections, on both.
            await WrkAsync(wrk, script, library.Url, 3, connections);
            await WrkAsync(wrk, script, baseline.Url, 3, connections);

            var libs = new List<WrkResult>();
            var bases = new List<WrkResult>();
            for (var round = 0; round < rounds; round++)
            {
                var l = await WrkAsync(wrk, script, library.Url, seconds, connections);
                var b = await WrkAsync(wrk, script, baseline.Url, seconds, connections);
                libs.Add(l);
                bases.Add(b);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}: library {l.RequestsPerSecond:F0} req/s p50 {l.P50Ms:F2} ms p99 {l.P99Ms:F2} ms cpu {l.ServerCpuUsPerRequest:F1} us/req alloc {l.AllocatedBytesPerRequest:F0} B/req (non-2xx {l.Non2xx}, socket errors {l.SocketErrors}) | baseline {b.RequestsPerSecond:F0} req/s p50 {b.P50Ms:F2} ms p99 {b.P99Ms:F2} ms cpu {b.ServerCpuUsPerRequest:F1} us/req alloc {b.AllocatedBytesPerRequest:F0} B/req (non-2xx {b.Non2xx}, socket errors {b.SocketErrors})"));
            }

            Console.WriteLine($"load after: {LoadAverage()}");
            var throughputRatio = Median(libs.Zip(bases, (l, b) => l.RequestsPerSecond / b.RequestsPerSecond));
            var p99Ratio = Median(libs.Zip(bases, (l, b) => l.P99Ms / b.P99Ms));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT serve-load {connections} connections, {rounds} rounds x {seconds:F0} s each side (ABAB): " +
                $"library median {Median(libs.Select(r => r.RequestsPerSecond)):F0} req/s, p50 {Median(libs.Select(r => r.P50Ms)):F2} ms, p99 {Median(libs.Select(r => r.P99Ms)):F2} ms; " +
                $"baseline median {Median(bases.Select(r => r.RequestsPerSecond)):F0} req/s, p50 {Median(bases.Select(r => r.P50Ms)):F2} ms, p99 {Median(bases.Select(r => r.P99Ms)):F2} ms; " +
                $"median per-round ratio throughput {throughputRatio:F3}x, p99 {p99Ratio:F3}x; " +
                $"server CPU per request library {Median(libs.Select(r => r.ServerCpuUsPerRequest)):F1} us, baseline {Median(bases.Select(r => r.ServerCpuUsPerRequest)):F1} us (ratio {Median(libs.Zip(bases, (l, b) => l.ServerCpuUsPerRequest / b.ServerCpuUsPerRequest)):F3}x); " +
                $"allocated per request library {Median(libs.Select(r => r.AllocatedBytesPerRequest)):F0} B, baseline {Median(bases.Select(r => r.AllocatedBytesPerRequest)):F0} B; errors library {libs.Sum(r => r.Non2xx + r.SocketErrors)}, baseline {bases.Sum(r => r.Non2xx + r.SocketErrors)}"));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The library: <c>AddAiOpsInference().AddOnnxModel</c> and <c>MapOpenInferenceProtocol()</c>, default options (CPU).</summary>
    private static async Task<Host> StartLibraryAsync(string path)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddAiOpsInference().AddOnnxModel(Model, o =>
        {
            o.Path = path;
            o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
        });
        builder.Services.AddOpenInferenceProtocol();
        var app = builder.Build();
        app.MapOpenInferenceProtocol();
        return await Host.StartAsync(app, () => ValueTask.CompletedTask);
    }

    /// <summary>
    /// The baseline a user writes without the library: one <see cref="InferenceSession"/>, one endpoint that parses the
    /// OIP body with <see cref="JsonDocument"/>, runs, and writes the OIP answer with <see cref="Utf8JsonWriter"/>.
    /// </summary>
    private static async Task<Host> StartBaselineAsync(string path)
    {
        var session = new InferenceSession(path);
        var runOptions = new RunOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost(InferPath, async (HttpContext context) =>
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var input = document.RootElement.GetProperty("inputs")[0];
            var shape = input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var data = input.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
            using var outputs = session.Run(runOptions, [ClassifierModel.InputName], [value], [ClassifierModel.OutputName]);
            var output = outputs[0];
            context.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("model_name", Model);
            if (document.RootElement.TryGetProperty("id", out var id))
            {
                writer.WriteString("id", id.GetString());
            }

            writer.WriteStartArray("outputs");
            writer.WriteStartObject();
            writer.WriteString("name", ClassifierModel.OutputName);
            writer.WriteString("datatype", "FP32");
            writer.WriteStartArray("shape");
            foreach (var d in output.GetTensorTypeAndShape().Shape)
            {
                writer.WriteNumberValue(d);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            foreach (var p in output.GetTensorDataAsSpan<float>())
            {
                writer.WriteNumberValue(p);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            await writer.FlushAsync(context.RequestAborted);
        });
        return await Host.StartAsync(app, () =>
        {
            session.Dispose();
            runOptions.Dispose();
            return ValueTask.CompletedTask;
        });
    }

    private static string Body(float[] features, int inputSize)
    {
        var data = string.Join(",", features.Select(f => f.ToString("R", CultureInfo.InvariantCulture)));
        return $$"""{"id":"load-1","inputs":[{"name":"{{ClassifierModel.InputName}}","shape":[{{features.Length / inputSize}},{{inputSize}}],"datatype":"FP32","data":[{{data}}]}]}""";
    }

    private static async Task<float[]> PostOnceAsync(string url, string body)
    {
        using var client = new HttpClient();
        using var response = await client.PostAsync(url + InferPath, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{url}{InferPath} answered {(int)response.StatusCode}: {text}");
        }

        using var doc = JsonDocument.Parse(text);
        return [.. doc.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetSingle())];
    }

    private static bool Close(float[] expected, float[] actual) =>
        expected.Length == actual.Length && expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-5f);

    /// <summary>
    /// One wrk run: requests/s, latency percentiles, errors, and this process's CPU time and managed bytes allocated
    /// per request (both servers live here; only one is driven at a time).
    /// </summary>
    private sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Non2xx, long SocketErrors, double ServerCpuUsPerRequest, double AllocatedBytesPerRequest);

    private static async Task<WrkResult> WrkAsync(string wrk, string script, string url, double seconds, int connections)
    {
        var start = new ProcessStartInfo(wrk)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-t2", $"-c{connections}", string.Create(CultureInfo.InvariantCulture, $"-d{seconds:F0}s"), "--latency", "--timeout", "10s", "-s", script, url + InferPath })
        {
            start.ArgumentList.Add(a);
        }

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk exited {process.ExitCode}: {await stderr}\n{output}");
        }

        double Latency(string percent)
        {
            var m = Regex.Match(output, @"^\s*" + percent + @"%\s+([0-9.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
            if (!m.Success)
            {
                throw new InvalidOperationException($"No {percent}% latency in the wrk output:\n{output}");
            }

            var v = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return m.Groups[2].Value switch { "us" => v / 1000, "ms" => v, _ => v * 1000 };
        }

        var rps = RequestsPerSecond().Match(output);
        if (!rps.Success)
        {
            throw new InvalidOperationException("No Requests/sec in the wrk output:\n" + output);
        }

        var requests = RequestsTotal().Match(output);
        var non2xx = Non2xx().Match(output);
        var socket = SocketErrors().Match(output);
        var socketErrors = socket.Success ? socket.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)) : 0;
        return new WrkResult(
            double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture),
            Latency("50"),
            Latency("99"),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socketErrors,
            requests.Success ? cpu.TotalMicroseconds / long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN,
            requests.Success ? (double)allocated / long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN);
    }

    [GeneratedRegex(@"(\d+) requests in ")]
    private static partial Regex RequestsTotal();

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LuaString(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string LoadAverage()
    {
        try
        {
            return "loadavg " + File.ReadAllText("/proc/loadavg").Trim() + ", " + Environment.ProcessorCount + " cores";
        }
        catch (IOException)
        {
            return "loadavg unknown";
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    /// <summary>A started web application and its loopback URL.</summary>
    private sealed class Host(WebApplication app, string url, Func<ValueTask> cleanup) : IAsyncDisposable
    {
        public string Url { get; } = url;

        public static async Task<Host> StartAsync(WebApplication app, Func<ValueTask> cleanup)
        {
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Host(app, address.TrimEnd('/'), cleanup);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await cleanup();
        }
    }
}
