
namespace AiOps.Inference.Tests;

public sealed class RunnerTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public RunnerTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task RunAsync_ClassifierBatch_MatchesManagedPrediction()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        var features = Kit.Features(5);

        var response = await runner.RunAsync(Requests.Features(features));

        Assert.Equal(runner.Key, response.Key);
        Assert.Equal([5L, 3L], response[ClassifierModel.OutputName].Shape.ToArray());
        Requests.AssertClose(Kit.Classifier(1).Predict(features), response.Probabilities());
    }

    [Fact]
    public async Task RunAsync_FixedShapeModel_ReturnsHandComputedValues()
    {
        await using var runner = await _files.CreateAsync(_files.FixedShape);
        float[] x = [1, 2, 3, 0, 0, 0];

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 2, 3)));

        static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));
        Requests.AssertClose([Sigmoid(4), Sigmoid(-0.5f), Sigmoid(0), Sigmoid(0.5f)], response["y"].As<float>().Span.ToArray());
    }

    [Fact]
    public async Task RunAsync_MultiInputWithInt64_ReturnsEveryOutputInDeclarationOrder()
    {
        await using var runner = await _files.CreateAsync(_files.MultiInput);
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [10, 20, 30, 40, 50, 60];
        long[] ids = [7, 9];

        // Inputs in another order than declared: the runner binds by name.
        var response = await runner.RunAsync(new ModelRequest([
            ModelTensor.Create("ids", ids.AsMemory(), 2),
            ModelTensor.Create("b", b.AsMemory(), 2, 3),
            ModelTensor.Create("a", a.AsMemory(), 2, 3),
        ]));

        Assert.Equal(["sum", "ids_out"], response.Outputs.Select(o => o.Name));
        Assert.Equal([11f, 22, 33, 44, 55, 66], response["sum"].As<float>().Span.ToArray());
        Assert.Equal([7L, 9], response["ids_out"].As<long>().Span.ToArray());
    }

    [Fact]
    public async Task CreateAsync_ClassifierFile_ExposesMetadataShaAndLoadTime()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, time: time);

        var input = Assert.Single(runner.Metadata.Inputs);
        Assert.Equal(ClassifierModel.InputName, input.Name);
        Assert.Equal(TensorElementType.Float32, input.ElementType);
        Assert.Equal([-1L, 4L], input.Dimensions);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.True(input.HasDynamicBatch);
        Assert.Equal("classifier", runner.Metadata.Properties["aiops.test_model"]);
        var expectedSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(_files.ClassifierV1)));
        Assert.Equal(expectedSha, runner.Sha256);
        Assert.Equal(time.GetUtcNow(), runner.LoadedAt);
        Assert.True(runner.CurrentSession!.PreallocatesOutputs);
    }

    [Fact]
    public async Task RunAsync_InputMemoryIsASlice_IsReadWithoutCopying()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        var buffer = Kit.Features(10);

        // Rows 3..5 of a larger caller buffer: the tensor views the caller's memory, the runner passes it as is.
        var slice = buffer.AsMemory(12, 8);
        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create(ClassifierModel.InputName, slice, 2, 4)));

        Requests.AssertClose(Kit.Classifier(1).Predict(slice.Span), response.Probabilities());
    }

    [Fact]
    public async Task RunAsync_CorruptFile_CreateFailsWithModelLoadExceptionNamingTheFile()
    {
        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(_files.Corrupt));

        Assert.Contains(_files.Corrupt, error.Message, StringComparison.Ordinal);
        Assert.Equal(new ModelKey("clf", "1"), error.Key);

        // Nothing else breaks: another model still loads and runs in the same process.
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
    }

    [Fact]
    public async Task CreateAsync_MissingFile_ThrowsModelLoadExceptionNamingThePath()
    {
        var path = _files.NewPath("missing.onnx");

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(path));

        Assert.Contains("missing.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_PinnedShaMismatch_RefusesToLoad()
    {
        var options = ModelFiles.CpuOptions(o => o.ExpectedSha256 = new string('a', 64));

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(_files.ClassifierV1, options));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        Assert.Contains(new string('a', 64), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_InvalidOption_ThrowsNamingTheSetting()
    {
        var options = ModelFiles.CpuOptions(o => o.Batching.MaxBatchSize = 0);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _files.CreateAsync(_files.ClassifierV1, options));

        Assert.Contains("Batching:MaxBatchSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_ThenRun_ThrowsModelNotReady()
    {
        var runner = await _files.CreateAsync(_files.ClassifierV1);
        await runner.DisposeAsync();

        await Assert.ThrowsAsync<ModelNotReadyException>(() => runner.RunAsync(Requests.Features(Kit.Features(1))).AsTask());
        Assert.True(runner.Status.Readiness == ModelReadiness.Failed);
    }
}

/// <summary>One folder of model files per test class.</summary>
public sealed class ModelFilesFixture : IDisposable
{
    public ModelFiles Files { get; } = new();

    public void Dispose() => Files.Dispose();
}
