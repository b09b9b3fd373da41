using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;

namespace AiOps.Inference.Tests;

/// <summary>Declared batch axes (Batching:BatchAxes) for exports whose batch symbols differ per tensor.</summary>
public sealed class BatchAxisTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public BatchAxisTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string Model()
    {
        var path = _files.NewPath($"tf2onnx-scaled-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Kit.Tf2OnnxScaled());
        return path;
    }

    private static OnnxRunnerOptions Declared(Action<OnnxBatchingOptions>? axes = null, double delaySeconds = 1) => ModelFiles.CpuOptions(o =>
    {
        o.Batching.Enabled = true;
        o.Batching.MaxBatchSize = 16;
        o.Batching.MaxQueueDelay = TimeSpan.FromSeconds(delaySeconds);
        if (axes is null)
        {
            o.Batching.BatchAxes["x"] = 0;
            o.Batching.BatchAxes["y"] = 0;
            o.Batching.BatchAxes["scale"] = OnnxBatchAxis.None;
            o.Batching.BatchAxes["scale_used"] = OnnxBatchAxis.None;
        }
        else
        {
            axes(o.Batching);
        }
    });

    private static ModelRequest Call(float[] x, float scale) =>
        new([ModelTensor.Create("x", x.AsMemory(), x.Length / 4, 4), ModelTensor.Create("scale", new[] { scale }.AsMemory())]);

    private static float[] Rows(int rows, ulong seed) => Kit.Features(rows, seed: seed);

    [Fact]
    public async Task RunAsync_DeclaredAxes_ConcurrentCallsShareOneRunAndEachGetsItsRowsAsUnbatched()
    {
        var path = Model();
        var time = Requests.FakeTime(); // never advanced: batches form only behind the held run
        await using var unbatched = await _files.CreateAsync(path);
        await using var runner = await _files.CreateAsync(path, Declared(), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(Call(Rows(1, 9), 0.5f)).AsTask()); // an idle batched runner runs a lone call on the caller's thread
        await gate.EnteredAsync();

        var inputs = new[] { Rows(1, 1), Rows(3, 2), Rows(2, 3) };
        var calls = inputs.Select(x => runner.RunAsync(Call(x, 0.5f)).AsTask()).ToArray();
        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;
        var sizes = batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray();

        Assert.False(unbatched.IsBatching);
        Assert.True(runner.IsBatching);
        Assert.Equal([1L, 6L], sizes); // the held call, then the three queued calls (1 + 3 + 2 rows) in one run
        for (var i = 0; i < inputs.Length; i++)
        {
            var expected = await unbatched.RunAsync(Call(inputs[i], 0.5f));
            Assert.Equal([inputs[i].Length / 4L, 4L], responses[i]["y"].Shape.ToArray());
            Assert.Equal(expected["y"].As<float>().Span.ToArray(), responses[i]["y"].As<float>().Span.ToArray());
            Assert.Empty(responses[i]["scale_used"].Shape.ToArray());
            Assert.Equal(0.5f, responses[i]["scale_used"].As<float>().Span[0]); // an unbatched output comes whole to each caller
        }
    }

    [Fact]
    public async Task RunAsync_UnbatchedInputDiffers_CallsRunInSeparateBatchesWithTheirOwnValue()
    {
        var path = Model();
        var time = Requests.FakeTime();

        // No delay: what is queued behind the held run runs at once (the last call, split off, does not wait for company).
        await using var runner = await _files.CreateAsync(path, Declared(delaySeconds: 0), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(Call(Rows(1, 9), 1f)).AsTask()); // an idle batched runner runs a lone call on the caller's thread
        await gate.EnteredAsync();

        float[] x = [1, 2, 3, 4];
        var calls = new[] { 2f, 2f, 3f }.Select(scale => runner.RunAsync(Call(x, scale)).AsTask()).ToArray();
        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        // The two calls with scale 2 share a run; the one with scale 3 cannot join it (its shared input differs).
        Assert.Equal([1L, 2L, 1L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
        Assert.Equal(new float[] { 2, 4, 6, 8 }, responses[0]["y"].As<float>().Span.ToArray());
        Assert.Equal(new float[] { 2, 4, 6, 8 }, responses[1]["y"].As<float>().Span.ToArray());
        Assert.Equal(new float[] { 3, 6, 9, 12 }, responses[2]["y"].As<float>().Span.ToArray());
        Assert.Equal(3f, responses[2]["scale_used"].As<float>().Span[0]);
    }

    [Fact]
    public async Task LoadAsync_NameNotInTheModel_FailsNamingModelTensorAndTheTensorsItHas()
    {
        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(Model(), Declared(b =>
        {
            b.BatchAxes["x"] = 0;
            b.BatchAxes["images"] = 0;
        })));

        Assert.Equal(new ModelKey("clf", "1"), error.Key);
        Assert.Contains("'images'", error.Message, StringComparison.Ordinal);
        Assert.Contains("clf", error.Message, StringComparison.Ordinal);
        Assert.Contains("x: Float32[unk__314, 4]", error.Message, StringComparison.Ordinal);
        Assert.Contains("y: Float32[unk__315, 4]", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A time-major export (PyTorch's LSTM default, batch_first=False): x [seq 3, batch, 4]; y = 2x keeps the
    /// layout (batch at 1); s sums over time, [batch, 4] (batch at 0), so a wrong stacking would mix callers' rows.</summary>
    private string TimeMajor()
    {
        var path = _files.NewPath($"time-major-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new OnnxModelBuilder("time_major")
            .AddInput("x", OnnxDataType.Float, 3, "batch", 4)
            .AddOutput("y", OnnxDataType.Float, 3, "unk__y", 4)
            .AddOutput("s", OnnxDataType.Float, "unk__s", 4)
            .AddInitializer("time", [0L], 1)
            .AddNode("Add", ["x", "x"], ["y"])
            .AddNode("ReduceSum", ["x", "time"], ["s"], new Dictionary<string, long> { ["keepdims"] = 0 })
            .Build());
        return path;
    }

    /// <summary>x [3, b, 4] time-major: element (t, r, f) at (t * b + r) * 4 + f.</summary>
    private static float[] TimeMajorInput(int rows, int seed)
    {
        var x = new float[3 * rows * 4];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (seed * 1000) + i;
        }

        return x;
    }

    [Fact]
    public async Task RunAsync_TimeMajorBatchAtAxis1_CallsShareOneRunAndEachGetsItsOwnRowsAlongEachAxis()
    {
        var time = Requests.FakeTime(); // never advanced: the batch forms behind the held run
        await using var runner = await _files.CreateAsync(TimeMajor(), Declared(b =>
        {
            b.BatchAxes["x"] = 1;
            b.BatchAxes["y"] = 1;
            b.BatchAxes["s"] = 0;
        }), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        ModelRequest Call(float[] x, int rows) => new([ModelTensor.Create("x", x.AsMemory(), 3, rows, 4)]);
        var held = Task.Run(() => runner.RunAsync(Call(TimeMajorInput(1, 9), 1)).AsTask());
        await gate.EnteredAsync();

        int[] rows = [2, 1, 3];
        var inputs = rows.Select((r, i) => TimeMajorInput(r, i + 1)).ToArray();
        var calls = inputs.Select((x, i) => runner.RunAsync(Call(x, rows[i])).AsTask()).ToArray();
        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        Assert.True(runner.IsBatching);
        Assert.Equal([1L, 6L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray()); // the three calls: one run of 6 rows
        for (var c = 0; c < rows.Length; c++)
        {
            var (x, b) = (inputs[c], rows[c]);
            var y = responses[c]["y"].As<float>();
            var s = responses[c]["s"].As<float>();
            Assert.Equal([3L, b, 4L], y.Shape.ToArray());
            Assert.Equal([(long)b, 4L], s.Shape.ToArray());
            Assert.Equal(x.Select(v => 2 * v).ToArray(), y.Data.ToArray());
            for (var r = 0; r < b; r++)
            {
                for (var f = 0; f < 4; f++)
                {
                    var expected = Enumerable.Range(0, 3).Sum(t => x[(((t * b) + r) * 4) + f]);
                    Assert.Equal(expected, s.Data.Span[(r * 4) + f]);
                }
            }
        }
    }

    [Fact]
    public async Task RunAsync_TimeMajorCallsOfDifferentLength_DoNotShareARun()
    {
        // Only the batch axis may differ between the calls of one batch: x [2, b, 4] and [3, b, 4] are run apart.
        var path = _files.NewPath($"time-major-free-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new OnnxModelBuilder("time_major_free")
            .AddInput("x", OnnxDataType.Float, "seq", "batch", 4)
            .AddOutput("y", OnnxDataType.Float, "seq", "unk__y", 4)
            .AddNode("Add", ["x", "x"], ["y"])
            .Build());
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(path, Declared(b =>
        {
            b.BatchAxes["x"] = 1;
            b.BatchAxes["y"] = 1;
        }), time);
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(new([ModelTensor.Create("x", new float[8].AsMemory(), 2, 1, 4)])).AsTask());
        await gate.EnteredAsync();

        var shortCall = runner.RunAsync(new([ModelTensor.Create("x", Enumerable.Range(0, 8).Select(i => (float)i).ToArray().AsMemory(), 2, 1, 4)])).AsTask();
        var longCall = runner.RunAsync(new([ModelTensor.Create("x", Enumerable.Range(0, 12).Select(i => (float)i).ToArray().AsMemory(), 3, 1, 4)])).AsTask();
        gate.Open();
        var answers = await Task.WhenAll(shortCall, longCall);
        await held;

        Assert.Equal([2L, 1L, 4L], answers[0]["y"].Shape.ToArray());
        Assert.Equal([3L, 1L, 4L], answers[1]["y"].Shape.ToArray());
        Assert.Equal(Enumerable.Range(0, 12).Select(i => 2f * i).ToArray(), answers[1]["y"].As<float>().Data.ToArray());
        Assert.Equal([1L, 1L, 1L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value).ToArray());
    }

    [Theory]
    [InlineData("scale", 0, "out of range")]
    [InlineData("x", 1, "fixed at 4")]
    [InlineData("y", 2, "out of range")]
    public async Task LoadAsync_AxisNotAFreeDimension_FailsNamingTheTensorAndWhatIsExpected(string tensor, int axis, string why)
    {
        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(Model(), Declared(b =>
        {
            b.BatchAxes["x"] = 0;
            b.BatchAxes["y"] = 0;
            b.BatchAxes["scale"] = OnnxBatchAxis.None;
            b.BatchAxes["scale_used"] = OnnxBatchAxis.None;
            b.BatchAxes[tensor] = axis;
        })));

        Assert.Contains($"Batching:BatchAxes:{tensor} of clf", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains("expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadAsync_FixedTensorLeftUndeclared_FailsAskingForItsAxis()
    {
        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(Model(), Declared(b => b.BatchAxes["scale"] = OnnxBatchAxis.None)));

        Assert.Contains("Output 'scale_used'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Batching:BatchAxes:scale_used = 0 or none", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DeclaredBatchedInputsRowsDisagree_IsABadInputNamingTheDeclaration()
    {
        var path = _files.NewPath($"tf2onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new OnnxModelBuilder("tf2onnx")
            .AddInput("a", OnnxDataType.Float, "unk__1", 2)
            .AddInput("b", OnnxDataType.Float, "unk__2", 2)
            .AddOutput("c", OnnxDataType.Float, "unk__3", 2)
            .AddNode("Add", ["a", "b"], ["c"])
            .Build());
        await using var runner = await _files.CreateAsync(path, Declared(b => b.BatchAxes["a"] = 0));
        float[] two = [1, 2, 3, 4], one = [1, 2];

        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(new([ModelTensor.Create("a", two.AsMemory(), 2, 2), ModelTensor.Create("b", one.AsMemory(), 1, 2)])).AsTask());

        Assert.True(runner.IsBatching);
        Assert.Equal("b", error.InputName);
        Assert.Contains("Batching:BatchAxes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnnxBatchAxis_ParsesIndexAndNone_RejectsOtherText()
    {
        Assert.Equal(OnnxBatchAxis.At(0), OnnxBatchAxis.Parse("0"));
        Assert.True(OnnxBatchAxis.Parse(" None ").IsNone);
        Assert.Equal("none", OnnxBatchAxis.None.ToString());
        Assert.Null(OnnxBatchAxis.None.Axis);
        var error = Assert.Throws<FormatException>(() => OnnxBatchAxis.Parse("-1"));
        Assert.Contains("expected a dimension index (0 or more) or 'none'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddOnnxModel_BatchAxesFromConfiguration_BindsIndexAndNone()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiOps:Models:tf:Path"] = Model(),
            ["AiOps:Models:tf:ExecutionProviders:0"] = "Cpu",
            ["AiOps:Models:tf:WarmUpIterations"] = "1",
            ["AiOps:Models:tf:Batching:Enabled"] = "true",
            ["AiOps:Models:tf:Batching:BatchAxes:x"] = "0",
            ["AiOps:Models:tf:Batching:BatchAxes:y"] = "0",
            ["AiOps:Models:tf:Batching:BatchAxes:scale"] = "none",
            ["AiOps:Models:tf:Batching:BatchAxes:scale_used"] = "none",
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAiOpsInference().AddOnnxModel("tf");
        using var host = builder.Build();
        await host.StartAsync();

        var runner = host.Services.GetRequiredKeyedService<OnnxModelRunner>("tf");
        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.True(runner.IsBatching);
        var response = await runner.RunAsync(Call([1, 2, 3, 4, 5, 6, 7, 8], 2f));
        Assert.Equal(new float[] { 2, 4, 6, 8, 10, 12, 14, 16 }, response["y"].As<float>().Span.ToArray());
        await host.StopAsync();
    }
}
