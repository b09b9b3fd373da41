using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiOps.IntegrationTests.Infrastructure;

namespace AiOps.IntegrationTests.Packaging;

/// <summary>
/// The documentation as a user copies it: every <c>```csharp</c> block of README.md and src/*/README.md is compiled
/// against the packed packages, and the Inference README's configuration example starts a host.
/// </summary>
/// <remarks>
/// The convention the READMEs state: a <c>```csharp</c> block is a complete file (<c>Program.cs</c> or any other
/// file) of a project created with <c>dotnet new web</c> (its implicit usings on) that references the AiOps packages;
/// it lists every other using it needs. Code that is not meant to compile on its own is fenced <c>```cs-fragment</c>
/// (none today). Each block becomes one generated project; all of them build in one <c>dotnet build</c> of a generated
/// .slnx, restored from the feed of <see cref="PackedFeedFixture"/>.
/// </remarks>
[Collection(PackagingCollection.Name)]
public sealed partial class ReadmeSnippetTests(PackedFeedFixture feed)
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    private const string ConfigProject = "ConfigExample";

    // Both tests use one build of the generated projects (tests in a collection run one at a time).
    private static readonly SemaphoreSlim s_buildLock = new(1, 1);
    private static (PackedFeedFixture Feed, SnippetBuild Build)? s_build;

    [Fact]
    public async Task ReadmeCsharpBlocks_EachBuiltAsAFileOfAConsumerProject_CompileAgainstThePackedPackages()
    {
        var build = await BuildOnceAsync();
        var blocks = build.Blocks;

        // The extraction itself: every README with C# is seen, and C# is fenced as csharp (other spellings would escape).
        Assert.Contains(blocks, b => b.File == "README.md");
        foreach (var id in ConsumerProject.Packages)
        {
            Assert.True(blocks.Any(b => b.File == $"src/{id}/README.md"), $"No ```csharp block found in src/{id}/README.md.");
        }

        var misfenced = ReadmeFiles().SelectMany(f => File.ReadAllLines(Path.Combine(RepoPaths.Root, f)).Select((l, i) => (File: f, Line: i + 1, Text: l.Trim())))
            .Where(l => l.Text.StartsWith("```", StringComparison.Ordinal) && IsOtherCsharpFence(l.Text[3..].Trim()))
            .Select(l => $"{l.File}:{l.Line}: '{l.Text}' (use ```csharp, or ```cs-fragment for code that does not compile on its own)")
            .ToArray();
        Assert.True(misfenced.Length == 0, "C# blocks with another fence tag:\n" + string.Join('\n', misfenced));

        var failures = new List<string>();
        foreach (var block in blocks)
        {
            if (build.Errors.TryGetValue(block.ProjectName, out var errors))
            {
                failures.Add($"{block.File}, block at line {block.Line} ({block.ProjectName}):\n    " + string.Join("\n    ", errors));
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {blocks.Count} README C# blocks do not compile against the packed packages:\n" + string.Join('\n', failures));
        Assert.True(build.ExitCode == 0, $"The build of the README blocks failed (exit {build.ExitCode}) without a compiler error in a block:\n{Tail(build.Output)}");
    }

    [Fact]
    public async Task InferenceReadmeConfigurationExample_AsAppSettings_StartsAHostThatLoadsTheModel()
    {
        var build = await BuildOnceAsync();
        Assert.False(build.Errors.ContainsKey(ConfigProject), $"The configuration example's host did not build:\n    {string.Join("\n    ", build.Errors.GetValueOrDefault(ConfigProject) ?? [])}");

        // The example names its model files (relative to the content root): the test provides them, nothing else.
        var work = Path.Combine(build.Root, "config-work");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "appsettings.json"), build.ConfigExample);
        var models = JsonNode.Parse(build.ConfigExample)!["AiOps"]!["Models"]!.AsObject();
        var name = Assert.Single(models).Key;
        foreach (var version in models[name]!["Versions"]!.AsArray())
        {
            var path = Path.Combine(work, (string)version!["Path"]!);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            TestModels.TestModels.Classifier(2).WriteTo(path);
        }

        var firstVersion = (string)models[name]!["Versions"]![0]!["Version"]!;
        var output = Path.Combine(build.Root, ConfigProject, "bin", "Release", "net10.0");
        var run = await ProcessRunner.RunAsync(
            PackedFeedFixture.Dotnet,
            [Path.Combine(output, ConfigProject + ".dll"), name, firstVersion],
            work,
            RunTimeout,
            PackedFeedFixture.ChildEnvironment(build.PackagesFolder));
        Assert.True(run.ExitCode == 0, $"A host configured with the README's example did not start (exit {run.ExitCode}):\n{Tail(run.Output)}");

        // Started and serving: Ready on a GPU host; on a CPU-only host the example's "Cuda" preference falls back to CPU,
        // which is Degraded with the reason (never Failed).
        var readiness = Value(run.Output, "status");
        var reason = Value(run.Output, "reason");
        Assert.True(readiness is "Ready" or "Degraded", $"{name}/{firstVersion} is {readiness} after start-up: {reason}\n{Tail(run.Output)}");
        if (readiness == "Degraded")
        {
            Assert.Equal("CPU", Value(run.Output, "provider"));
            Assert.Contains("CUDA", reason, StringComparison.OrdinalIgnoreCase);
        }
    }

    private async Task<SnippetBuild> BuildOnceAsync()
    {
        await s_buildLock.WaitAsync();
        try
        {
            if (s_build is { } done && ReferenceEquals(done.Feed, feed))
            {
                return done.Build;
            }

            var build = await SnippetBuild.RunAsync(feed);
            s_build = (feed, build);
            return build;
        }
        finally
        {
            s_buildLock.Release();
        }
    }

    /// <summary>README.md and the package READMEs, repository-relative with '/'.</summary>
    internal static IEnumerable<string> ReadmeFiles() =>
        new[] { "README.md" }.Concat(
            Directory.GetDirectories(Path.Combine(RepoPaths.Root, "src"))
                .Select(d => Path.Combine(d, "README.md"))
                .Where(File.Exists)
                .Select(f => Path.GetRelativePath(RepoPaths.Root, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal));

    /// <summary>A fenced block of a README.</summary>
    /// <param name="File">The README, repository-relative.</param>
    /// <param name="Line">The 1-based line of the block's first code line.</param>
    /// <param name="Code">The block's text.</param>
    /// <param name="ProjectName">The generated project that compiles it.</param>
    internal sealed record Block(string File, int Line, string Code, string ProjectName);

    /// <summary>The fenced blocks with tag <paramref name="tag"/> of one README, in order.</summary>
    internal static List<(int Line, string Code)> FencedBlocks(string[] lines, string tag)
    {
        var result = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```" + tag)
            {
                continue;
            }

            var start = i + 1;
            var end = start;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }

            Assert.True(end < lines.Length, $"The ```{tag} block at line {i + 1} is not closed.");
            result.Add((start + 1, string.Join('\n', lines[start..end])));
            i = end;
        }

        return result;
    }

    /// <summary>The generated projects and the outcome of their one build.</summary>
    private sealed class SnippetBuild
    {
        public required string Root { get; init; }

        public required string PackagesFolder { get; init; }

        public required IReadOnlyList<Block> Blocks { get; init; }

        public required string ConfigExample { get; init; }

        /// <summary>Compiler and restore errors by project name (deduplicated, in order).</summary>
        public required IReadOnlyDictionary<string, string[]> Errors { get; init; }

        public required int ExitCode { get; init; }

        public required string Output { get; init; }

        public static async Task<SnippetBuild> RunAsync(PackedFeedFixture feed)
        {
            // Under the feed's temp root: outside the repository (no Directory.*.props of ours), deleted with the feed.
            var root = Path.Combine(feed.Root, "readme-snippets");
            var packagesFolder = Path.Combine(feed.Root, "readme-packages");
            Directory.CreateDirectory(root);
            ConsumerProject.WriteNuGetConfig(root, feed.Feed, packagesFolder, await ConsumerPackageTests.MachinePackagesFolderAsync());
            var references = string.Join(
                Environment.NewLine,
                ConsumerProject.Packages.Select(p => $"""    <PackageReference Include="{p}" Version="{feed.Version}" />"""));

            // What `dotnet new web` writes, plus the packages (applies to every project below the root).
            File.WriteAllText(Path.Combine(root, "Directory.Build.props"), $$"""
                <Project>
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <OutputType>Exe</OutputType>
                    <!-- A block that declares types only gets SnippetEntryPoint.Main; top-level statements win over it. -->
                    <NoWarn>$(NoWarn);CS7022</NoWarn>
                    <!-- Only compiler errors are asserted: skip what costs build time and cannot fail a block. -->
                    <EnableNETAnalyzers>false</EnableNETAnalyzers>
                    <StaticWebAssetsEnabled>false</StaticWebAssetsEnabled>
                    <UseRazorSourceGenerator>false</UseRazorSourceGenerator>
                    <UseAppHost>false</UseAppHost>
                    <SatelliteResourceLanguages>en</SatelliteResourceLanguages>
                  </PropertyGroup>
                  <ItemGroup>
                {{references}}
                  </ItemGroup>
                </Project>
                """);

            var blocks = new List<Block>();
            foreach (var readme in ReadmeFiles())
            {
                foreach (var (line, code) in FencedBlocks(File.ReadAllLines(Path.Combine(RepoPaths.Root, readme)), "csharp"))
                {
                    var project = string.Create(CultureInfo.InvariantCulture, $"Snippet{blocks.Count + 1:00}");
                    blocks.Add(new Block(readme, line, code, project));
                    var dir = Path.Combine(root, project);
                    Directory.CreateDirectory(dir);

                    // Compile only: the packages' assets stay in the package folder (nine copies of ONNX Runtime's natives cost time).
                    File.WriteAllText(Path.Combine(dir, project + ".csproj"), """
                        <Project Sdk="Microsoft.NET.Sdk.Web">
                          <PropertyGroup>
                            <CopyLocalLockFileAssemblies>false</CopyLocalLockFileAssemblies>
                          </PropertyGroup>
                        </Project>
                        """);

                    // #line: compiler errors name the README and its line.
                    File.WriteAllText(Path.Combine(dir, "Snippet.cs"), $"#line {line} \"{readme}\"\n{code}\n");
                    File.WriteAllText(Path.Combine(dir, "SnippetEntryPoint.cs"), "internal static class SnippetEntryPoint { private static void Main() { } }\n");
                }
            }

            var configExample = ConfigExampleOf("src/AiOps.Inference/README.md");
            WriteConfigHost(Path.Combine(root, ConfigProject));

            var projects = blocks.Select(b => b.ProjectName).Append(ConfigProject);
            File.WriteAllText(
                Path.Combine(root, "readme-snippets.slnx"),
                "<Solution>\n" + string.Concat(projects.Select(p => $"  <Project Path=\"{p}/{p}.csproj\" />\n")) + "</Solution>\n");

            var result = await ProcessRunner.RunAsync(
                PackedFeedFixture.Dotnet,
                ["build", "readme-snippets.slnx", "-c", "Release", "--disable-build-servers", "-nologo", "-clp:NoSummary"],
                root,
                BuildTimeout,
                PackedFeedFixture.ChildEnvironment(packagesFolder));

            var errors = result.Output.Split('\n')
                .Select(l => ErrorLine().Match(l.TrimEnd('\r')))
                .Where(m => m.Success)
                .GroupBy(m => Path.GetFileNameWithoutExtension(m.Groups["project"].Value), StringComparer.Ordinal)
                .ToDictionary(
                    g => g.Key,
                    g => g.Select(m => m.Groups["error"].Value.Trim().Replace(Path.Combine(root, g.Key) + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal))
                        .Distinct(StringComparer.Ordinal)
                        .ToArray(),
                    StringComparer.Ordinal);

            return new SnippetBuild
            {
                Root = root,
                PackagesFolder = packagesFolder,
                Blocks = blocks,
                ConfigExample = configExample,
                Errors = errors,
                ExitCode = result.ExitCode,
                Output = result.Output,
            };
        }

        /// <summary>The one ```json block of <paramref name="readme"/> that configures <c>AiOps:Models</c>.</summary>
        private static string ConfigExampleOf(string readme)
        {
            var blocks = FencedBlocks(File.ReadAllLines(Path.Combine(RepoPaths.Root, readme)), "json")
                .Where(b => JsonNode.Parse(b.Code)?["AiOps"]?["Models"] is not null)
                .ToArray();
            Assert.True(blocks.Length == 1, $"Expected one ```json configuration example for AiOps:Models in {readme}; found {blocks.Length}.");
            return blocks[0].Code;
        }

        /// <summary>
        /// A host as the README describes it: appsettings.json from its content root (the working directory), one model
        /// bound from configuration by name. Prints the model's state after start-up.
        /// </summary>
        private static void WriteConfigHost(string dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, ConfigProject + ".csproj"), """<Project Sdk="Microsoft.NET.Sdk.Web" />""");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), """
                using AiOps;

                // Arguments: <model name> <version to report>.
                var builder = Host.CreateApplicationBuilder(args[2..]);
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
                builder.Services.AddAiOpsInference().AddOnnxModel(args[0]);
                using var host = builder.Build();
                try
                {
                    await host.StartAsync();
                }
                catch (Exception e)
                {
                    Console.WriteLine("AIOPS startup_failed " + e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
                    return 3;
                }

                var catalog = host.Services.GetRequiredService<IModelRunnerCatalog>();
                if (!catalog.TryGetRunner(new ModelKey(args[0], args[1]), out var runner))
                {
                    Console.WriteLine($"AIOPS startup_failed {args[0]}/{args[1]} is not in the catalog");
                    return 2;
                }

                Console.WriteLine($"AIOPS status={runner.Status.Readiness}");
                Console.WriteLine($"AIOPS provider={runner.Status.ExecutionProvider}");
                Console.WriteLine($"AIOPS reason={runner.Status.Reason?.ReplaceLineEndings(" ")}");
                await host.StopAsync();
                return 0;
                """);
        }
    }

    private static string Value(string output, string name) =>
        output.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith($"{ConsumerProject.ResultPrefix}{name}=", StringComparison.Ordinal))
            .Select(l => l[(ConsumerProject.ResultPrefix.Length + name.Length + 1)..])
            .FirstOrDefault() ?? throw new Xunit.Sdk.XunitException($"The host printed no '{name}=':\n{Tail(output)}");

    private static string Tail(string s) => s.Length <= 8000 ? s : s[^8000..];

    /// <summary>An MSBuild error line: <c>file(line,col): error CODE: text [project]</c>, or one without a location.</summary>
    [GeneratedRegex(@"^\s*(?<error>.*?:\s*error\s+[A-Z]+[0-9]+:.*?)\s*\[(?<project>[^\[\]]+\.csproj)\]\s*$")]
    private static partial Regex ErrorLine();

    /// <summary>Whether a fence tag means C# but is neither of the two this convention uses (csharp, cs-fragment).</summary>
    private static bool IsOtherCsharpFence(string tag) =>
        tag is not ("csharp" or "cs-fragment")
        && (tag.Equals("csharp", StringComparison.OrdinalIgnoreCase) || tag.Equals("cs-fragment", StringComparison.OrdinalIgnoreCase) || OtherCsharpFence().IsMatch(tag));

    [GeneratedRegex(@"^(c#|cs|c-sharp|csharp\S+)$", RegexOptions.IgnoreCase)]
    private static partial Regex OtherCsharpFence();
}
