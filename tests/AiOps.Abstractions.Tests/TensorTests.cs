namespace AiOps.Abstractions.Tests;

public sealed class TensorTests
{
    [Fact]
    public void Create_OverArray_SharesMemoryWithoutCopy()
    {
        var data = new float[] { 1, 2, 3, 4, 5, 6 };
        var t = ModelTensor.Create<float>("x", data, 2, 3);
        data[4] = 42;
        Assert.Equal(42, t.Span[4]);
        Assert.Equal(TensorElementType.Float32, t.ElementType);
        Assert.Equal(6, t.ElementCount);
        Assert.Equal(2, t.Rank);
        Assert.Equal("[2, 3]", t.FormatShape());
    }

    [Fact]
    public void Create_LengthMismatch_ThrowsNamingShapeAndCount()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelTensor.Create<float>("features", new float[5], 2, 3));
        Assert.Contains("'features'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("5 data elements", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NegativeDimension_Throws()
    {
        Assert.Throws<ArgumentException>(() => ModelTensor.Create<float>("x", new float[2], -1, 2));
    }

    [Fact]
    public void Create_UnsupportedElementType_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelTensor.Create<char>("x", new char[1], 1));
        Assert.Contains("Char", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void As_WrongType_ThrowsNamingBothTypes()
    {
        ModelTensor t = ModelTensor.Create<long>("ids", new long[1], 1);
        var ex = Assert.Throws<InvalidCastException>(() => t.As<float>());
        Assert.Contains("Int64", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Float32", ex.Message, StringComparison.Ordinal);
        Assert.Same(t, t.As<long>());
    }

    [Fact]
    public void ModelRequest_DuplicateNames_Throws()
    {
        var a = ModelTensor.Create<float>("a", new float[1], 1);
        var a2 = ModelTensor.Create<float>("a", new float[1], 1);
        var ex = Assert.Throws<ArgumentException>(() => new ModelRequest([a, a2]));
        Assert.Contains("'a' is given twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelRequest_Indexer_FindsByNameOrThrowsNamingIt()
    {
        var a = ModelTensor.Create<float>("a", new float[1], 1);
        var request = new ModelRequest(a) { RoutingKey = "user-1" };
        Assert.Same(a, request["a"]);
        var ex = Assert.Throws<KeyNotFoundException>(() => request["b"]);
        Assert.Contains("'b'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TensorSpec_DynamicFirstDimension_IsBatchable()
    {
        Assert.True(new TensorSpec("x", TensorElementType.Float32, [-1, 4]).HasDynamicBatch);
        Assert.False(new TensorSpec("x", TensorElementType.Float32, [2, 4]).HasDynamicBatch);
    }
}
