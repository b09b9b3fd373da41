using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Tests;

/// <summary>
/// Non-tensor outputs: a scikit-learn-style classifier (LinearClassifier + ZipMap, as skl2onnx exports it by default)
/// loads and answers its <c>seq(map)</c> probabilities as a <see cref="ModelMapSequence{TKey, TValue}"/>, the same as raw
/// ONNX Runtime's own map projection and the softmax of the linear scores.
/// </summary>
public sealed class MapSequenceOutputTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public MapSequenceOutputTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string Write(bool stringLabels)
    {
        var path = _files.NewPath($"sklearn-{stringLabels}-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Kit.SklearnClassifier(stringLabels));
        return path;
    }

    /// <summary>Softmax of <c>x · coefficientsᵀ + intercepts</c>, in double: the classifier's definition.</summary>
    private static double[] Reference(ReadOnlySpan<float> row)
    {
        var scores = new double[3];
        for (var c = 0; c < 3; c++)
        {
            scores[c] = Kit.SklearnIntercepts[c];
            for (var f = 0; f < 4; f++)
            {
                scores[c] += (double)row[f] * Kit.SklearnCoefficients[(c * 4) + f];
            }
        }

        var max = scores.Max();
        var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
        return exp.Select(e => e / exp.Sum()).ToArray();
    }

    /// <summary>Raw ONNX Runtime through its NamedOnnxValue projection (another code path than the runner's OrtValue reads).</summary>
    private static (T[] Labels, List<IDictionary<T, float>> Maps) Raw<T>(string path, float[] x, int rows)
        where T : notnull
    {
        using var session = new InferenceSession(path);
        var input = NamedOnnxValue.CreateFromTensor("float_input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, [rows, 4]));
        using var results = session.Run([input]);
        var labels = results.First(r => r.Name == "output_label").AsTensor<T>().ToArray();
        var maps = results.First(r => r.Name == "output_probability").AsEnumerable<NamedOnnxValue>().Select(v => v.AsDictionary<T, float>()).ToList();
        return (labels, maps);
    }

    [Fact]
    public async Task RunAsync_ZipMapWithInt64Labels_MapsEqualRawOnnxRuntimeAndTheSoftmax()
    {
        var path = Write(stringLabels: false);
        await using var runner = await _files.CreateAsync(path);
        var x = Kit.Features(5, seed: 11);

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("float_input", x.AsMemory(), 5, 4)));

        var spec = runner.Metadata.Outputs.Single(o => o.Name == "output_probability");
        Assert.Equal(TensorElementType.SequenceOfMaps, spec.ElementType);
        Assert.Equal(TensorElementType.Int64, spec.MapKeyType);
        Assert.Equal(TensorElementType.Float32, spec.MapValueType);
        Assert.Null(runner.Status.Reason); // generated warm-up ran
        var maps = response["output_probability"].AsMapSequence<long, float>();
        var (labels, rawMaps) = Raw<long>(path, x, 5);
        Assert.Equal(labels, response["output_label"].As<long>().Span.ToArray());
        Assert.Equal(5, maps.Count);
        for (var r = 0; r < 5; r++)
        {
            Assert.Equal(rawMaps[r].OrderBy(p => p.Key), maps[r].OrderBy(p => p.Key));
            var expected = Reference(x.AsSpan(r * 4, 4));
            for (var c = 0; c < 3; c++)
            {
                Assert.Equal(expected[c], maps[r][c], 1e-5);
            }

            Assert.Equal(Array.IndexOf(expected, expected.Max()), labels[r]);
        }
    }

    [Fact]
    public async Task RunAsync_ZipMapWithStringLabels_MapsKeyedByClassName()
    {
        var path = Write(stringLabels: true);
        await using var runner = await _files.CreateAsync(path);
        var x = Kit.Features(3, seed: 12);

        var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("float_input", x.AsMemory(), 3, 4)));

        var maps = response["output_probability"].AsMapSequence<string, float>();
        var (labels, rawMaps) = Raw<string>(path, x, 3);
        Assert.Equal(TensorElementType.String, runner.Metadata.Outputs.Single(o => o.Name == "output_probability").MapKeyType);
        Assert.Equal(labels, response["output_label"].As<string>().Span.ToArray());
        for (var r = 0; r < 3; r++)
        {
            Assert.Equal(Kit.SklearnStringLabels, maps[r].Keys.Order(StringComparer.Ordinal));
            Assert.Equal(rawMaps[r].OrderBy(p => p.Key, StringComparer.Ordinal), maps[r].OrderBy(p => p.Key, StringComparer.Ordinal));
            Assert.Equal(labels[r], maps[r].MaxBy(p => p.Value).Key);
        }

        var error = Assert.Throws<InvalidCastException>(() => response["output_probability"].AsMapSequence<long, float>());
        Assert.Contains("from String to Float32", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_ZipMapModelWithBatching_BatchedOnlyWithTheDeclaredBatchAxisAndEachCallerGetsItsRows(bool declared)
    {
        // skl2onnx leaves the batch dimension unnamed and the sequence has no dimension names at all: nothing says the
        // maps follow the rows unless the batch axis is declared.
        await using var runner = await _files.CreateAsync(Write(stringLabels: false), ModelFiles.CpuOptions(o =>
        {
            o.Batching.Enabled = true;
            o.Batching.MaxBatchSize = 16;
            o.Batching.MaxQueueDelay = TimeSpan.FromSeconds(1);
            o.Batching.AssumeFirstDimensionIsBatch = declared;
        }), Requests.FakeTime());
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        // Unbatched calls run on the caller's thread: every call starts on a pool thread so the held one blocks no other.
        var held = Task.Run(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("float_input", Kit.Features(1, seed: 1).AsMemory(), 1, 4))).AsTask());
        await gate.EnteredAsync();
        var inputs = Enumerable.Range(1, 3).Select(rows => Kit.Features(rows, seed: (ulong)(30 + rows))).ToArray();

        var calls = inputs.Select(x => Task.Run(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("float_input", x.AsMemory(), x.Length / 4, 4))).AsTask())).ToArray();
        if (declared)
        {
            while (runner.PendingCalls < 4) // the three are queued behind the held run
            {
                await Task.Yield();
            }
        }

        gate.Open();
        var responses = await Task.WhenAll(calls);
        await held;

        Assert.Equal(declared, runner.IsBatching);
        Assert.Equal(declared ? 2 : 4, gate.Runs); // stacked into one run, or one run per call
        for (var i = 0; i < inputs.Length; i++)
        {
            var maps = responses[i]["output_probability"].AsMapSequence<long, float>();
            Assert.Equal(i + 1, maps.Count);
            Assert.Equal([i + 1L], responses[i]["output_probability"].Shape.ToArray());
            for (var r = 0; r < maps.Count; r++)
            {
                var expected = Reference(inputs[i].AsSpan(r * 4, 4));
                Assert.Equal(expected[2], maps[r][2], 1e-5);
            }
        }
    }

    [Fact]
    public async Task LoadAsync_SequenceOfMapsInput_RefusedNamingTheTypeAndWhatIsAccepted()
    {
        var path = _files.NewPath($"seq-input-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, new OnnxModelBuilder("seq_input")
            .AddInput("x", OnnxDataType.Float, "batch", 2)
            .AddSequenceOfMapsInput("features", OnnxDataType.String, OnnxDataType.Float)
            .AddOutput("y", OnnxDataType.Float, "batch", 2)
            .AddNode("Identity", ["x"], ["y"])
            .Build());

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(path));

        Assert.Contains("Input 'features'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ONNX_TYPE_SEQUENCE", error.Message, StringComparison.Ordinal);
        Assert.Contains("as an output, a sequence of maps", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReloadAsync_ZipMapKeysChangeFromInt64ToString_RefusedAsIncompatible()
    {
        var path = Write(stringLabels: false);
        await using var runner = await _files.CreateAsync(path);
        File.WriteAllBytes(path, Kit.SklearnClassifier(stringLabels: true));

        var error = await Assert.ThrowsAsync<ModelSignatureMismatchException>(() => runner.ReloadAsync());

        Assert.Contains("output 'output_label' is Int64 today but String", error.Message, StringComparison.Ordinal);
        Assert.Contains("output 'output_probability' is a sequence of maps from Int64 to Float32 today but from String to Float32", error.Message, StringComparison.Ordinal);
    }
}
