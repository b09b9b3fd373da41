namespace AiOps.Inference.Tests;

public sealed class InputValidationTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public InputValidationTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private static ModelRequest Multi(ModelTensor a, ModelTensor b, ModelTensor ids) => new([a, b, ids]);

    private static ModelTensor A(int rows = 2) => ModelTensor.Create("a", new float[rows * 3].AsMemory(), rows, 3);

    private static ModelTensor B(int rows = 2) => ModelTensor.Create("b", new float[rows * 3].AsMemory(), rows, 3);

    private static ModelTensor Ids(int rows = 2) => ModelTensor.Create("ids", new long[rows].AsMemory(), rows);

    public static TheoryData<string, Func<ModelRequest>, string, string[]> BadRequests => new()
    {
        { "unknown", () => new ModelRequest([A(), B(), Ids(), ModelTensor.Create("c", new float[3].AsMemory(), 1, 3)]), "c", ["not an input", "a: Float32[batch, 3]"] },
        { "missing", () => new ModelRequest([A(), Ids()]), "b", ["missing", "Float32[batch, 3]"] },
        { "type", () => Multi(A(), B(), ModelTensor.Create("ids", new int[2].AsMemory(), 2)), "ids", ["Int32", "expected Int64"] },
        { "rank", () => Multi(ModelTensor.Create("a", new float[6].AsMemory(), 6), B(), Ids()), "a", ["[6]", "rank 1", "expected rank 2"] },
        { "fixed dim", () => Multi(ModelTensor.Create("a", new float[8].AsMemory(), 2, 4), B(), Ids()), "a", ["[2, 4]", "dimension 1 to be 3"] },
        { "batch mismatch", () => Multi(A(2), B(3), Ids(2)), "b", ["'batch'", "3", "2"] },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task RunAsync_BadInput_ThrowsModelInputExceptionNamingInputExpectedAndActual(string scenario, Func<ModelRequest> request, string input, string[] fragments)
    {
        await using var runner = await _files.CreateAsync(_files.MultiInput);

        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(request()).AsTask());

        Assert.Equal(input, error.InputName);
        Assert.Equal(runner.Key, error.Key);
        foreach (var fragment in fragments)
        {
            Assert.True(error.Message.Contains(fragment, StringComparison.Ordinal), $"{scenario}: '{error.Message}' lacks '{fragment}'.");
        }

        // The session is not poisoned: a good call right after succeeds.
        var ok = await runner.RunAsync(Multi(A(), B(), Ids()));
        Assert.Equal(2, ok.Outputs.Count);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public async Task RunAsync_NonFiniteFeature_ThrowsNamingTheElement(float bad)
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        var features = Kit.Features(8); // 32 elements: the vectorised scan and the tail both run
        features[29] = bad;

        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(Requests.Features(features)).AsTask());

        Assert.Equal("features", error.InputName);
        Assert.Contains("element 29", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowNonFiniteInputs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NonFiniteAllowed_RunsAndPropagatesNaN()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o => o.AllowNonFiniteInputs = true));
        var features = Kit.Features(1);
        features[0] = float.NaN;

        var response = await runner.RunAsync(Requests.Features(features));

        Assert.All(response.Probabilities(), p => Assert.True(float.IsNaN(p)));
    }

    [Fact]
    public async Task RunAsync_FixedShapeWrongBatch_ThrowsNamingDimensionZero()
    {
        await using var runner = await _files.CreateAsync(_files.FixedShape);

        var error = await Assert.ThrowsAsync<ModelInputException>(() =>
            runner.RunAsync(new ModelRequest(ModelTensor.Create("x", new float[9].AsMemory(), 3, 3))).AsTask());

        Assert.Contains("dimension 0 to be 2", error.Message, StringComparison.Ordinal);
    }
}

public sealed class ExecutionFailureTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public ExecutionFailureTests(ModelFilesFixture fixture) => _files = fixture.Files;

    /// <summary>
    /// A lookup table (Gather over an initializer) indexed by an int64 input: any index passes validation (it is a
    /// well-formed int64[batch]), and only the graph finds one out of range. Batchable: input and output share "batch".
    /// </summary>
    private string Lookup()
    {
        var path = _files.NewPath($"lookup-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new AiOps.TestModels.OnnxModelBuilder("lookup")
            .AddInput("idx", AiOps.TestModels.OnnxDataType.Int64, "batch")
            .AddOutput("y", AiOps.TestModels.OnnxDataType.Float, "batch", 3)
            .AddInitializer("table", [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f], 3, 3)
            .AddNode("Gather", ["table", "idx"], ["y"])
            .Build());
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_FailsInsideTheGraph_ThrowsModelExecutionExceptionWithKeyAndKeepsServing(bool batching)
    {
        await using var runner = await _files.CreateAsync(Lookup(), ModelFiles.CpuOptions(o => o.Batching.Enabled = batching));
        var bad = new ModelRequest(ModelTensor.Create("idx", new long[] { 0, 7 }.AsMemory(), 2));

        var error = await Assert.ThrowsAsync<ModelExecutionException>(() => runner.RunAsync(bad).AsTask());

        Assert.Equal(runner.Key, error.Key);
        Assert.IsType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(error.InnerException);
        Assert.Contains(runner.Key.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("failed inside ONNX Runtime on inputs idx[2]", error.Message, StringComparison.Ordinal);

        // Not poisoned: good indices run right after.
        var ok = await runner.RunAsync(new ModelRequest(ModelTensor.Create("idx", new long[] { 2, 0 }.AsMemory(), 2)));
        Assert.Equal(new float[] { 7, 8, 9, 1, 2, 3 }, ok.Outputs[0].As<float>().Data.ToArray());
    }
}

public sealed class RowLimitTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public RowLimitTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_MoreRowsThanMaxRowsPerCall_RefusedBeforeRunningAndRunnerKeepsServing(bool batching)
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, ModelFiles.CpuOptions(o =>
        {
            o.MaxRowsPerCall = 10;
            o.Batching.Enabled = batching;
        }));

        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(Requests.Features(Kit.Features(11))).AsTask());

        Assert.Equal("features", error.InputName);
        Assert.Equal(runner.Key, error.Key);
        Assert.Contains("has 11 rows; expected at most 10 (MaxRowsPerCall)", error.Message, StringComparison.Ordinal);
        var ok = await runner.RunAsync(Requests.Features(Kit.Features(10)));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(10)), ok.Probabilities());
    }

    [Fact]
    public void Defaults_MaxRowsPerCall_IsBounded() => Assert.Equal(8192, new OnnxRunnerOptions().MaxRowsPerCall);
}

public sealed class WarmUpTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public WarmUpTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task Load_GeneratedWarmUpRefusedByTheGraph_ServesAndReportsTheSkippedWarmUp()
    {
        // Range over int64 scalars (as exporters write sample-rate or length inputs): the generated warm-up feeds zeros,
        // and a zero step is an error inside the graph; real inputs run.
        var path = _files.NewPath($"range-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new AiOps.TestModels.OnnxModelBuilder("range", opset: 13)
            .AddInput("start", AiOps.TestModels.OnnxDataType.Int64)
            .AddInput("limit", AiOps.TestModels.OnnxDataType.Int64)
            .AddInput("delta", AiOps.TestModels.OnnxDataType.Int64)
            .AddOutput("y", AiOps.TestModels.OnnxDataType.Int64, "n")
            .AddNode("Range", ["start", "limit", "delta"], ["y"])
            .Build());

        await using var runner = await _files.CreateAsync(path);

        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.StartsWith("Warm-up skipped: generated inputs", runner.Status.Reason, StringComparison.Ordinal);
        var response = await runner.RunAsync(new ModelRequest([
            ModelTensor.Create("start", new long[] { 0 }.AsMemory()),
            ModelTensor.Create("limit", new long[] { 5 }.AsMemory()),
            ModelTensor.Create("delta", new long[] { 2 }.AsMemory()),
        ]));
        Assert.Equal(new long[] { 0, 2, 4 }, response.Outputs[0].As<long>().Data.ToArray());
    }
}
