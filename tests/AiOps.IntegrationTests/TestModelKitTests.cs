using AiOps.TestModels;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.IntegrationTests;

/// <summary>The kit's models load in ONNX Runtime and answer what their weights imply.</summary>
public sealed class TestModelKitTests
{
    private static float Sigmoid(double z) => (float)(1 / (1 + Math.Exp(-z)));

    [Fact]
    public void FixedShape_RunInOnnxRuntime_GivesHandComputedSigmoids()
    {
        using var session = new InferenceSession(TestModels.TestModels.FixedShape());
        using var x = OrtValue.CreateTensorValueFromMemory(new float[] { 1, 2, 3, 0, 0, 0 }, [2, 3]);
        using var outputs = session.Run(new RunOptions(), ["x"], [x], ["y"]);
        var y = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        // x·W + b = [[1 + 3, 2 - 3 + 0.5], [0, 0.5]] = [[4, -0.5], [0, 0.5]]
        Assert.Equal([Sigmoid(4), Sigmoid(-0.5), 0.5f, Sigmoid(0.5)], y, new ToleranceComparer(1e-6f));
        Assert.Equal([2L, 2L], outputs[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void Classifier_Metadata_HasDynamicBatchAndDeclaredSizes()
    {
        using var session = new InferenceSession(TestModels.TestModels.Classifier(1).ToOnnx());
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(ClassifierModel.InputName, input.Key);
        Assert.Equal([-1, 4], input.Value.Dimensions);
        Assert.Equal("batch", input.Value.SymbolicDimensions[0]);
        var output = Assert.Single(session.OutputMetadata);
        Assert.Equal(ClassifierModel.OutputName, output.Key);
        Assert.Equal([-1, 3], output.Value.Dimensions);
        Assert.Equal("classifier", session.ModelMetadata.CustomMetadataMap["aiops.test_model"]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Classifier_RunInOnnxRuntime_MatchesManagedForwardPass(int version)
    {
        var model = TestModels.TestModels.Classifier(version);
        using var session = new InferenceSession(model.ToOnnx());
        var features = TestModels.TestModels.Features(5);
        using var x = OrtValue.CreateTensorValueFromMemory(features, [5, 4]);
        using var outputs = session.Run(new RunOptions(), [ClassifierModel.InputName], [x], [ClassifierModel.OutputName]);
        var probabilities = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        Assert.Equal(model.Predict(features), probabilities, new ToleranceComparer(1e-5f));
        for (var r = 0; r < 5; r++)
        {
            Assert.Equal(1f, probabilities.AsSpan(r * 3, 3).ToArray().Sum(), 5);
        }
    }

    [Fact]
    public void Classifier_Versions_ShareSignatureButDiffer()
    {
        var v1 = TestModels.TestModels.Classifier(1);
        var v2 = TestModels.TestModels.Classifier(2);
        var features = TestModels.TestModels.Features(3);
        Assert.NotEqual(v1.Predict(features), v2.Predict(features));
        Assert.Equal(v1.ToOnnx(), TestModels.TestModels.Classifier(1).ToOnnx());
    }

    [Fact]
    public void ManagedForwardPass_TinyHandModel_MatchesArithmetic()
    {
        // Cross-check Predict itself: with 1 input, 1 hidden unit and 2 classes the numbers are easy by hand.
        var m = TestModels.TestModels.Classifier(1, inputSize: 1, hidden: 1, classes: 2);
        var h = Math.Max(0, (2.0 * m.W1[0]) + m.B1[0]);
        var l0 = (h * m.W2[0]) + m.B2[0];
        var l1 = (h * m.W2[1]) + m.B2[1];
        var p0 = Math.Exp(l0) / (Math.Exp(l0) + Math.Exp(l1));
        Assert.Equal((float)p0, m.Predict([2f])[0], 6);
    }

    [Fact]
    public void MultiInput_RunInOnnxRuntime_AddsAndPassesIdsThrough()
    {
        using var session = new InferenceSession(TestModels.TestModels.MultiInput());
        using var a = OrtValue.CreateTensorValueFromMemory(new float[] { 1, 2, 3 }, [1, 3]);
        using var b = OrtValue.CreateTensorValueFromMemory(new float[] { 10, 20, 30 }, [1, 3]);
        using var ids = OrtValue.CreateTensorValueFromMemory(new long[] { 77 }, [1]);
        using var outputs = session.Run(new RunOptions(), ["a", "b", "ids"], [a, b, ids], ["sum", "ids_out"]);
        Assert.Equal([11f, 22f, 33f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
        Assert.Equal([77L], outputs[1].GetTensorDataAsSpan<long>().ToArray());
    }

    [Fact]
    public void Corrupt_LoadInOnnxRuntime_Throws()
    {
        Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(TestModels.TestModels.Corrupt()));
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
