using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AiOps.IntegrationTests.Infrastructure;

namespace AiOps.IntegrationTests.Prometheus;

/// <summary>Skips the test with a clear message when the <c>prometheus</c> server is not on PATH.</summary>
public sealed class PrometheusServerFactAttribute : FactAttribute
{
    public PrometheusServerFactAttribute()
    {
        if (PrometheusServer.Executable is null)
        {
            Skip = "prometheus is not on PATH: install the Debian 'prometheus' package (.ci/run does) to run the real-Prometheus test.";
        }
    }
}

/// <summary>A real <c>prometheus</c> child process on a free loopback port scraping one target every second, killed on dispose.</summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "aiops-prometheus-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;
    private Process? _process;

    private PrometheusServer()
    {
        Port = ProcessRunner.FreeLoopbackPort();
        Directory.CreateDirectory(_directory);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}/") };
    }

    public static string? Executable { get; } = ProcessRunner.FindOnPath("prometheus");

    public int Port { get; }

    /// <summary>What the server logged so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a server scraping <paramref name="target"/> (host:port) at <c>/metrics</c> every second and evaluating <paramref name="rules"/> every second.</summary>
    public static async Task<PrometheusServer> StartAsync(string target, string rules)
    {
        var server = new PrometheusServer();
        try
        {
            await server.StartProcessAsync(target, rules);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>GET <c>/api/v1/{path}</c>; the <c>data</c> element of a success.</summary>
    public async Task<JsonElement> ApiAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri("api/v1/" + path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: HTTP {(int)response.StatusCode} {text}");
        using var doc = JsonDocument.Parse(text);
        Assert.Equal("success", doc.RootElement.GetProperty("status").GetString());
        return doc.RootElement.GetProperty("data").Clone();
    }

    /// <summary>The number of series an instant query returns.</summary>
    public async Task<int> QueryCountAsync(string promql)
    {
        var data = await ApiAsync("query?query=" + Uri.EscapeDataString(promql));
        return data.GetProperty("result").GetArrayLength();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartProcessAsync(string target, string rules)
    {
        var config = Path.Combine(_directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
              - '{rules}'
            scrape_configs:
              - job_name: aiops
                metrics_path: /metrics
                static_configs:
                  - targets: ['{target}']
            """);
        var psi = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(_directory, "data"),
                     "--web.listen-address=127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture), "--log.level=warn",
                 })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("prometheus did not start.");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Ready when /-/ready answers 200; a generous bound for a loaded machine.
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}: {Log}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("-/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("prometheus did not become ready: " + Log);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
