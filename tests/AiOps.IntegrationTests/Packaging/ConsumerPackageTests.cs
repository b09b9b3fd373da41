using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AiOps.IntegrationTests.Infrastructure;

namespace AiOps.IntegrationTests.Packaging;

/// <summary>Runs alone: it builds with every core, and timing-sensitive tests elsewhere in this assembly should not compete with it.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackagingCollection : ICollectionFixture<PackedFeedFixture>
{
    public const string Name = "Packaging";
}

/// <summary>
/// The packages as a user gets them: packed from the src projects, installed by version into a console application
/// outside the repository, restored from the machine's configured registry, built and run. Proves that the package
/// dependencies and ONNX Runtime's native libraries reach a consumer, and that the documented DI registration works.
/// </summary>
[Collection(PackagingCollection.Name)]
public sealed partial class ConsumerPackageTests(PackedFeedFixture feed)
{
    private static readonly TimeSpan RestoreAndBuildTimeout = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public void Pack_SrcProjects_YieldsExactlyFiveInstallablePackagesWithReadmeAndMetadata()
    {
        var packages = Directory.GetFiles(feed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var expected = ConsumerProject.Packages
            .SelectMany(id => new[] { $"{id}.{feed.Version}.nupkg", $"{id}.{feed.Version}.snupkg" })
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(expected.SequenceEqual(packages), $"Expected exactly {string.Join(", ", expected)} in the feed (five packages and their symbol packages); got {string.Join(", ", packages)}.");
        var warnings = feed.PackOutput.Split('\n').Where(l => WarningLine().IsMatch(l)).ToArray();
        Assert.True(warnings.Length == 0, "dotnet pack reported warnings:\n" + string.Join('\n', warnings));

        foreach (var id in ConsumerProject.Packages)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed.Feed, $"{id}.{feed.Version}.nupkg"));
            var nuspecEntry = zip.GetEntry(id + ".nuspec");
            Assert.True(nuspecEntry is not null, $"{id}: no {id}.nuspec in the package.");
            XNamespace ns;
            XElement metadata;
            using (var s = nuspecEntry.Open())
            {
                var doc = XDocument.Load(s);
                ns = doc.Root!.Name.Namespace;
                metadata = doc.Root.Element(ns + "metadata")!;
            }

            string? Meta(string name) => metadata.Element(ns + name)?.Value;
            Assert.Equal(id, Meta("id"));
            Assert.Equal(feed.Version, Meta("version"));
            Assert.False(string.IsNullOrWhiteSpace(Meta("description")), $"{id}: no description.");
            Assert.Contains("aiops", Meta("tags") ?? string.Empty, StringComparison.Ordinal);
            Assert.Equal("MIT", Meta("license"));
            Assert.Equal("README.md", Meta("readme"));
            Assert.False(string.IsNullOrEmpty(metadata.Element(ns + "repository")?.Attribute("url")?.Value), $"{id}: no repository url.");

            // Its own README, not the repository's: it starts with the package's name and shows how to install it.
            var readmeEntry = zip.GetEntry("README.md");
            Assert.True(readmeEntry is not null, $"{id}: README.md is not packed.");
            using var reader = new StreamReader(readmeEntry.Open());
            var readme = reader.ReadToEnd();
            Assert.StartsWith($"# {id}", readme, StringComparison.Ordinal);
            Assert.Contains($"dotnet add package {id}", readme, StringComparison.Ordinal);

            Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{id}.dll");
            Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{id}.xml");
            Assert.DoesNotContain(zip.Entries, e => e.FullName.EndsWith(".pdb", StringComparison.Ordinal));

            // Deterministic and CI-built: no absolute path of the checkout (nor of the temp build folder) in the DLL;
            // its debug directory names the PDB under SourceLink's /_/ root.
            var dll = ReadEntry(zip, $"lib/net10.0/{id}.dll");
            foreach (var path in new[] { RepoPaths.Root, feed.Root })
            {
                Assert.True(IndexOf(dll, Encoding.UTF8.GetBytes(path)) < 0, $"{id}.dll embeds the build path {path}.");
            }

            var pdbPath = PdbPathIn(dll, id + ".pdb");
            Assert.True(pdbPath.StartsWith("/_", StringComparison.Ordinal), $"{id}.dll names its PDB as {pdbPath}; expected a path mapped to /_ (ContinuousIntegrationBuild off?).");

            // The symbol package: the portable PDB of the same DLL, with the same metadata id.
            using var symbols = ZipFile.OpenRead(Path.Combine(feed.Feed, $"{id}.{feed.Version}.snupkg"));
            var pdb = ReadEntry(symbols, $"lib/net10.0/{id}.pdb");
            Assert.True(pdb.AsSpan(0, 4).SequenceEqual("BSJB"u8), $"{id}.pdb in the .snupkg is not a portable PDB.");
            Assert.True(IndexOf(pdb, Encoding.UTF8.GetBytes(RepoPaths.Root)) < 0, $"{id}.pdb embeds the build path {RepoPaths.Root}.");

            // Dependencies between AiOps packages point at the same pre-release version.
            var aiopsDependencies = metadata.Descendants(ns + "dependency").Where(d => ((string?)d.Attribute("id"))?.StartsWith("AiOps.", StringComparison.Ordinal) == true);
            Assert.All(aiopsDependencies, d => Assert.Equal(feed.Version, (string?)d.Attribute("version")));

            if (id is "AiOps.Inference" or "AiOps.Release")
            {
                // Endpoint groups (OIP, the rollout operator API): the ASP.NET Core shared framework, which also brings
                // Microsoft.Extensions.*, so no package of those is a dependency (NU1510 would flag them as pruned).
                var frameworks = metadata.Descendants(ns + "frameworkReference").Select(f => (string?)f.Attribute("name")).ToArray();
                Assert.Contains("Microsoft.AspNetCore.App", frameworks);
                var extensions = metadata.Descendants(ns + "dependency").Select(d => (string?)d.Attribute("id"))
                    .Where(d => d?.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) == true).ToArray();
                Assert.True(extensions.Length == 0, $"{id} depends on {string.Join(", ", extensions)}; the shared framework provides them.");
            }

            if (id == "AiOps.Inference")
            {
                // The managed API and the CPU native build, on one version (the GPU swap relies on both).
                var onnx = metadata.Descendants(ns + "dependency")
                    .Where(d => ((string?)d.Attribute("id"))?.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal) == true)
                    .ToDictionary(d => (string)d.Attribute("id")!, d => (string?)d.Attribute("version"));
                Assert.Equal(["Microsoft.ML.OnnxRuntime", "Microsoft.ML.OnnxRuntime.Managed"], onnx.Keys.Order(StringComparer.Ordinal));
                Assert.Equal(onnx["Microsoft.ML.OnnxRuntime"], onnx["Microsoft.ML.OnnxRuntime.Managed"]);
            }
        }
    }

    [Fact]
    public async Task ConsumerApp_InstallsPackagesByVersion_RunsOnnxModelThroughDiAndPrintsExpectedProbabilities()
    {
        using var folders = new ConsumerFolders();
        var (app, work, packagesFolder) = (folders.App, folders.Work, folders.Packages);
        Assert.False(IsInside(app, RepoPaths.Root), "The consumer must live outside the repository (no Directory.*.props).");

        var model = TestModels.TestModels.Classifier(1);
        var modelPath = model.WriteTo(Path.Combine(work, "classifier.onnx"));
        float[] features = [0.5f, -1.25f, 3f, 0.25f, -0.75f, 0.125f, 1.5f, -2f];
        var expected = model.Predict(features);

        var env = PackedFeedFixture.ChildEnvironment(packagesFolder);
        var output = await BuildConsumerAsync(app, packagesFolder, env);
        var nativeLibraries = NativeLibraries(output);
        Assert.True(nativeLibraries.Length > 0, $"No ONNX Runtime native library under {output}/runtimes: the native package did not flow through AiOps.Inference.");

        // As under systemd or in a container with another WORKDIR: the process runs in "/", its content root is the app
        // folder, and the model path it is given is relative: it must load from the content root.
        Assert.Equal(work, Path.GetDirectoryName(modelPath));
        var run = await ProcessRunner.RunAsync(
            PackedFeedFixture.Dotnet,
            [Path.Combine(output, ConsumerProject.ProjectName + ".dll"), Path.GetFileName(modelPath), work, string.Join(",", features.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))],
            "/",
            RunTimeout,
            env);
        Assert.True(run.ExitCode == 0, $"The consumer exited with {run.ExitCode}:\n{Tail(run.Output)}");

        string Result(string name) => Value(run.Output, name);

        Assert.Equal("Ready", Result("status"));
        Assert.Equal("CPU", Result("provider"));
        Assert.Equal("1", Result("version"));
        AssertProbabilities(expected, Result("probabilities"), run.Output);

        Assert.Equal("1", Result("monitored_requests"));
        Assert.Equal("call 138****1234", ResultLines(run.Output).Single(l => l.StartsWith("masked=", StringComparison.Ordinal))["masked=".Length..]);
    }

    [Fact]
    public async Task ConsumerApp_GpuSwapFromTheReadme_GetsTheCudaBuildAndFallsBackToCpuWithTheReasonWhereNoGpu()
    {
        // The swap of src/AiOps.Inference/README.md with its versions: the GPU native package in (the Linux one of the
        // meta-package it names), the CPU native package out. The CPU version it pins is the packed dependency's.
        var (gpuVersion, cpuVersion) = ReadmeSwapVersions();
        Assert.Equal(OnnxRuntimeVersion(), cpuVersion);
        using var folders = new ConsumerFolders();
        var (app, work, packagesFolder) = (folders.App, folders.Work, folders.Packages);
        var env = PackedFeedFixture.ChildEnvironment(packagesFolder);
        var output = await BuildConsumerAsync(
            app,
            packagesFolder,
            env,
            $"""<PackageReference Include="Microsoft.ML.OnnxRuntime.Gpu.Linux" Version="{gpuVersion}" />""",
            $"""<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="{cpuVersion}" ExcludeAssets="all" />""");
        Assert.True(File.Exists(Path.Combine(output, "Microsoft.ML.OnnxRuntime.dll")), "The managed ONNX Runtime API did not reach the consumer.");
        var native = NativeLibraries(output);
        Assert.True(native.Contains("libonnxruntime_providers_cuda.so"), "The CUDA provider library did not reach the consumer: " + string.Join(", ", native));

        var model = TestModels.TestModels.Classifier(2);
        var modelPath = model.WriteTo(Path.Combine(work, "classifier.onnx"));
        float[] features = [0.5f, -1.25f, 3f, 0.25f];
        var expected = model.Predict(features);
        string[] Args(params string[] more) =>
            [Path.Combine(output, ConsumerProject.ProjectName + ".dll"), modelPath, work, string.Join(",", features.Select(f => f.ToString("R", CultureInfo.InvariantCulture))), .. more];

        var run = await ProcessRunner.RunAsync(PackedFeedFixture.Dotnet, Args("Cuda,Cpu"), work, RunTimeout, env);
        Assert.True(run.ExitCode == 0, $"The consumer exited with {run.ExitCode}:\n{Tail(run.Output)}");

        // The GPU build is the one loaded (the CPU build lists only CPUExecutionProvider).
        Assert.Contains("CUDAExecutionProvider", Value(run.Output, "available_providers").Split(','));
        AssertProbabilities(expected, Value(run.Output, "probabilities"), run.Output);
        var gpu = GpuIsUsable();
        if (gpu)
        {
            Assert.Equal("Ready", Value(run.Output, "status"));
            Assert.Equal("CUDA", Value(run.Output, "provider"));
        }
        else
        {
            // No NVIDIA device or CUDA libraries here: the provider library fails to load, the runner serves on CPU,
            // says why and reports Degraded (not Healthy).
            Assert.Equal("Degraded", Value(run.Output, "status"));
            Assert.Equal("CPU", Value(run.Output, "provider"));
            Assert.Contains("CUDA", Line(run.Output, "reason"), StringComparison.Ordinal);
        }

        var mandatory = await ProcessRunner.RunAsync(PackedFeedFixture.Dotnet, Args("Cuda,Cpu", "require-gpu"), work, RunTimeout, env);
        if (gpu)
        {
            Assert.True(mandatory.ExitCode == 0, $"With a usable GPU, RequireGpu must start:\n{Tail(mandatory.Output)}");
        }
        else
        {
            Assert.True(mandatory.ExitCode == 3, $"RequireGpu without a usable GPU must fail start-up (exit 3), got {mandatory.ExitCode}:\n{Tail(mandatory.Output)}");
            Assert.Equal("ExecutionProviderUnavailableException", Value(mandatory.Output, "startup_failed"));
            Assert.Contains("RequireGpu", Line(mandatory.Output, "startup_error"), StringComparison.Ordinal);
        }
    }

    private static byte[] ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name);
        Assert.True(entry is not null, $"{name} is not in the package.");
        using var s = entry.Open();
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    /// <summary>The PDB path of the DLL's CodeView debug entry: the NUL-terminated string that ends with <paramref name="pdbName"/>.</summary>
    private static string PdbPathIn(byte[] dll, string pdbName)
    {
        var end = IndexOf(dll, Encoding.UTF8.GetBytes(pdbName + "\0"));
        Assert.True(end >= 0, $"No debug entry naming {pdbName} in the DLL.");
        var start = dll.AsSpan(0, end).LastIndexOf((byte)0) + 1;
        return Encoding.UTF8.GetString(dll, start, end - start + pdbName.Length);
    }

    /// <summary>The file names of the ONNX Runtime native libraries under the build output's <c>runtimes/</c>.</summary>
    private static string[] NativeLibraries(string output) =>
        Directory.Exists(Path.Combine(output, "runtimes"))
            ? [.. Directory.GetFiles(Path.Combine(output, "runtimes"), "*onnxruntime*", SearchOption.AllDirectories).Select(f => Path.GetFileName(f))]
            : [];

    /// <summary>A consumer's temp folders (outside the repository), deleted with the test.</summary>
    internal sealed class ConsumerFolders : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "aiops-consumer-" + Guid.NewGuid().ToString("N")[..12]);

        public ConsumerFolders() => Directory.CreateDirectory(Work);

        /// <summary>The project folder.</summary>
        public string App => Path.Combine(_root, "app");

        /// <summary>The folder the program runs in (model file, state).</summary>
        public string Work => Path.Combine(_root, "work");

        /// <summary>The restore's own global packages folder.</summary>
        public string Packages => Path.Combine(_root, "packages");

        public void Dispose() => PackedFeedFixture.TryDelete(_root);
    }

    /// <summary>Writes the consumer into <paramref name="app"/>, restores and builds it; returns its output folder.</summary>
    private async Task<string> BuildConsumerAsync(string app, string packagesFolder, IReadOnlyDictionary<string, string> env, params string[] extraReferences)
    {
        ConsumerProject.Write(app, feed.Version, feed.Feed, packagesFolder, await MachinePackagesFolderAsync(), extraReferences);
        var build = await ProcessRunner.RunAsync(
            PackedFeedFixture.Dotnet, ["build", "-c", "Release", "--disable-build-servers", "-nologo"], app, RestoreAndBuildTimeout, env);
        Assert.True(build.ExitCode == 0, $"Restoring and building the consumer failed (exit {build.ExitCode}):\n{Tail(build.Output)}");
        return Path.Combine(app, "bin", "Release", "net10.0");
    }

    /// <summary>The versions the GPU swap of src/AiOps.Inference/README.md pins for the GPU and the CPU package.</summary>
    private static (string Gpu, string Cpu) ReadmeSwapVersions()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "AiOps.Inference", "README.md"));
        string VersionOf(string id)
        {
            var reference = $"<PackageReference Include=\"{id}\" Version=\"";
            var at = readme.IndexOf(reference, StringComparison.Ordinal);
            Assert.True(at >= 0, $"src/AiOps.Inference/README.md has no {reference}");
            var start = at + reference.Length;
            return readme[start..readme.IndexOf('"', start)];
        }

        return (VersionOf("Microsoft.ML.OnnxRuntime.Gpu"), VersionOf("Microsoft.ML.OnnxRuntime"));
    }

    /// <summary>Whether an NVIDIA device and driver are present (the CUDA provider can then load).</summary>
    private static bool GpuIsUsable() =>
        File.Exists("/dev/nvidia0") && (File.Exists("/usr/lib/x86_64-linux-gnu/libcuda.so.1") || File.Exists("/usr/lib64/libcuda.so.1"));

    /// <summary>The value printed as <c>AIOPS name=value</c> (values have no spaces).</summary>
    private static string Value(string output, string name) =>
        ResultLines(output).SelectMany(l => l.Split(' '))
            .Where(kv => kv.StartsWith(name + "=", StringComparison.Ordinal))
            .Select(kv => kv[(name.Length + 1)..])
            .FirstOrDefault() ?? throw new Xunit.Sdk.XunitException($"The consumer printed no '{name}=':\n{Tail(output)}");

    /// <summary>The rest of the line printed as <c>AIOPS name free text</c>.</summary>
    private static string Line(string output, string name) =>
        ResultLines(output).Where(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Select(l => l[(name.Length + 1)..]).FirstOrDefault()
        ?? throw new Xunit.Sdk.XunitException($"The consumer printed no '{name}' line:\n{Tail(output)}");

    private static IEnumerable<string> ResultLines(string output) =>
        output.Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .Where(l => l.StartsWith(ConsumerProject.ResultPrefix, StringComparison.Ordinal))
            .Select(l => l[ConsumerProject.ResultPrefix.Length..]);

    private static void AssertProbabilities(float[] expected, string printed, string output)
    {
        var actual = printed.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"Probability {i}: expected {expected[i]:R} (managed computation), the consumer printed {actual[i]:R}.\n{Tail(output)}");
        }
    }

    /// <summary>The Microsoft.ML.OnnxRuntime version the packed AiOps.Inference depends on.</summary>
    private string OnnxRuntimeVersion()
    {
        using var zip = ZipFile.OpenRead(Path.Combine(feed.Feed, $"AiOps.Inference.{feed.Version}.nupkg"));
        using var s = zip.GetEntry("AiOps.Inference.nuspec")!.Open();
        var doc = XDocument.Load(s);
        return doc.Descendants(doc.Root!.Name.Namespace + "dependency")
            .Single(d => (string?)d.Attribute("id") == "Microsoft.ML.OnnxRuntime")
            .Attribute("version")!.Value;
    }

    /// <summary>The machine's global packages folder (what the repository restored into), or null when it cannot be told.</summary>
    internal static async Task<string?> MachinePackagesFolderAsync()
    {
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured)
        {
            return configured;
        }

        var result = await ProcessRunner.RunAsync(PackedFeedFixture.Dotnet, ["nuget", "locals", "global-packages", "--list"], RepoPaths.Root, TimeSpan.FromMinutes(1), PackedFeedFixture.ChildEnvironment());
        const string Prefix = "global-packages:";
        var line = result.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        var folder = line?[Prefix.Length..].Trim();
        return result.ExitCode == 0 && Directory.Exists(folder) ? folder : null;
    }

    private static bool IsInside(string path, string directory)
    {
        var relative = Path.GetRelativePath(directory, path);
        return !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
    }

    [GeneratedRegex(@": warning [A-Z]+[0-9]+")]
    private static partial Regex WarningLine();

    private static string Tail(string s) => s.Length <= 8000 ? s : s[^8000..];
}
