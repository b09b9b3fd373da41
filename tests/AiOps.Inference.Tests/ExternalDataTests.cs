using System.Security.Cryptography;
using System.Text;

namespace AiOps.Inference.Tests;

/// <summary>Big-model layout: initializers in external data files next to the model.</summary>
public sealed class ExternalDataTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public ExternalDataTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string NewFolder()
    {
        var folder = _files.NewPath($"external-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static float[] Y(OnnxModelRunner runner, ModelResponse response) => response["y"].As<float>().Span.ToArray();

    private static ModelRequest X(params float[] x) => new(ModelTensor.Create("x", x.AsMemory(), x.Length / 4, 4));

    [Fact]
    public async Task LoadAsync_ExternalWeights_ResolvedInTheModelsFolderNotTheProcesss()
    {
        var folder = NewFolder(); // not the working directory, which holds no weights.bin
        var path = Kit.ExternalWeights().WriteTo(Path.Combine(folder, "model.onnx"));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "weights.bin")));

        await using var runner = await _files.CreateAsync(path);

        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.Equal(new float[] { 50, 60 }, Y(runner, await runner.RunAsync(X(1, 2, 3, 4))));
    }

    [Fact]
    public async Task LoadAsync_PinnedManifest_CoversTheWeightsZeroedWeightsFailThePin()
    {
        var folder = NewFolder();
        var builder = Kit.ExternalWeights();
        var path = builder.WriteTo(Path.Combine(folder, "model.onnx"));
        var weights = Path.Combine(folder, "weights.bin");

        // The documented pin: (sha256sum model.onnx; sha256sum weights.bin) | sha256sum
        var manifest = $"{Sha(File.ReadAllBytes(path))}  model.onnx\n{Sha(File.ReadAllBytes(weights))}  weights.bin\n";
        var pin = Sha(Encoding.UTF8.GetBytes(manifest));
        await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o => o.ExpectedSha256 = pin));
        Assert.Equal(pin, runner.Sha256);

        File.WriteAllBytes(weights, new byte[File.ReadAllBytes(weights).Length]); // same size, all zeros

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => runner.ReloadAsync());
        Assert.Contains("external data", error.Message, StringComparison.Ordinal);
        Assert.Contains(pin, error.Message, StringComparison.Ordinal);
        Assert.Equal(pin, runner.Sha256); // the loaded weights keep serving
        Assert.Equal(new float[] { 50, 60 }, Y(runner, await runner.RunAsync(X(1, 2, 3, 4))));
        await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(path, ModelFiles.CpuOptions(o => o.ExpectedSha256 = pin)));
    }

    [Theory]
    [InlineData("../weights.bin")]
    [InlineData("/etc/weights.bin")]
    public async Task LoadAsync_ExternalLocationOutsideTheModelsFolder_Refused(string location)
    {
        var folder = NewFolder();
        var path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, Kit.ExternalWeights(location).Build());

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(path));

        Assert.Contains($"'{location}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("inside the model's folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchFile_ExternalWeightsReplaced_ReloadsTheModel()
    {
        var folder = NewFolder();
        var path = Kit.ExternalWeights().WriteTo(Path.Combine(folder, "model.onnx"));
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o => o.WatchFile = true), time);
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reloaded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        runner.WatchedFileChanged += () => changed.TrySetResult();
        runner.ReloadCompleted += e => reloaded.TrySetResult(e);
        var before = runner.Sha256;

        var doubled = new float[] { 2, 4, 6, 8, 10, 12, 14, 16 };
        var temp = Path.Combine(folder, "weights.tmp");
        File.WriteAllBytes(temp, System.Runtime.InteropServices.MemoryMarshal.AsBytes(doubled.AsSpan()).ToArray());
        File.Move(temp, Path.Combine(folder, "weights.bin"), overwrite: true);
        await changed.Task;
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await reloaded.Task);
        Assert.NotEqual(before, runner.Sha256);
        Assert.Equal(new float[] { 100, 120 }, Y(runner, await runner.RunAsync(X(1, 2, 3, 4))));
    }
}

/// <summary>Models are loaded by ONNX Runtime from their path, after the hash; a file changed in between is caught.</summary>
public sealed class LoadFromPathTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public LoadFromPathTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private static ModelRequest X(params float[] x) => new(ModelTensor.Create("x", x.AsMemory(), x.Length / 4, 4));

    [Fact]
    public async Task LoadAsync_WeightsInASubfolderOfTheModelsFolder_ResolvedFromTheModelsPath()
    {
        var folder = _files.NewPath($"deep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(folder, "weights"));
        var path = Kit.ExternalWeights("weights/w.bin").WriteTo(Path.Combine(folder, "model.onnx"));
        Assert.NotEqual(Path.GetFullPath(folder), Path.GetFullPath(Environment.CurrentDirectory));

        await using var runner = await _files.CreateAsync(path);

        Assert.Equal(new float[] { 50, 60 }, (await runner.RunAsync(X(1, 2, 3, 4)))["y"].As<float>().Span.ToArray());
        Assert.Equal([Path.Combine(Path.GetFullPath(folder), "weights", "w.bin")], runner.CurrentSession!.ExternalFiles);
    }

    [Fact]
    public async Task ReloadAsync_WeightsReplacedBetweenHashAndLoad_LoadAbandonedAndThePinnedFileKeepsServing()
    {
        var folder = _files.NewPath($"toctou-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var path = Kit.ExternalWeights().WriteTo(Path.Combine(folder, "model.onnx"));
        await using var runner = await _files.CreateAsync(path);
        var pin = runner.Sha256!;

        // After the hash matched the pin, the weights are swapped (written next to it and renamed over, as a deploy does).
        runner.BeforeSessionCreate = () =>
        {
            var temp = Path.Combine(folder, "weights.tmp");
            File.WriteAllBytes(temp, new byte[8 * sizeof(float)]);
            File.Move(temp, Path.Combine(folder, "weights.bin"), overwrite: true);
        };
        var error = await Assert.ThrowsAsync<ModelLoadException>(() => runner.ReloadAsync(expectedSha256: pin));

        Assert.Contains("changed while it was loaded", error.Message, StringComparison.Ordinal);
        Assert.Contains("weights.bin", error.Message, StringComparison.Ordinal);
        Assert.Equal(pin, runner.Sha256);
        Assert.Equal(new float[] { 50, 60 }, (await runner.RunAsync(X(1, 2, 3, 4)))["y"].As<float>().Span.ToArray());
    }
}
