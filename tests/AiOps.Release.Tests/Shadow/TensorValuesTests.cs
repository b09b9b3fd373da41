using AiOps.Release.Shadow;

namespace AiOps.Release.Tests.Shadow;

/// <summary>Shadow copies and comparisons for every element type a runner answers (the copy is taken on the caller's path).</summary>
public sealed class TensorValuesTests
{
    public static TheoryData<ModelTensor> Tensors() =>
    [
        ModelTensor.Create("u16", new ushort[] { 1, ushort.MaxValue }.AsMemory(), 2),
        ModelTensor.Create("u32", new uint[] { 1, uint.MaxValue }.AsMemory(), 2),
        ModelTensor.Create("u64", new ulong[] { 1, ulong.MaxValue }.AsMemory(), 2),
        ModelTensor.Create("h", new[] { (Half)1.5, Half.MaxValue }.AsMemory(), 2),
        ModelTensor.Create("b", new[] { (BFloat16)1.5f, BFloat16.MaxValue }.AsMemory(), 2),
        ModelTensor.Create("s", new[] { "a", "日本" }.AsMemory(), 2),
    ];

    [Theory]
    [MemberData(nameof(Tensors))]
    public void Clone_EveryElementType_CopiesTheCallersMemoryAndComparesEqual(ModelTensor tensor)
    {
        var copy = TensorValues.Clone(tensor);

        Assert.Equal(tensor.ElementType, copy.ElementType);
        Assert.Equal(tensor.Shape.ToArray(), copy.Shape.ToArray());
        Assert.True(TensorValues.Compare([tensor], [copy], 0).Match);
        Overwrite(tensor);
        Assert.False(TensorValues.Compare([tensor], [copy], 0).Match); // the copy kept the values the caller had
    }

    private static void Overwrite(ModelTensor tensor)
    {
        switch (tensor)
        {
            case ModelTensor<ushort> t: t.Span[0] = 7; break;
            case ModelTensor<uint> t: t.Span[0] = 7; break;
            case ModelTensor<ulong> t: t.Span[0] = 7; break;
            case ModelTensor<Half> t: t.Span[0] = (Half)7; break;
            case ModelTensor<BFloat16> t: t.Span[0] = (BFloat16)7f; break;
            case ModelTensor<string> t: t.Span[0] = "changed"; break;
        }
    }

    [Fact]
    public void Compare_StringsDiffer_NamesTheElement()
    {
        var (match, _, detail) = TensorValues.Compare(
            [ModelTensor.Create("s", new[] { "a", "b" }.AsMemory(), 2)],
            [ModelTensor.Create("s", new[] { "a", "B" }.AsMemory(), 2)],
            1.0);

        Assert.False(match);
        Assert.Equal("output 's' differs at string element 1", detail);
    }

    [Fact]
    public void Compare_ZipMapProbabilities_WithinToleranceMatchAndOtherKeysDoNot()
    {
        static ModelMapSequence<long, float> Maps(float p0, long secondKey) =>
            new("probabilities", [new Dictionary<long, float> { [0] = p0, [secondKey] = 1 - p0 }]);

        var close = TensorValues.Compare([Maps(0.25f, 1)], [Maps(0.2501f, 1)], 1e-3);
        var far = TensorValues.Compare([Maps(0.25f, 1)], [Maps(0.5f, 1)], 1e-3);
        var keys = TensorValues.Compare([Maps(0.25f, 1)], [Maps(0.25f, 2)], 1e-3);

        Assert.True(close.Match);
        Assert.Equal(0.0001, close.MaxAbsDifference, 1e-6);
        Assert.False(far.Match);
        Assert.Equal(0.25, far.MaxAbsDifference, 1e-6);
        Assert.False(keys.Match);
        Assert.Contains("keys of a map", keys.Detail, StringComparison.Ordinal);
        Assert.Same(Maps(0.25f, 1).GetType(), TensorValues.Clone(Maps(0.25f, 1)).GetType());
    }
}
