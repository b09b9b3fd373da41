using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OrtBFloat16 = Microsoft.ML.OnnxRuntime.BFloat16;

namespace AiOps.Inference.Tests;

/// <summary>float16, bfloat16 and string tensors end to end: load, validation, warm-up, batching, hot swap; bit-identical to raw ONNX Runtime.</summary>
public sealed class HalfAndStringTensorTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public HalfAndStringTensorTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string Write(string name, byte[] model)
    {
        var path = _files.NewPath($"{name}-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }

    private static OnnxRunnerOptions Batched(Action<OnnxRunnerOptions>? configure = null) => ModelFiles.CpuOptions(o =>
    {
        o.Batching.Enabled = true;
        o.Batching.MaxBatchSize = 16;
        o.Batching.MaxQueueDelay = TimeSpan.FromSeconds(1);
        configure?.Invoke(o);
    });

    /// <summary>Values a real fp16 tensor holds: normal, negative, subnormal, zero of both signs, the largest finite.</summary>
    private static Half[] HalfValues(int count, int seed)
    {
        var random = new Random(seed);
        Half[] specials = [Half.Zero, Half.NegativeZero, Half.Epsilon, Half.MaxValue, Half.MinValue, (Half)1e-5f];
        var values = new Half[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = i < specials.Length && seed == 0 ? specials[i] : (Half)((random.NextSingle() - 0.5f) * 200);
        }

        return values;
    }

    private static ushort[] Bits(ReadOnlySpan<Half> values) => MemoryMarshal.Cast<Half, ushort>(values).ToArray();

    private static ushort[] Bits(ReadOnlySpan<BFloat16> values) => MemoryMarshal.Cast<BFloat16, ushort>(values).ToArray();

    /// <summary>Runs the raw ONNX Runtime session on float16 inputs (as ONNX Runtime's own Float16) and returns the output bits.</summary>
    private static ushort[][] RawFloat16(string path, (string Name, Half[] Data, long[] Shape)[] inputs, string[] outputs)
    {
        using var session = new InferenceSession(path);
        var values = inputs.Select(i => OrtValue.CreateTensorValueFromMemory(MemoryMarshal.Cast<Half, Float16>(i.Data).ToArray(), i.Shape)).ToArray();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, outputs);
            return results.Select(r => MemoryMarshal.Cast<Float16, ushort>(r.GetTensorDataAsSpan<Float16>()).ToArray()).ToArray();
        }
        finally
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_Float16IdentityAndAdd_BitIdenticalToRawOnnxRuntime(bool batching)
    {
        var path = Write("fp16", Kit.Float16IdentityAdd());
        await using var runner = await _files.CreateAsync(path, batching ? Batched() : ModelFiles.CpuOptions());
        var a = HalfValues(6, 0);
        var b = HalfValues(6, 1);

        var response = await runner.RunAsync(new ModelRequest([ModelTensor.Create("a", a.AsMemory(), 2, 3), ModelTensor.Create("b", b.AsMemory(), 2, 3)]));

        Assert.Equal(batching, runner.IsBatching);
        Assert.Null(runner.Status.Reason); // the generated warm-up (float16 zeros) ran
        Assert.Equal(TensorElementType.Float16, runner.Metadata.Inputs[0].ElementType);
        Assert.Equal(TensorElementType.Float16, runner.Metadata.Outputs[1].ElementType);
        var raw = RawFloat16(path, [("a", a, [2, 3]), ("b", b, [2, 3])], ["y", "sum"]);
        Assert.Equal(raw[0], Bits(response["y"].As<Half>().Span));
        Assert.Equal(raw[1], Bits(response["sum"].As<Half>().Span));
        Assert.Equal(Bits(a), Bits(response["y"].As<Half>().Span));
        Assert.True(Half.IsPositiveInfinity(response["sum"].As<Half>().Span[3])); // MaxValue + a positive value overflows
    }

    [Fact]
    public async Task RunAsync_Float16CallsBatchedTogether_EachCallerGetsItsOwnRowsBitForBit()
    {
        var path = Write("fp16", Kit.Float16IdentityAdd());
        await using var runner = await _files.CreateAsync(path, Batched(), Requests.FakeTime());
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(HalfRequest(HalfValues(3, 9), HalfValues(3, 10), 1)).AsTask()); // an idle batched runner runs a lone call on the caller's thread
        await gate.EnteredAsync();
        var inputs = Enumerable.Range(1, 4).Select(rows => (A: HalfValues(rows * 3, 20 + rows), B: HalfValues(rows * 3, 40 + rows), Rows: rows)).ToArray();

        var calls = inputs.Select(i => runner.RunAsync(HalfRequest(i.A, i.B, i.Rows)).AsTask()).ToArray();
        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        Assert.Equal(2, gate.Runs); // the held call, then the four stacked into one run
        for (var i = 0; i < inputs.Length; i++)
        {
            var raw = RawFloat16(path, [("a", inputs[i].A, [inputs[i].Rows, 3]), ("b", inputs[i].B, [inputs[i].Rows, 3])], ["y", "sum"]);
            Assert.Equal([inputs[i].Rows, 3L], responses[i]["sum"].Shape.ToArray());
            Assert.Equal(raw[1], Bits(responses[i]["sum"].As<Half>().Span));
            Assert.Equal(raw[0], Bits(responses[i]["y"].As<Half>().Span));
        }
    }

    private static ModelRequest HalfRequest(Half[] a, Half[] b, int rows) =>
        new([ModelTensor.Create("a", a.AsMemory(), rows, 3), ModelTensor.Create("b", b.AsMemory(), rows, 3)]);

    [Fact]
    public async Task RunAsync_Float16ExportWithFloatInputs_MatchesRawOnnxRuntimeAndTheFp16Arithmetic()
    {
        var path = Write("fp16-export", Kit.Float16Export());
        await using var runner = await _files.CreateAsync(path);
        float[] x = [1, 2, 3, 4, -0.5f, 0.25f, 8, -16];

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 2, 4)));

        Assert.Equal(TensorElementType.Float32, runner.Metadata.Inputs[0].ElementType);
        Assert.Equal(TensorElementType.Float16, runner.Metadata.Outputs.Single(o => o.Name == "y16").ElementType);
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [2, 4]);
        using var runOptions = new RunOptions();
        using var raw = session.Run(runOptions, ["x"], [input], ["y", "y16"]);
        Assert.Equal(raw[0].GetTensorDataAsSpan<float>().ToArray(), response["y"].As<float>().Span.ToArray());
        Assert.Equal(MemoryMarshal.Cast<Float16, ushort>(raw[1].GetTensorDataAsSpan<Float16>()).ToArray(), Bits(response["y16"].As<Half>().Span));
        // Row 0: x·W/8 + b = ([1,2,3,4]·[[1,2],[3,4],[5,6],[7,8]])/8 + [0.5, -0.25] = [50/8 + 0.5, 60/8 - 0.25] = [6.75, 7.25].
        Assert.Equal(6.75f, response["y"].As<float>().Span[0]);
        Assert.Equal(7.25f, (float)response["y16"].As<Half>().Span[1]);
    }

    [Fact]
    public async Task RunAsync_BFloat16Identity_BitIdenticalToRawOnnxRuntime()
    {
        var path = Write("bf16", Kit.BFloat16Identity());
        await using var runner = await _files.CreateAsync(path, Batched());
        BFloat16[] x = [(BFloat16)1f, (BFloat16)(-3.140625f), (BFloat16)1e30f, BFloat16.FromBits(0x0001), BFloat16.FromBits(0x8000), (BFloat16)0.1f];

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 3, 2)));

        Assert.True(runner.IsBatching);
        Assert.Equal(TensorElementType.BFloat16, runner.Metadata.Inputs[0].ElementType);
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(x.Select(v => new OrtBFloat16(v.Bits)).ToArray(), [3, 2]);
        using var runOptions = new RunOptions();
        using var raw = session.Run(runOptions, ["x"], [input], ["y"]);
        Assert.Equal(raw[0].GetTensorDataAsSpan<OrtBFloat16>().ToArray().Select(v => v.value).ToArray(), Bits(response["y"].As<BFloat16>().Span));
        Assert.Equal(Bits(x), Bits(response["y"].As<BFloat16>().Span));
    }

    [Fact]
    public void CreateInput_HalfAndBFloat16_OrtValueIsOverTheCallersMemoryWithoutACopy()
    {
        var halves = new Half[6];
        var bfloats = new BFloat16[4];
        using var h = AiOps.Inference.Sessions.ElementOps.For(TensorElementType.Float16)!.CreateInput(ModelTensor.Create("a", halves.AsMemory(), 2, 3));
        using var b = AiOps.Inference.Sessions.ElementOps.For(TensorElementType.BFloat16)!.CreateInput(ModelTensor.Create("x", bfloats.AsMemory(), 2, 2));

        // What ONNX Runtime reads is the caller's array itself: a write through the native tensor shows in it.
        h.GetTensorMutableDataAsSpan<Float16>()[4] = new Float16(0x3C00);
        b.GetTensorMutableDataAsSpan<OrtBFloat16>()[3] = new OrtBFloat16(0x3F80);

        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, OrtElementTypeOf(h));
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.BFloat16, OrtElementTypeOf(b));
        Assert.Equal((Half)1, halves[4]);
        Assert.Equal(1f, (float)bfloats[3]);
    }

    private static Microsoft.ML.OnnxRuntime.Tensors.TensorElementType OrtElementTypeOf(OrtValue value) => value.GetTensorTypeAndShape().ElementDataType;

    [Fact]
    public void BFloat16_ConversionFromFloat_AgreesWithOnnxRuntimesBitForBit()
    {
        var random = new Random(3);
        for (var i = 0; i < 50_000; i++)
        {
            var f = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 0xFF800000)); // finite, infinite and NaN values, both signs
            if (float.IsNaN(f))
            {
                // ONNX Runtime writes one canonical NaN; AiOps keeps the sign and the upper payload. Both are NaN.
                Assert.True(OrtBFloat16.IsNaN((OrtBFloat16)f) && BFloat16.IsNaN((BFloat16)f));
                continue;
            }

            Assert.True(((OrtBFloat16)f).value == ((BFloat16)f).Bits, $"{f} ({BitConverter.SingleToUInt32Bits(f):X8}): ORT {((OrtBFloat16)f).value:X4}, AiOps {((BFloat16)f).Bits:X4}");
            Assert.Equal(((OrtBFloat16)f).ToFloat(), (float)(BFloat16)f);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_NonFiniteHalfOrBFloat16_RefusedUnlessAllowed(bool allow)
    {
        await using var fp16 = await _files.CreateAsync(Write("fp16", Kit.Float16IdentityAdd()), ModelFiles.CpuOptions(o => o.AllowNonFiniteInputs = allow));
        await using var bf16 = await _files.CreateAsync(Write("bf16", Kit.BFloat16Identity()), ModelFiles.CpuOptions(o => o.AllowNonFiniteInputs = allow));
        var a = new Half[3];
        a[2] = Half.NaN;
        var x = new BFloat16[2];
        x[1] = BFloat16.PositiveInfinity;

        async Task<ModelResponse> halfCall() => await fp16.RunAsync(HalfRequest(a, new Half[3], 1));
        async Task<ModelResponse> bfloatCall() => await bf16.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 1, 2)));

        if (allow)
        {
            Assert.True(Half.IsNaN((await halfCall())["y"].As<Half>().Span[2]));
            Assert.Equal(BFloat16.PositiveInfinity.Bits, (await bfloatCall())["y"].As<BFloat16>().Span[1].Bits);
            return;
        }

        var halfError = await Assert.ThrowsAsync<ModelInputException>(halfCall);
        var bfloatError = await Assert.ThrowsAsync<ModelInputException>(bfloatCall);
        Assert.Equal("a", halfError.InputName);
        Assert.Contains("at element 2", halfError.Message, StringComparison.Ordinal);
        Assert.Contains("at element 1", bfloatError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FloatGivenToAFloat16Input_RefusedNamingBothTypes()
    {
        await using var runner = await _files.CreateAsync(Write("fp16", Kit.Float16IdentityAdd()));

        var error = await Assert.ThrowsAsync<ModelInputException>(async () => await runner.RunAsync(new ModelRequest(
            [ModelTensor.Create("a", new float[3].AsMemory(), 1, 3), ModelTensor.Create("b", new Half[3].AsMemory(), 1, 3)])));

        Assert.Equal("a", error.InputName);
        Assert.Contains("Float32", error.Message, StringComparison.Ordinal);
        Assert.Contains("Float16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadAsync_DeclaredWarmUpValuesForHalfBFloat16AndString_ConvertedAndRun()
    {
        static OnnxRunnerOptions Declared(params (string Name, long[] Shape, double Value)[] inputs) => ModelFiles.CpuOptions(o =>
        {
            var sample = new OnnxWarmUpSample();
            foreach (var (name, shape, value) in inputs)
            {
                var tensor = new OnnxWarmUpTensor();
                foreach (var d in shape)
                {
                    tensor.Shape.Add(d);
                }

                tensor.Values.Add(value);
                sample.Inputs[name] = tensor;
            }

            o.WarmUp.Samples.Add(sample);
        });

        await using var fp16 = await _files.CreateAsync(Write("fp16", Kit.Float16IdentityAdd()), Declared(("a", [4, 3], 0.5), ("b", [4, 3], -2)));
        await using var bf16 = await _files.CreateAsync(Write("bf16", Kit.BFloat16Identity()), Declared(("x", [2, 2], 1e20)));
        await using var words = await _files.CreateAsync(Write("enc", Kit.StringLabelEncoder()), Declared(("words", [3], 7)));

        Assert.Equal(ModelReadiness.Ready, fp16.Status.Readiness);
        Assert.Equal(ModelReadiness.Ready, bf16.Status.Readiness);
        Assert.Equal(ModelReadiness.Ready, words.Status.Readiness);
    }

    [Fact]
    public async Task ReloadAsync_Float16ModelReplacedByBFloat16One_RefusedAndFloat16KeepsServing()
    {
        var path = Write("swap", Kit.Float16IdentityAdd());
        await using var runner = await _files.CreateAsync(path);
        var replacement = new OnnxModelBuilder("bf16_identity_add")
            .AddInput("a", OnnxDataType.BFloat16, "batch", 3)
            .AddInput("b", OnnxDataType.BFloat16, "batch", 3)
            .AddOutput("y", OnnxDataType.BFloat16, "batch", 3)
            .AddOutput("sum", OnnxDataType.BFloat16, "batch", 3)
            .AddNode("Identity", ["a"], ["y"])
            .AddNode("Identity", ["b"], ["sum"])
            .Build();
        File.WriteAllBytes(path, replacement);

        var error = await Assert.ThrowsAsync<ModelSignatureMismatchException>(() => runner.ReloadAsync());

        Assert.Contains("input 'a' is Float16 today but BFloat16 in the replacement", error.Message, StringComparison.Ordinal);
        var still = await runner.RunAsync(HalfRequest([(Half)1, (Half)2, (Half)3], [(Half)1, (Half)1, (Half)1], 1));
        Assert.Equal([(Half)2, (Half)3, (Half)4], still["sum"].As<Half>().Span.ToArray());
        File.WriteAllBytes(path, Kit.Float16IdentityAdd());
        await runner.ReloadAsync(); // the same signature is accepted
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_StringIdentity_SameStringsAsRawOnnxRuntime(bool batching)
    {
        var path = Write("str", Kit.StringIdentity());
        await using var runner = await _files.CreateAsync(path, batching ? Batched() : ModelFiles.CpuOptions());
        string[] s = ["hello", "", "émeu 🦤", new string('x', 5000), "tab\tnew\nline", "日本語"];

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("s", s.AsMemory(), 3, 2)));

        Assert.Equal(batching, runner.IsBatching);
        Assert.Equal(TensorElementType.String, runner.Metadata.Inputs[0].ElementType);
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateFromStringTensor(new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(s, [3, 2]));
        using var runOptions = new RunOptions();
        using var raw = session.Run(runOptions, ["s"], [input], ["o"]);
        Assert.Equal(raw[0].GetStringTensorAsArray(), response["o"].As<string>().Span.ToArray());
        Assert.Equal(s, response["o"].As<string>().Span.ToArray());
        Assert.Equal([3L, 2L], response["o"].Shape.ToArray());
    }

    [Fact]
    public async Task RunAsync_StringCallsBatchedTogether_EachCallerGetsItsOwnRows()
    {
        await using var runner = await _files.CreateAsync(Write("enc", Kit.StringLabelEncoder()), Batched(), Requests.FakeTime());
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var held = Task.Run(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("words", new[] { "cat" }.AsMemory(), 1))).AsTask()); // an idle batched runner runs a lone call on the caller's thread
        await gate.EnteredAsync();
        string[][] inputs = [["dog"], ["émeu", "cat", "zebra"], ["", "dog"]];

        var calls = inputs.Select(w => runner.RunAsync(new ModelRequest(ModelTensor.Create("words", w.AsMemory(), w.Length))).AsTask()).ToArray();
        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        Assert.Equal(2, gate.Runs);
        Assert.Equal([1L], responses[0]["ids"].As<long>().Span.ToArray());
        Assert.Equal([2L, 0L, -1L], responses[1]["ids"].As<long>().Span.ToArray());
        Assert.Equal([-1L, 1L], responses[2]["ids"].As<long>().Span.ToArray());
    }

    [Fact]
    public async Task RunAsync_StringLabelEncoder_SameIdsAsRawOnnxRuntime()
    {
        var path = Write("enc", Kit.StringLabelEncoder());
        await using var runner = await _files.CreateAsync(path);
        string[] words = ["dog", "cat", "émeu", "Cat", "unknown"];

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("words", words.AsMemory(), words.Length)));

        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateFromStringTensor(new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(words, [words.Length]));
        using var runOptions = new RunOptions();
        using var raw = session.Run(runOptions, ["words"], [input], ["ids"]);
        Assert.Equal(raw[0].GetTensorDataAsSpan<long>().ToArray(), response["ids"].As<long>().Span.ToArray());
        Assert.Equal([1L, 0L, 2L, -1L, -1L], response["ids"].As<long>().Span.ToArray());
    }

    [Fact]
    public async Task RunAsync_NullStringElement_RefusedNamingInputAndIndexAndRunnerKeepsServing()
    {
        await using var runner = await _files.CreateAsync(Write("str", Kit.StringIdentity()), Batched());
        string[] s = ["a", "b", null!, "d"];

        var error = await Assert.ThrowsAsync<ModelInputException>(async () => await runner.RunAsync(new ModelRequest(ModelTensor.Create("s", s.AsMemory(), 2, 2))));

        Assert.Equal("s", error.InputName);
        Assert.Contains("null string at element 2", error.Message, StringComparison.Ordinal);
        s[2] = "c";
        Assert.Equal(["a", "b", "c", "d"], (await runner.RunAsync(new ModelRequest(ModelTensor.Create("s", s.AsMemory(), 2, 2))))["o"].As<string>().Span.ToArray());
    }
}
