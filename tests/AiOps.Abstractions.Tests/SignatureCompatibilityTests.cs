namespace AiOps.Abstractions.Tests;

public sealed class SignatureCompatibilityTests
{
    private static ModelMetadata Sig(TensorSpec[] inputs, TensorSpec[] outputs) => new(inputs, outputs);

    private static TensorSpec F(string name, params long[] dims) => new(name, TensorElementType.Float32, dims);

    private static readonly ModelMetadata Stable = Sig([F("x", -1, 4)], [F("p", -1, 3)]);

    [Fact]
    public void CheckReplacement_SameSignatureOtherWeights_Compatible()
    {
        var result = Stable.CheckReplacement(Sig([F("x", -1, 4)], [F("p", -1, 3)]));

        Assert.True(result.IsCompatible);
        Assert.Empty(result.Problems);
        Assert.Equal("compatible", result.ToString());
    }

    [Fact]
    public void CheckReplacement_ExtraOutputOrFreedDimension_Compatible()
    {
        var result = Sig([F("x", 8, 4)], [F("p", 8, 3)]).CheckReplacement(Sig([F("x", -1, 4)], [F("p", -1, 3), F("label", -1)]));

        Assert.True(result.IsCompatible, result.ToString());
    }

    [Theory]
    [InlineData("renamed input", "input 'x' (Float32[-1, 4]) is missing from the replacement (it has 'features')")]
    [InlineData("new required input", "the replacement requires input 'mask' (Float32[-1, 4]) that callers of the current version do not send")]
    [InlineData("wider input", "input 'x' dimension 1 is 4 today but 5 in the replacement")]
    [InlineData("batch fixed", "input 'x' dimension 0 accepts any size today but only 1 in the replacement")]
    [InlineData("other type", "input 'x' is Float32 today but Float64 in the replacement")]
    [InlineData("other rank", "input 'x' has 2 dimensions [-1, 4] today but 3 [-1, 4, 1] in the replacement")]
    [InlineData("missing output", "output 'p' (Float32[-1, 3]) is missing from the replacement (it has 'probabilities')")]
    [InlineData("output size", "output 'p' dimension 1 is 3 today but 2 in the replacement")]
    public void CheckReplacement_BreakingChange_NamesTheProblem(string change, string expected)
    {
        var replacement = change switch
        {
            "renamed input" => Sig([F("features", -1, 4)], [F("p", -1, 3)]),
            "new required input" => Sig([F("x", -1, 4), F("mask", -1, 4)], [F("p", -1, 3)]),
            "wider input" => Sig([F("x", -1, 5)], [F("p", -1, 3)]),
            "batch fixed" => Sig([F("x", 1, 4)], [F("p", -1, 3)]),
            "other type" => Sig([new TensorSpec("x", TensorElementType.Float64, [-1, 4])], [F("p", -1, 3)]),
            "other rank" => Sig([F("x", -1, 4, 1)], [F("p", -1, 3)]),
            "missing output" => Sig([F("x", -1, 4)], [F("probabilities", -1, 3)]),
            "output size" => Sig([F("x", -1, 4)], [F("p", -1, 2)]),
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };

        var result = Stable.CheckReplacement(replacement);

        Assert.False(result.IsCompatible);
        Assert.Contains(expected, result.Problems);
    }

    [Fact]
    public void CheckReplacement_UnloadedVersion_NeverCompatible()
    {
        var unknown = Sig([], []);

        Assert.False(Stable.CheckReplacement(unknown).IsCompatible);
        Assert.Contains("replacement's signature is unknown", Stable.CheckReplacement(unknown).ToString(), StringComparison.Ordinal);
        Assert.Contains("current version's signature is unknown", unknown.CheckReplacement(Stable).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckReplacement_Null_Throws() =>
        Assert.Throws<ArgumentNullException>(() => Stable.CheckReplacement(null!));
}
