using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Tests;

/// <summary>Element types beyond float: served through <see cref="ModelTensor"/>, bit-identical to raw ONNX Runtime.</summary>
public sealed class TensorTypeTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public TensorTypeTests(ModelFilesFixture fixture) => _files = fixture.Files;

    /// <summary>Identity over an unsigned 16-, 32- and 64-bit input each, with a shared batch.</summary>
    private string UnsignedModel()
    {
        var path = _files.NewPath($"uint-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Kit.UnsignedIdentity());
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_UnsignedIntegerTensors_BitIdenticalToRawOnnxRuntime(bool batching)
    {
        var path = UnsignedModel();
        await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o => o.Batching.Enabled = batching));
        ushort[] u16 = [0, 1, ushort.MaxValue, 12345];
        uint[] u32 = [0, 1, uint.MaxValue, 0x8000_0001];
        ulong[] u64 = [0, 1, ulong.MaxValue, 0x8000_0000_0000_0001];

        var response = await runner.RunAsync(new ModelRequest(
        [
            ModelTensor.Create("u16", u16.AsMemory(), 2, 2),
            ModelTensor.Create("u32", u32.AsMemory(), 2, 2),
            ModelTensor.Create("u64", u64.AsMemory(), 2, 2),
        ]));

        Assert.Equal(batching, runner.IsBatching);
        Assert.Equal(TensorElementType.UInt16, runner.Metadata.Inputs[0].ElementType);
        using var session = new InferenceSession(path);
        using var x16 = OrtValue.CreateTensorValueFromMemory(u16, [2, 2]);
        using var x32 = OrtValue.CreateTensorValueFromMemory(u32, [2, 2]);
        using var x64 = OrtValue.CreateTensorValueFromMemory(u64, [2, 2]);
        using var runOptions = new RunOptions();
        using var raw = session.Run(runOptions, ["u16", "u32", "u64"], [x16, x32, x64], ["o16", "o32", "o64"]);
        Assert.Equal(raw[0].GetTensorDataAsSpan<ushort>().ToArray(), response["o16"].As<ushort>().Span.ToArray());
        Assert.Equal(raw[1].GetTensorDataAsSpan<uint>().ToArray(), response["o32"].As<uint>().Span.ToArray());
        Assert.Equal(raw[2].GetTensorDataAsSpan<ulong>().ToArray(), response["o64"].As<ulong>().Span.ToArray());
        Assert.Equal(u64, response["o64"].As<ulong>().Span.ToArray());
    }

    [Fact]
    public async Task RunAsync_UnsignedInputOfTheWrongWidth_RefusedNamingBothTypes()
    {
        await using var runner = await _files.CreateAsync(UnsignedModel());

        var error = await Assert.ThrowsAsync<ModelInputException>(async () => await runner.RunAsync(new ModelRequest(
        [
            ModelTensor.Create("u16", new uint[4].AsMemory(), 2, 2),
            ModelTensor.Create("u32", new uint[4].AsMemory(), 2, 2),
            ModelTensor.Create("u64", new ulong[4].AsMemory(), 2, 2),
        ])));

        Assert.Equal("u16", error.InputName);
        Assert.Contains("UInt16", error.Message, StringComparison.Ordinal);
        Assert.Contains("UInt32", error.Message, StringComparison.Ordinal);
    }
}
