using System.Globalization;
using System.Text;
using AiOps.IntegrationTests.Infrastructure;

namespace AiOps.IntegrationTests.Packaging;

/// <summary>
/// Packs the five src projects once, with a unique pre-release version, into a temporary feed. The build goes to a
/// temporary artifacts folder, so the repository's bin/obj folders and the machine's package cache are left as they are.
/// </summary>
public sealed class PackedFeedFixture : IAsyncLifetime
{
    /// <summary>Generous process limits: they stop a hung tool, they are not a speed assertion.</summary>
    public static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(8);

    public static readonly string[] SrcProjects =
    [
        "src/AiOps.Abstractions/AiOps.Abstractions.csproj",
        "src/AiOps.Inference/AiOps.Inference.csproj",
        "src/AiOps.Monitoring/AiOps.Monitoring.csproj",
        "src/AiOps.Data/AiOps.Data.csproj",
        "src/AiOps.Release/AiOps.Release.csproj",
    ];

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "aiops-pack-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>A version no earlier run used, so no cache anywhere holds a package of that id and version.</summary>
    public string Version { get; } = string.Create(CultureInfo.InvariantCulture, $"0.1.0-ci.{DateTime.UtcNow.Ticks}.{Environment.ProcessId}");

    public string Feed => Path.Combine(Root, "feed");

    /// <summary>The dotnet executable the test host runs on (set by dotnet test), else the one on PATH.</summary>
    public static string Dotnet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p && File.Exists(p) ? p : "dotnet";

    /// <summary>Child dotnet processes: no build servers or MSBuild nodes outliving the command (they would hold the redirected output open).</summary>
    public static IReadOnlyDictionary<string, string> ChildEnvironment(string? packagesFolder = null)
    {
        var env = new Dictionary<string, string>
        {
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        if (packagesFolder is not null)
        {
            env["NUGET_PACKAGES"] = packagesFolder;
        }

        return env;
    }

    public TimeSpan PackDuration { get; private set; }

    public string PackOutput { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);

        // A solution filter over the repository's solution: one dotnet invocation packs exactly the five src projects.
        var filter = Path.Combine(Root, "aiops-src.slnf");
        var projects = string.Join(", ", SrcProjects.Select(p => "\"" + p + "\""));
        var sln = Path.Combine(RepoPaths.Root, "AiOps.sln").Replace("\\", "\\\\", StringComparison.Ordinal);
        await File.WriteAllTextAsync(filter, $$"""{ "solution": { "path": "{{sln}}", "projects": [ {{projects}} ] } }""", Encoding.UTF8);

        var suffix = Version["0.1.0-".Length..];
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync(
            Dotnet,
            ["pack", filter, "-c", "Release", "-o", Feed, "--version-suffix", suffix, "--artifacts-path", Path.Combine(Root, "artifacts"), "--disable-build-servers", "-nologo"],
            RepoPaths.Root,
            PackTimeout,
            ChildEnvironment());
        PackDuration = started.Elapsed;
        PackOutput = result.Output;
        result.EnsureSuccess($"dotnet pack of the src projects (version {Version})");
    }

    public Task DisposeAsync()
    {
        TryDelete(Root);
        return Task.CompletedTask;
    }

    public static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a file still held open must not turn a passing test into a failure.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
