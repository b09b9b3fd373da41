using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiOps.Inference.Tests;

/// <summary>Models real exporters produce whose graph refuses the generated warm-up, served through warm-up configuration.</summary>
public sealed class WarmUpConfigurationTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public WarmUpConfigurationTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string Write(string name, byte[] model)
    {
        var path = _files.NewPath($"{name}-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }

    private static ModelRequest PadRequest(float[] audio, long sampleRate) =>
        new([ModelTensor.Create("audio", audio.AsMemory(), 1, audio.Length), ModelTensor.Create("sample_rate", new[] { sampleRate }.AsMemory())]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LoadAsync_ConvNeedingAMinimumLength_ServesAndWarmsUpOnlyWithADimensionSize(bool hinted)
    {
        var options = ModelFiles.CpuOptions(o =>
        {
            if (hinted)
            {
                o.WarmUp.DimensionSizes["samples"] = 16000;
            }
        });

        await using var runner = await _files.CreateAsync(Write("audio-conv", Kit.AudioConv()), options);

        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        if (hinted)
        {
            Assert.Null(runner.Status.Reason); // warmed up at the length real audio has
        }
        else
        {
            Assert.StartsWith("Warm-up skipped: generated inputs (audio[1, 1, 1])", runner.Status.Reason, StringComparison.Ordinal);
            Assert.Contains("WarmUp:DimensionSizes", runner.Status.Reason, StringComparison.Ordinal);
        }

        var audio = Enumerable.Range(0, 800).Select(i => (float)(i % 4)).ToArray();
        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("audio", audio.AsMemory(), 1, 1, 800)));
        Assert.Equal([1L, 1L, 401L], response["features"].Shape.ToArray());
        Assert.Equal(1.5f, response["features"].As<float>().Span[0], 4);
    }

    [Fact]
    public async Task LoadAsync_ReflectPadAndInt64RateWithSizesAndValues_WarmsUpAndServes()
    {
        var path = Write("pad", Kit.PadReflectWithRate());
        await using (var generated = await _files.CreateAsync(path))
        {
            Assert.StartsWith("Warm-up skipped", generated.Status.Reason, StringComparison.Ordinal); // zeros: Range step 0
        }

        await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o =>
        {
            o.WarmUp.DimensionSizes["samples"] = 16000;
            o.WarmUp.InputValues["sample_rate"] = 16000;
        }));

        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.Null(runner.Status.Reason);
        var response = await runner.RunAsync(PadRequest([1, 2, 3, 4, 5, 6, 7, 8], 16000));
        Assert.Equal(new float[] { 5, 4, 3, 2, 1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4 }, response["padded"].As<float>().Span.ToArray());
        Assert.Equal(new long[] { 0, 16000, 32000 }, response["ticks"].As<long>().Span.ToArray());
    }

    [Fact]
    public async Task LoadAsync_DeclaredSamplesInlineAndFromFile_RunAndTheModelIsReady()
    {
        var path = Write("pad", Kit.PadReflectWithRate());
        var raw = new float[4000];
        raw[1] = 1;
        var file = $"warmup-{Guid.NewGuid():N}.f32";
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, file), System.Runtime.InteropServices.MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());
        var options = ModelFiles.CpuOptions(o =>
        {
            var inline = new OnnxWarmUpSample();
            inline.Inputs["audio"] = Tensor([1, 8], [1, 2, 3, 4, 5, 6, 7, 8]);
            inline.Inputs["sample_rate"] = Tensor([], [16000]);
            var fromFile = new OnnxWarmUpSample();
            fromFile.Inputs["audio"] = new OnnxWarmUpTensor { Shape = { 2, 2000 }, File = file }; // relative to the model's folder
            fromFile.Inputs["sample_rate"] = Tensor([], [8000]);
            o.WarmUp.Samples.Add(inline);
            o.WarmUp.Samples.Add(fromFile);
        });

        await using var runner = await _files.CreateAsync(path, options);

        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.Null(runner.Status.Reason);
        Assert.Equal(new long[] { 0, 24000 }, (await runner.RunAsync(PadRequest([1, 2, 3, 4, 5, 6], 24000)))["ticks"].As<long>().Span.ToArray());
    }

    [Theory]
    [InlineData("zero rate", "failed in ONNX Runtime")]
    [InlineData("unknown input", "which the model does not have")]
    [InlineData("bad shape", "does not fit the model")]
    public async Task LoadAsync_DeclaredSampleThatFails_FailsTheLoadNamingTheSample(string fault, string expected)
    {
        var options = ModelFiles.CpuOptions(o =>
        {
            var good = new OnnxWarmUpSample();
            good.Inputs["audio"] = Tensor([1, 8], [1]);
            good.Inputs["sample_rate"] = Tensor([], [16000]);
            var bad = new OnnxWarmUpSample();
            bad.Inputs[fault == "unknown input" ? "wave" : "audio"] = Tensor(fault == "bad shape" ? [8] : [1, 8], [1]);
            bad.Inputs["sample_rate"] = Tensor([], [fault == "zero rate" ? 0 : 16000]);
            o.WarmUp.Samples.Add(good);
            o.WarmUp.Samples.Add(bad);
        });

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(Write("pad", Kit.PadReflectWithRate()), options));

        Assert.Contains("Declared warm-up sample 1 (WarmUp:Samples:1)", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(new ModelKey("clf", "1"), error.Key);
    }

    [Fact]
    public async Task AddOnnxModel_WarmUpFromConfiguration_BindsSamplesSizesAndValues()
    {
        var path = Write("pad", Kit.PadReflectWithRate());
        var settings = new Dictionary<string, string?>
        {
            ["AiOps:Models:vad:Path"] = path,
            ["AiOps:Models:vad:ExecutionProviders:0"] = "Cpu",
            ["AiOps:Models:vad:WarmUp:DimensionSizes:samples"] = "16000",
            ["AiOps:Models:vad:WarmUp:InputValues:sample_rate"] = "16000",
            ["AiOps:Models:vad:WarmUp:Samples:0:Inputs:audio:Shape:0"] = "1",
            ["AiOps:Models:vad:WarmUp:Samples:0:Inputs:audio:Shape:1"] = "6",
            ["AiOps:Models:vad:WarmUp:Samples:0:Inputs:audio:Values:0"] = "0.5",
            ["AiOps:Models:vad:WarmUp:Samples:0:Inputs:sample_rate:Values:0"] = "8000",
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddMetrics();
        builder.Services.AddAiOpsInference().AddOnnxModel("vad");
        using var host = builder.Build();
        await host.StartAsync();

        var runner = host.Services.GetRequiredKeyedService<OnnxModelRunner>("vad");
        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.Null(runner.Status.Reason);
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<OnnxModelOptions>>().Get("vad");
        Assert.Equal(16000, options.WarmUp.DimensionSizes["samples"]);
        Assert.Equal(16000, options.WarmUp.InputValues["sample_rate"]);
        var sample = Assert.Single(options.WarmUp.Samples);
        Assert.Equal([1L, 6L], sample.Inputs["audio"].Shape);
        Assert.Equal([8000d], sample.Inputs["sample_rate"].Values);
        await host.StopAsync();
    }

    private static OnnxWarmUpTensor Tensor(long[] shape, double[] values)
    {
        var tensor = new OnnxWarmUpTensor();
        foreach (var d in shape)
        {
            tensor.Shape.Add(d);
        }

        foreach (var v in values)
        {
            tensor.Values.Add(v);
        }

        return tensor;
    }
}
