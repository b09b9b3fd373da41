using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AiOps.IntegrationTests.Infrastructure;

namespace AiOps.IntegrationTests.Redis;

/// <summary>Skips the test with a clear message when <c>redis-server</c> is not on PATH.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Executable is null)
        {
            Skip = "redis-server is not on PATH: install it (apt-get install redis-server; the CI script does) to run the Redis integration tests.";
        }
    }
}

/// <summary>A real redis-server child process on a free loopback port, killed on dispose (and on test-host exit).</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "aiops-redis-" + Guid.NewGuid().ToString("N"));
    private readonly bool _persistent;
    private Process? _process;

    private RedisServer(bool persistent)
    {
        _persistent = persistent;
        Port = ProcessRunner.FreeLoopbackPort();
        Directory.CreateDirectory(_directory);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public static string? Executable { get; } = ProcessRunner.FindOnPath("redis-server");

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000";

    /// <summary>Starts a server; <paramref name="persistent"/> keeps an append-only file so a restart on the same folder keeps the data.</summary>
    public static async Task<RedisServer> StartAsync(bool persistent = false)
    {
        var server = new RedisServer(persistent);
        try
        {
            await server.StartProcessAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", _persistent ? "yes" : "no", "--appendfsync", "always", "--dir", _directory, "--daemonize", "no",
                 })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} on port {Port}.");
            }

            if (await PingAsync())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"redis-server on port {Port} did not answer PING within 20 s.");
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Kill();
        await Task.Yield();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Kill();

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            return Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}
