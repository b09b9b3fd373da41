using System.Security;

namespace AiOps.IntegrationTests.Packaging;

/// <summary>
/// Writes a throwaway console application that uses the AiOps packages the way an outside user would: PackageReference
/// by id and version (what <c>dotnet add package</c> writes), no project references, no Directory.*.props of this
/// repository (it lives outside the repository), its own nuget.config.
/// </summary>
internal static class ConsumerProject
{
    public const string ProjectName = "AiOpsConsumer";

    /// <summary>The line prefix the program uses for what the test reads (logging may print other lines).</summary>
    public const string ResultPrefix = "AIOPS ";

    /// <summary>The versions of the non-AiOps packages the program references directly (kept equal to Directory.Packages.props).</summary>
    public const string HostingVersion = "10.0.15";

    /// <summary>The packages the program references.</summary>
    public static readonly string[] Packages = ["AiOps.Abstractions", "AiOps.Inference", "AiOps.Monitoring", "AiOps.Data", "AiOps.Release"];

    /// <summary>Writes the project into <paramref name="directory"/>.</summary>
    /// <param name="directory">An empty folder outside the repository.</param>
    /// <param name="version">The version of the AiOps packages in <paramref name="feed"/>.</param>
    /// <param name="feed">The folder holding the freshly packed .nupkg files.</param>
    /// <param name="packagesFolder">The global packages folder this restore extracts into (deleted with the test's temp folder).</param>
    /// <param name="machinePackagesFolder">The machine's global packages folder, used read-only as a fallback so dependencies already restored by the repository are not fetched again.</param>
    /// <param name="extraReferences">More PackageReference elements, verbatim (e.g. the GPU swap of the Inference README).</param>
    public static void Write(string directory, string version, string feed, string packagesFolder, string? machinePackagesFolder, params string[] extraReferences)
    {
        Directory.CreateDirectory(directory);
        var references = string.Join(
            Environment.NewLine,
            Packages.Select(p => $"""    <PackageReference Include="{p}" Version="{version}" />""").Concat(extraReferences.Select(r => "    " + r)));
        File.WriteAllText(Path.Combine(directory, ProjectName + ".csproj"), $$"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
            {{references}}
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="{{HostingVersion}}" />
              </ItemGroup>
            </Project>
            """);

        WriteNuGetConfig(directory, feed, packagesFolder, machinePackagesFolder);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), ProgramSource);
    }

    /// <summary>
    /// Writes the nuget.config of a consumer into <paramref name="directory"/> (it applies to every project below it).
    /// </summary>
    /// <param name="directory">A folder outside the repository.</param>
    /// <param name="feed">The folder holding the freshly packed .nupkg files.</param>
    /// <param name="packagesFolder">The global packages folder this restore extracts into.</param>
    /// <param name="machinePackagesFolder">The machine's global packages folder, used read-only as a fallback.</param>
    public static void WriteNuGetConfig(string directory, string feed, string packagesFolder, string? machinePackagesFolder)
    {
        Directory.CreateDirectory(directory);
        // Inherits the machine's and the user's package sources (the registry the repository restores from); adds the
        // local feed in front. The fallback folder makes a restore of already-cached dependencies work without a feed.
        var fallback = machinePackagesFolder is null
            ? string.Empty
            : $"""
                <fallbackPackageFolders>
                  <add key="machine" value="{Xml(machinePackagesFolder)}" />
                </fallbackPackageFolders>
              """;
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Xml(packagesFolder)}" />
              </config>
            {fallback}
              <packageSources>
                <add key="aiops-under-test" value="{Xml(feed)}" />
              </packageSources>
            </configuration>
            """);
    }

    private static string Xml(string s) => SecurityElement.Escape(s);

    // The consumer's whole program. Arguments: <model.onnx> <work folder> <features: comma-separated, 4 per row>
    // [providers: comma-separated OnnxExecutionProvider names, default Cpu] [require-gpu].
    private const string ProgramSource = """
        using System.Globalization;
        using AiOps;
        using AiOps.Data.Pii;
        using AiOps.Inference;
        using AiOps.Metrics;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using Microsoft.Extensions.Logging;

        var modelPath = args[0];
        var work = args[1];
        var features = args[2].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var rows = features.Length / 4;
        var providers = (args.Length > 3 ? args[3] : "Cpu").Split(',').Select(Enum.Parse<OnnxExecutionProvider>).ToArray();
        var requireGpu = args.Length > 4 && args[4] == "require-gpu";

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = work });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAiOpsInference()
            .AddOnnxModel("classifier", o =>
            {
                o.Path = modelPath;
                foreach (var p in providers)
                {
                    o.ExecutionProviders.Add(p);
                }

                o.RequireGpu = requireGpu;
            });
        builder.Services.AddAiOpsMonitoring(o => o.Models.Add("classifier"));
        builder.Services.AddAiOpsRelease(o => o.StateDirectory = Path.Combine(work, "rollouts"))
            .AddModel("classifier", o => o.StableVersion = "1");
        builder.Services.AddAiOpsData(o =>
        {
            o.DatasetStorePath = Path.Combine(work, "datasets");
            o.AdmittedDirectory = Path.Combine(work, "admitted");
            o.QuarantineDirectory = Path.Combine(work, "quarantine");
            o.MetricsHistoryPath = Path.Combine(work, "metrics");
        });

        using var host = builder.Build();
        Console.WriteLine("AIOPS available_providers=" + string.Join(",", Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders()));
        try
        {
            await host.StartAsync();
        }
        catch (Exception e) when (requireGpu)
        {
            Console.WriteLine("AIOPS startup_failed=" + e.GetType().Name);
            Console.WriteLine("AIOPS startup_error " + e.Message.ReplaceLineEndings(" "));
            return 3;
        }

        var catalog = host.Services.GetRequiredService<IModelRunnerCatalog>();
        if (!catalog.TryGetRunner(new ModelKey("classifier", "1"), out var runner))
        {
            Console.Error.WriteLine("classifier/1 is not in the catalog");
            return 2;
        }

        Console.WriteLine($"AIOPS status={runner.Status.Readiness} provider={runner.Status.ExecutionProvider}");
        Console.WriteLine($"AIOPS reason {runner.Status.Reason?.ReplaceLineEndings(" ")}");
        var since = TimeProvider.System.GetUtcNow().AddMinutes(-1);
        var client = host.Services.GetRequiredKeyedService<IModelClient>("classifier");
        var request = new ModelRequest(ModelTensor.Create("features", features.AsMemory(), rows, 4)) { RoutingKey = "user-42" };
        var response = await client.InferAsync(request);
        var probabilities = response["probabilities"].As<float>().Data.ToArray();
        Console.WriteLine("AIOPS version=" + response.Key.Version);
        Console.WriteLine("AIOPS probabilities=" + string.Join(",", probabilities.Select(p => p.ToString("R", CultureInfo.InvariantCulture))));

        var snapshot = await host.Services.GetRequiredService<IVersionMetricsSource>().GetSnapshotAsync(response.Key, since);
        Console.WriteLine("AIOPS monitored_requests=" + snapshot.Requests);
        Console.WriteLine("AIOPS masked=" + host.Services.GetRequiredService<IPiiMasker>().Mask("call 13812341234").Text);

        await host.StopAsync();
        return 0;
        """;
}
