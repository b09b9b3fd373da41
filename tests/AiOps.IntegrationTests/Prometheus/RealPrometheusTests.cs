using System.Text;
using System.Text.Json;
using AiOps.IntegrationTests.InferenceHost;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Quality;
using AiOps.Samples.InferenceHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiOps.IntegrationTests.Prometheus;

/// <summary>
/// A real Prometheus server scrapes a real inference host (Kestrel, OIP REST, a batched ONNX model, drift, quality and a
/// stand-in GPU source) every second and loads the generated rules: every rule must evaluate healthy and every query of
/// every dashboard panel must return data while traffic flows.
/// </summary>
public sealed class RealPrometheusTests
{
    private const string Model = RunningHost.Model;

    [PrometheusServerFact]
    public async Task GeneratedRulesAndDashboard_RealPrometheusScrapingARealHost_EveryRuleHealthyAndEveryPanelHasData()
    {
        var root = Path.Combine(Path.GetTempPath(), "aiops-prometheus-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using var app = BuildHost(root);
        await app.StartAsync();
        try
        {
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            var generator = app.Services.GetRequiredService<PrometheusRulesGenerator>();
            Assert.Contains(Model, generator.Models);
            var (rulesPath, dashboardPath) = await generator.WriteAsync(Path.Combine(root, "ops"));
            var queries = PanelQueries(await File.ReadAllTextAsync(dashboardPath));

            await using var prometheus = await PrometheusServer.StartAsync(address.Authority, rulesPath);
            using var stop = new CancellationTokenSource();
            var traffic = DriveTrafficAsync(app, address, stop.Token);
            var unhealthy = new List<string>();
            var missing = new HashSet<string>(queries.Select(q => q.Label));
            try
            {
                // Poll (bounded generously for a loaded machine) until every rule evaluated healthy and every panel query has data.
                for (var attempt = 0; attempt < 360 && (missing.Count > 0 || unhealthy.Count > 0 || attempt == 0); attempt++)
                {
                    await Task.Delay(500);
                    Assert.False(traffic.IsCompleted && traffic.IsFaulted, traffic.Exception?.ToString());
                    unhealthy = await UnhealthyRulesAsync(prometheus);
                    foreach (var (label, expr) in queries.Where(q => missing.Contains(q.Label)).ToList())
                    {
                        if (await prometheus.QueryCountAsync(expr) > 0)
                        {
                            missing.Remove(label);
                        }
                    }
                }
            }
            finally
            {
                await stop.CancelAsync();
                await traffic;
            }

            var rules = await prometheus.ApiAsync("rules");
            var ruleCount = rules.GetProperty("groups").EnumerateArray().Sum(g => g.GetProperty("rules").GetArrayLength());
            Assert.Equal(generator.RecordingRules().Count() + generator.AlertingRules().Count(), ruleCount);
            Assert.True(unhealthy.Count == 0, "rules not healthy: " + string.Join("; ", unhealthy) + "\n" + prometheus.Log);
            Assert.True(missing.Count == 0, "panel queries without data: " + string.Join("; ", missing) + "\n" + prometheus.Log);
        }
        finally
        {
            await app.StopAsync();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static WebApplication BuildHost(string root)
    {
        var config = new Dictionary<string, string?>
        {
            ["AiOps:Models:classifier:ExecutionProviders:0"] = "Cpu",
            ["AiOps:Release:Models:classifier:Resilience:Timeout"] = "00:01:00",
            ["AiOps:Release:Models:classifier:Resilience:AttemptTimeout"] = "00:00:30",
            ["AiOps:Release:EnableController"] = "false",
            ["AiOps:Monitoring:Alerts:AccuracyBaselines:classifier"] = "0.9",
            ["AiOps:Monitoring:Gpu:PollInterval"] = "00:00:01",
        };
        var profile = ReferenceProfileBuilder.FromMatrix(TestModels.TestModels.Features(2000, seed: 7), 4, null, "features");
        return InferenceHostApp.Build(
            ["--urls=http://127.0.0.1:0", $"--contentRoot={root}"],
            b =>
            {
                b.Configuration.AddInMemoryCollection(config);
                b.Logging.ClearProviders();
                b.Services.AddSingleton<IGpuTelemetrySource>(new StandInGpu());
                b.Services.AddAiOpsDrift(o =>
                {
                    o.ModelProfiles[new ModelId(Model)] = profile;
                    o.MinimumSampleCount = 20;
                });
                b.Services.AddAiOpsModelQuality();
            });
    }

    /// <summary>Inference calls over HTTP; every 40 calls the drift windows close and a quality window of labelled predictions closes.</summary>
    private static async Task DriveTrafficAsync(WebApplication app, Uri address, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = address };
        var drift = app.Services.GetRequiredService<IDriftMonitor>();
        var quality = app.Services.GetRequiredService<IModelQualityTracker>();
        var key = new ModelKey(Model, "1");
        var features = TestModels.TestModels.Features(400, seed: 11);
        var n = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var row = n % 400;
            var rows = 1 + (n % 3);
            var slice = new float[rows * 4];
            for (var i = 0; i < slice.Length; i++)
            {
                slice[i] = features[((row * 4) + i) % features.Length];
            }

            try
            {
                using var content = new StringContent(RunningHost.InferBody(slice), Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(new Uri($"/v2/models/{Model}/infer", UriKind.Relative), content, cancellationToken);
                Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
                var id = "p" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                quality.RecordPrediction(key, id, predictedClass: n % 3);
                quality.RecordLabel(id, label: n % 10 == 0 ? (n + 1) % 3 : n % 3);
                if (++n % 40 == 0)
                {
                    await drift.CloseWindowsAsync(cancellationToken);
                    await quality.CloseWindowsAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task<List<string>> UnhealthyRulesAsync(PrometheusServer prometheus)
    {
        var unhealthy = new List<string>();
        var data = await prometheus.ApiAsync("rules");
        foreach (var group in data.GetProperty("groups").EnumerateArray())
        {
            foreach (var rule in group.GetProperty("rules").EnumerateArray())
            {
                var health = rule.GetProperty("health").GetString();
                if (health != "ok")
                {
                    var error = rule.TryGetProperty("lastError", out var e) ? e.GetString() : null;
                    unhealthy.Add($"{rule.GetProperty("name").GetString()}: {health} {error}");
                }
            }
        }

        return unhealthy;
    }

    /// <summary>Every target of every panel, with the dashboard's variables set to "all".</summary>
    private static List<(string Label, string Expr)> PanelQueries(string dashboard)
    {
        using var doc = JsonDocument.Parse(dashboard);
        var result = new List<(string, string)>();
        foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expr = target.GetProperty("expr").GetString()!
                    .Replace("$model", ".*", StringComparison.Ordinal)
                    .Replace("$version", ".*", StringComparison.Ordinal);
                result.Add(($"{panel.GetProperty("title").GetString()} [{target.GetProperty("refId").GetString()}] {expr}", expr));
            }
        }

        return result;
    }

    /// <summary>A GPU at 50 % busy and 40 % memory: this machine has none, and the GPU panels and rules need series.</summary>
    private sealed class StandInGpu : IGpuTelemetrySource
    {
        public ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new GpuSourceResult("stand-in", [new GpuDeviceReading(0, "Stand-in GPU", 0.5, 32_000_000_000, 80_000_000_000, 50, 200)], null));
    }
}
