namespace AiOps.TestModels;

/// <summary>
/// A two-layer classifier MLP: <c>probabilities = Softmax(Relu(features · W1 + b1) · W2 + b2)</c>, with a dynamic batch
/// dimension (<c>features: float[batch, InputSize]</c>, <c>probabilities: float[batch, Classes]</c>). Weights are
/// generated deterministically from the version number, so version 1 and version 2 share a signature but answer
/// differently. <see cref="Predict"/> is the same computation in managed code, for expected values.
/// </summary>
public sealed class ClassifierModel
{
    /// <summary>The input name.</summary>
    public const string InputName = "features";

    /// <summary>The output name.</summary>
    public const string OutputName = "probabilities";

    internal ClassifierModel(int version, int inputSize, int hidden, int classes)
    {
        Version = version;
        InputSize = inputSize;
        Hidden = hidden;
        Classes = classes;
        var rng = new DeterministicRandom((ulong)version * 7919UL + (ulong)inputSize * 31UL + (ulong)hidden);
        W1 = rng.NextArray(inputSize * hidden, 1f / MathF.Sqrt(inputSize));
        B1 = rng.NextArray(hidden, 0.1f);
        W2 = rng.NextArray(hidden * classes, 1f / MathF.Sqrt(hidden));
        B2 = rng.NextArray(classes, 0.1f);
    }

    /// <summary>The version the weights were generated for.</summary>
    public int Version { get; }

    /// <summary>Features per row.</summary>
    public int InputSize { get; }

    /// <summary>Hidden units.</summary>
    public int Hidden { get; }

    /// <summary>Output classes.</summary>
    public int Classes { get; }

    /// <summary>First layer weights, [InputSize, Hidden] row-major.</summary>
    public float[] W1 { get; }

    /// <summary>First layer bias, [Hidden].</summary>
    public float[] B1 { get; }

    /// <summary>Second layer weights, [Hidden, Classes] row-major.</summary>
    public float[] W2 { get; }

    /// <summary>Second layer bias, [Classes].</summary>
    public float[] B2 { get; }

    /// <summary>Serialises the model to ONNX bytes.</summary>
    public byte[] ToOnnx() =>
        new OnnxModelBuilder($"classifier_v{Version}")
            .AddInput(InputName, OnnxDataType.Float, "batch", InputSize)
            .AddOutput(OutputName, OnnxDataType.Float, "batch", Classes)
            .AddInitializer("W1", W1, InputSize, Hidden)
            .AddInitializer("B1", B1, Hidden)
            .AddInitializer("W2", W2, Hidden, Classes)
            .AddInitializer("B2", B2, Classes)
            .AddNode("MatMul", [InputName, "W1"], ["h0"])
            .AddNode("Add", ["h0", "B1"], ["h1"])
            .AddNode("Relu", ["h1"], ["h2"])
            .AddNode("MatMul", ["h2", "W2"], ["l0"])
            .AddNode("Add", ["l0", "B2"], ["logits"])
            .AddNode("Softmax", ["logits"], [OutputName], new Dictionary<string, long> { ["axis"] = -1 })
            .AddMetadata("aiops.test_model", "classifier")
            .AddMetadata("aiops.version", Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Build();

    /// <summary>Writes the model to <paramref name="path"/> and returns the path.</summary>
    /// <param name="path">The file to write.</param>
    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, ToOnnx());
        return path;
    }

    /// <summary>Computes the probabilities for a batch of rows in managed code (double accumulation).</summary>
    /// <param name="features">[rows, InputSize] row-major.</param>
    /// <returns>[rows, Classes] row-major.</returns>
    public float[] Predict(ReadOnlySpan<float> features)
    {
        if (features.Length % InputSize != 0)
        {
            throw new ArgumentException($"Expected a multiple of {InputSize} features, got {features.Length}.", nameof(features));
        }

        var rows = features.Length / InputSize;
        var result = new float[rows * Classes];
        var hidden = new double[Hidden];
        var logits = new double[Classes];
        for (var r = 0; r < rows; r++)
        {
            var x = features.Slice(r * InputSize, InputSize);
            for (var h = 0; h < Hidden; h++)
            {
                double s = B1[h];
                for (var i = 0; i < InputSize; i++)
                {
                    s += x[i] * (double)W1[(i * Hidden) + h];
                }

                hidden[h] = Math.Max(0, s);
            }

            var max = double.NegativeInfinity;
            for (var c = 0; c < Classes; c++)
            {
                double s = B2[c];
                for (var h = 0; h < Hidden; h++)
                {
                    s += hidden[h] * W2[(h * Classes) + c];
                }

                logits[c] = s;
                max = Math.Max(max, s);
            }

            double sum = 0;
            for (var c = 0; c < Classes; c++)
            {
                logits[c] = Math.Exp(logits[c] - max);
                sum += logits[c];
            }

            for (var c = 0; c < Classes; c++)
            {
                result[(r * Classes) + c] = (float)(logits[c] / sum);
            }
        }

        return result;
    }
}

/// <summary>Factory for the kit's models.</summary>
public static class TestModels
{
    /// <summary>The classifier MLP; different <paramref name="version"/>s have different weights and the same signature.</summary>
    /// <param name="version">1, 2, … (the weights' seed).</param>
    /// <param name="inputSize">Features per row (4 by default).</param>
    /// <param name="hidden">Hidden units (8 by default).</param>
    /// <param name="classes">Classes (3 by default).</param>
    public static ClassifierModel Classifier(int version = 1, int inputSize = 4, int hidden = 8, int classes = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        return new ClassifierModel(version, inputSize, hidden, classes);
    }

    /// <summary>
    /// A fixed-shape model with hand-picked weights: <c>y = Sigmoid(x · W + b)</c> with <c>x: float[2, 3]</c>,
    /// <c>W = [[1, 0], [0, 1], [1, -1]]</c>, <c>b = [0, 0.5]</c>, <c>y: float[2, 2]</c>. For x = [[1, 2, 3], [0, 0, 0]]:
    /// y = [[σ(4), σ(-0.5)], [σ(0), σ(0.5)]].
    /// </summary>
    public static byte[] FixedShape() =>
        new OnnxModelBuilder("fixed_shape")
            .AddInput("x", OnnxDataType.Float, 2, 3)
            .AddOutput("y", OnnxDataType.Float, 2, 2)
            .AddInitializer("W", [1f, 0f, 0f, 1f, 1f, -1f], 3, 2)
            .AddInitializer("b", [0f, 0.5f], 2)
            .AddNode("MatMul", ["x", "W"], ["xw"])
            .AddNode("Add", ["xw", "b"], ["z"])
            .AddNode("Sigmoid", ["z"], ["y"])
            .Build();

    /// <summary>
    /// A model with two float inputs and one int64 input, for input-validation tests:
    /// <c>sum = a + b</c> (<c>a, b: float[batch, 3]</c>) and <c>ids_out = Identity(ids)</c> (<c>ids: int64[batch]</c>).
    /// </summary>
    public static byte[] MultiInput() =>
        new OnnxModelBuilder("multi_input")
            .AddInput("a", OnnxDataType.Float, "batch", 3)
            .AddInput("b", OnnxDataType.Float, "batch", 3)
            .AddInput("ids", OnnxDataType.Int64, "batch")
            .AddOutput("sum", OnnxDataType.Float, "batch", 3)
            .AddOutput("ids_out", OnnxDataType.Int64, "batch")
            .AddNode("Add", ["a", "b"], ["sum"])
            .AddNode("Identity", ["ids"], ["ids_out"])
            .Build();

    /// <summary>
    /// Identity over an unsigned 16-, 32- and 64-bit input each, with a shared batch: <c>o16 = u16</c>,
    /// <c>o32 = u32</c>, <c>o64 = u64</c> (each <c>[batch, 2]</c>).
    /// </summary>
    public static byte[] UnsignedIdentity() =>
        new OnnxModelBuilder("uints")
            .AddInput("u16", OnnxDataType.UInt16, "batch", 2)
            .AddInput("u32", OnnxDataType.UInt32, "batch", 2)
            .AddInput("u64", OnnxDataType.UInt64, "batch", 2)
            .AddOutput("o16", OnnxDataType.UInt16, "batch", 2)
            .AddOutput("o32", OnnxDataType.UInt32, "batch", 2)
            .AddOutput("o64", OnnxDataType.UInt64, "batch", 2)
            .AddNode("Identity", ["u16"], ["o16"])
            .AddNode("Identity", ["u32"], ["o32"])
            .AddNode("Identity", ["u64"], ["o64"])
            .Build();

    /// <summary>
    /// Half-precision identity and add: <c>y = Identity(a)</c>, <c>sum = Add(a, b)</c> with
    /// <c>a, b, y, sum: float16[batch, 3]</c>.
    /// </summary>
    public static byte[] Float16IdentityAdd() =>
        new OnnxModelBuilder("fp16_identity_add")
            .AddInput("a", OnnxDataType.Float16, "batch", 3)
            .AddInput("b", OnnxDataType.Float16, "batch", 3)
            .AddOutput("y", OnnxDataType.Float16, "batch", 3)
            .AddOutput("sum", OnnxDataType.Float16, "batch", 3)
            .AddNode("Identity", ["a"], ["y"])
            .AddNode("Add", ["a", "b"], ["sum"])
            .Build();

    /// <summary>bfloat16 identity: <c>y = Identity(x)</c> with <c>x, y: bfloat16[batch, 2]</c>.</summary>
    public static byte[] BFloat16Identity() =>
        new OnnxModelBuilder("bf16_identity")
            .AddInput("x", OnnxDataType.BFloat16, "batch", 2)
            .AddOutput("y", OnnxDataType.BFloat16, "batch", 2)
            .AddNode("Identity", ["x"], ["y"])
            .Build();

    /// <summary>
    /// Shaped like a real fp16 export that keeps float32 inputs (onnxconverter-common's <c>keep_io_types</c>):
    /// <c>x: float[batch, 4]</c> is cast to float16, multiplied by float16 weights <c>W: [4, 2]</c> = [[1, 2], [3, 4],
    /// [5, 6], [7, 8]] / 8 and added to float16 <c>b = [0.5, -0.25]</c>; <c>y16: float16[batch, 2]</c> is that result and
    /// <c>y: float[batch, 2]</c> the same cast back to float32.
    /// </summary>
    public static byte[] Float16Export() =>
        new OnnxModelBuilder("fp16_export")
            .AddInput("x", OnnxDataType.Float, "batch", 4)
            .AddOutput("y", OnnxDataType.Float, "batch", 2)
            .AddOutput("y16", OnnxDataType.Float16, "batch", 2)
            .AddInitializer("W", new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f }.Select(v => (Half)(v / 8)).ToArray(), 4, 2)
            .AddInitializer("b", [(Half)0.5f, (Half)(-0.25f)], 2)
            .AddNode("Cast", ["x"], ["x16"], new Dictionary<string, long> { ["to"] = (long)OnnxDataType.Float16 })
            .AddNode("MatMul", ["x16", "W"], ["xw"])
            .AddNode("Add", ["xw", "b"], ["y16"])
            .AddNode("Cast", ["y16"], ["y"], new Dictionary<string, long> { ["to"] = (long)OnnxDataType.Float })
            .Build();

    /// <summary>String identity: <c>o = Identity(s)</c> with <c>s, o: string[batch, 2]</c>.</summary>
    public static byte[] StringIdentity() =>
        new OnnxModelBuilder("string_identity")
            .AddInput("s", OnnxDataType.String, "batch", 2)
            .AddOutput("o", OnnxDataType.String, "batch", 2)
            .AddNode("Identity", ["s"], ["o"])
            .Build();

    /// <summary>
    /// A string-to-id encoder (ai.onnx.ml LabelEncoder, as a vocabulary lookup): <c>ids = LabelEncoder(words)</c> with
    /// <c>words: string[batch]</c>, <c>ids: int64[batch]</c>, keys <c>cat, dog, émeu</c> to 0, 1, 2 and -1 for any other word.
    /// </summary>
    public static byte[] StringLabelEncoder() =>
        new OnnxModelBuilder("label_encoder")
            .AddOpset("ai.onnx.ml", 3)
            .AddInput("words", OnnxDataType.String, "batch")
            .AddOutput("ids", OnnxDataType.Int64, "batch")
            .AddNode("LabelEncoder", "ai.onnx.ml", ["words"], ["ids"], new Dictionary<string, object>
            {
                ["keys_strings"] = new[] { "cat", "dog", "émeu" },
                ["values_int64s"] = new[] { 0L, 1L, 2L },
                ["default_int64"] = -1L,
            })
            .Build();

    /// <summary>The coefficients (3 classes × 4 features, row-major) of <see cref="SklearnClassifier"/>.</summary>
    public static readonly float[] SklearnCoefficients = [0.5f, -1f, 0.25f, 2f, -0.75f, 0.5f, 1.5f, -1f, 0.25f, 0.5f, -1.75f, -1f];

    /// <summary>The intercepts (one per class) of <see cref="SklearnClassifier"/>.</summary>
    public static readonly float[] SklearnIntercepts = [0.1f, -0.2f, 0.05f];

    /// <summary>
    /// Shaped like skl2onnx's export of a scikit-learn linear classifier with its defaults (ZipMap on):
    /// <c>float_input: float[N, 4]</c> → ai.onnx.ml <c>LinearClassifier</c> (<see cref="SklearnCoefficients"/>,
    /// <see cref="SklearnIntercepts"/>, softmax) → <c>output_label</c> (int64[N], classes 0, 1, 2; or string[N],
    /// classes "setosa", "versicolor", "virginica" when <paramref name="stringLabels"/>) and <c>output_probability</c>, a
    /// <c>seq(map(int64 | string, float))</c> from ZipMap. The batch dimension is unnamed, as skl2onnx writes it.
    /// </summary>
    /// <param name="stringLabels">String class labels (classlabels_strings) instead of int64 ones.</param>
    public static byte[] SklearnClassifier(bool stringLabels = false)
    {
        var classifier = new Dictionary<string, object>
        {
            ["coefficients"] = SklearnCoefficients,
            ["intercepts"] = SklearnIntercepts,
            ["multi_class"] = 0L,
            ["post_transform"] = "SOFTMAX",
        };
        var zipMap = new Dictionary<string, object>();
        if (stringLabels)
        {
            classifier["classlabels_strings"] = SklearnStringLabels;
            zipMap["classlabels_strings"] = SklearnStringLabels;
        }
        else
        {
            classifier["classlabels_ints"] = new[] { 0L, 1L, 2L };
            zipMap["classlabels_int64s"] = new[] { 0L, 1L, 2L };
        }

        return new OnnxModelBuilder(stringLabels ? "sklearn_linear_string_labels" : "sklearn_linear", opset: 15)
            .AddOpset("ai.onnx.ml", 1)
            .AddInput("float_input", OnnxDataType.Float, null, 4)
            .AddOutput("output_label", stringLabels ? OnnxDataType.String : OnnxDataType.Int64, [null])
            .AddSequenceOfMapsOutput("output_probability", stringLabels ? OnnxDataType.String : OnnxDataType.Int64, OnnxDataType.Float)
            .AddNode("LinearClassifier", "ai.onnx.ml", ["float_input"], ["output_label", "probability_tensor"], classifier)
            .AddNode("ZipMap", "ai.onnx.ml", ["probability_tensor"], ["output_probability"], zipMap)
            .Build();
    }

    /// <summary>The class labels of <see cref="SklearnClassifier"/> with string labels.</summary>
    public static readonly string[] SklearnStringLabels = ["setosa", "versicolor", "virginica"];

    /// <summary>
    /// An audio front-end whose Conv needs a minimum length: <c>features = Conv(audio, W)</c> with
    /// <c>audio: float[batch, 1, samples]</c> and a 400-tap averaging kernel, so <c>samples</c> must be at least 400
    /// (generated warm-up with free dimensions 1 is refused by the graph).
    /// </summary>
    public static byte[] AudioConv() =>
        new OnnxModelBuilder("audio_conv")
            .AddInput("audio", OnnxDataType.Float, "batch", 1, "samples")
            .AddOutput("features", OnnxDataType.Float, "batch", 1, "frames")
            .AddInitializer("W", Enumerable.Repeat(1f / 400, 400).ToArray(), 1, 1, 400)
            .AddNode("Conv", ["audio", "W"], ["features"])
            .Build();

    /// <summary>
    /// Reflect padding plus an int64 sample-rate scalar: <c>padded = Pad(audio, [0, 4, 0, 4], mode = reflect)</c>
    /// (<c>audio: float[batch, samples]</c>, so <c>samples</c> must exceed 4) and <c>ticks = Range(0, 48000, sample_rate)</c>
    /// (<c>sample_rate: int64</c> scalar, which must not be 0).
    /// </summary>
    public static byte[] PadReflectWithRate() =>
        new OnnxModelBuilder("pad_reflect")
            .AddInput("audio", OnnxDataType.Float, "batch", "samples")
            .AddInput("sample_rate", OnnxDataType.Int64)
            .AddOutput("padded", OnnxDataType.Float, "batch", "padded_samples")
            .AddOutput("ticks", OnnxDataType.Int64, "ticks")
            .AddInitializer("pads", [0L, 4L, 0L, 4L], 4)
            .AddInitializer("start", [0L])
            .AddInitializer("limit", [48000L])
            .AddNode("Pad", ["audio", "pads"], ["padded"], null, new Dictionary<string, string> { ["mode"] = "reflect" })
            .AddNode("Range", ["start", "limit", "sample_rate"], ["ticks"])
            .Build();

    /// <summary>
    /// A model whose weights are external data: <c>y = x · W</c> with <c>x: float[batch, 4]</c> and
    /// <c>W: float[4, 2]</c> = [[1, 2], [3, 4], [5, 6], [7, 8]] stored in <paramref name="location"/> next to the model.
    /// </summary>
    /// <param name="location">The weights file, relative to the model's folder.</param>
    public static OnnxModelBuilder ExternalWeights(string location = "weights.bin") =>
        new OnnxModelBuilder("external_weights")
            .AddInput("x", OnnxDataType.Float, "batch", 4)
            .AddOutput("y", OnnxDataType.Float, "batch", 2)
            .AddExternalInitializer("W", [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], location, 4, 2)
            .AddNode("MatMul", ["x", "W"], ["y"]);

    /// <summary>
    /// A tf2onnx-style export: each tensor's batch has its own symbol (<c>unk__314</c> on the input, <c>unk__315</c> on
    /// the output), and a shared scalar rides along: <c>y = x * scale</c> (<c>x: float[unk__314, 4]</c>,
    /// <c>scale: float</c> scalar, <c>y: float[unk__315, 4]</c>) and <c>scale_used = Identity(scale)</c> (a scalar output).
    /// </summary>
    public static byte[] Tf2OnnxScaled() =>
        new OnnxModelBuilder("tf2onnx_scaled")
            .AddInput("x", OnnxDataType.Float, "unk__314", 4)
            .AddInput("scale", OnnxDataType.Float)
            .AddOutput("y", OnnxDataType.Float, "unk__315", 4)
            .AddOutput("scale_used", OnnxDataType.Float)
            .AddNode("Mul", ["x", "scale"], ["y"])
            .AddNode("Identity", ["scale"], ["scale_used"])
            .AddMetadata("producer_hint", "tf2onnx")
            .Build();

    /// <summary>
    /// One step of a recurrent cell as a PyTorch GRU/LSTM export has it, with its state as inputs and outputs:
    /// <c>h_out = Tanh(x · W + h_in · U)</c>, <c>c_out = c_in + h_out</c>, <c>y = h_out · V</c>
    /// (<c>x: float[batch, 3]</c>, <c>h_in, c_in, h_out, c_out: float[batch, 4]</c>, <c>y: float[batch, 2]</c>).
    /// </summary>
    public static byte[] RecurrentCell()
    {
        var rng = new DeterministicRandom(0x5EED);
        return new OnnxModelBuilder("recurrent_cell")
            .AddInput("x", OnnxDataType.Float, "batch", 3)
            .AddInput("h_in", OnnxDataType.Float, "batch", 4)
            .AddInput("c_in", OnnxDataType.Float, "batch", 4)
            .AddOutput("y", OnnxDataType.Float, "batch", 2)
            .AddOutput("h_out", OnnxDataType.Float, "batch", 4)
            .AddOutput("c_out", OnnxDataType.Float, "batch", 4)
            .AddInitializer("W", rng.NextArray(12, 0.8f), 3, 4)
            .AddInitializer("U", rng.NextArray(16, 0.8f), 4, 4)
            .AddInitializer("V", rng.NextArray(8, 1f), 4, 2)
            .AddNode("MatMul", ["x", "W"], ["xw"])
            .AddNode("MatMul", ["h_in", "U"], ["hu"])
            .AddNode("Add", ["xw", "hu"], ["z"])
            .AddNode("Tanh", ["z"], ["h_out"])
            .AddNode("Add", ["c_in", "h_out"], ["c_out"])
            .AddNode("MatMul", ["h_out", "V"], ["y"])
            .Build();
    }

    /// <summary>
    /// A chain of <paramref name="layers"/> MatMuls, each <c>[rows, size] · [size, size]</c>: with one layer, one slow
    /// operator (ONNX Runtime checks a run's terminate flag only between operators); with several, the same work cut
    /// into shorter operators. <c>x: float[rows, size]</c>, <c>y: float[rows, size]</c>.
    /// </summary>
    /// <param name="size">The width of each layer.</param>
    /// <param name="layers">How many MatMuls (1 or more).</param>
    public static byte[] MatMulChain(int size, int layers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        var rng = new DeterministicRandom((ulong)size * 131 + (ulong)layers);
        var builder = new OnnxModelBuilder("matmul_chain")
            .AddInput("x", OnnxDataType.Float, "rows", size)
            .AddOutput("y", OnnxDataType.Float, "rows", size);
        var previous = "x";
        for (var l = 0; l < layers; l++)
        {
            var next = l == layers - 1 ? "y" : $"h{l}";
            builder.AddInitializer($"W{l}", rng.NextArray(size * size, 1f / MathF.Sqrt(size)), size, size)
                .AddNode("MatMul", [previous, $"W{l}"], [next]);
            previous = next;
        }

        return builder.Build();
    }

    /// <summary>A deliberately corrupt model file: a valid classifier's first bytes followed by garbage.</summary>
    public static byte[] Corrupt()
    {
        var valid = Classifier().ToOnnx();
        var bytes = new byte[valid.Length];
        Array.Copy(valid, bytes, valid.Length / 3);
        var rng = new DeterministicRandom(0xC0FFEE);
        for (var i = valid.Length / 3; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(rng.NextUInt64() & 0xFF);
        }

        return bytes;
    }

    /// <summary>Deterministic feature rows in [-2, 2) for tests and benchmarks.</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="inputSize">Features per row.</param>
    /// <param name="seed">The seed.</param>
    public static float[] Features(int rows, int inputSize = 4, ulong seed = 42)
    {
        var rng = new DeterministicRandom(seed);
        var data = new float[rows * inputSize];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (rng.NextFloat() * 4f) - 2f;
        }

        return data;
    }

    /// <summary>Writes every kit model into <paramref name="directory"/> and returns the paths by name.</summary>
    /// <param name="directory">The folder (created if missing).</param>
    public static IReadOnlyDictionary<string, string> WriteAll(string directory)
    {
        Directory.CreateDirectory(directory);
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["classifier_v1"] = Path.Combine(directory, "classifier_v1.onnx"),
            ["classifier_v2"] = Path.Combine(directory, "classifier_v2.onnx"),
            ["fixed_shape"] = Path.Combine(directory, "fixed_shape.onnx"),
            ["multi_input"] = Path.Combine(directory, "multi_input.onnx"),
            ["corrupt"] = Path.Combine(directory, "corrupt.onnx"),
        };
        Classifier(1).WriteTo(files["classifier_v1"]);
        Classifier(2).WriteTo(files["classifier_v2"]);
        File.WriteAllBytes(files["fixed_shape"], FixedShape());
        File.WriteAllBytes(files["multi_input"], MultiInput());
        File.WriteAllBytes(files["corrupt"], Corrupt());
        return files;
    }
}

/// <summary>SplitMix64: fixed output for a seed on every platform and runtime version.</summary>
internal sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public float NextFloat() => (NextUInt64() >> 40) / (float)(1UL << 24);

    /// <summary>Uniform in [-scale, scale).</summary>
    public float[] NextArray(int length, float scale)
    {
        var a = new float[length];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = ((NextFloat() * 2f) - 1f) * scale;
        }

        return a;
    }
}
