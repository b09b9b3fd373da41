namespace AiOps.Abstractions.Tests;

public sealed class ModelIdentityTests
{
    [Theory]
    [InlineData("fraud")]
    [InlineData("model_resnet18")]
    [InlineData("a.b-c_d")]
    [InlineData("9lives")]
    public void ModelId_ValidName_RoundTrips(string name)
    {
        var id = new ModelId(name);
        Assert.Equal(name, id.Value);
        Assert.Equal(name, id.ToString());
        Assert.Equal(id, ModelId.Parse(name));
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("Fraud", "start with a lower-case")]
    [InlineData("../etc", "start with a lower-case")]
    [InlineData("a/b", "contains '/'")]
    [InlineData("a..b", "'..'")]
    [InlineData("fraud detector", "contains ' '")]
    public void ModelId_InvalidName_ThrowsNamingTheRule(string name, string expectedFragment)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ModelId(name));
        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelId_TooLong_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ModelId(new string('a', 65)));
        Assert.Contains("at most 64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelId_Default_ValueThrowsInsteadOfReturningNull()
    {
        Assert.Throws<InvalidOperationException>(() => default(ModelId).Value);
    }

    [Theory]
    [InlineData("2.10", "2.9", 1)]
    [InlineData("2.1", "2.1.0", 0)]
    [InlineData("10", "9", 1)]
    [InlineData("2.1-rc1", "2.1", -1)]
    [InlineData("2.1-rc1", "2.1-rc2", -1)]
    [InlineData("1.a", "1.b", -1)]
    public void ModelVersion_CompareTo_OrdersNumericallyWithPreReleasesFirst(string a, string b, int expectedSign)
    {
        Assert.Equal(expectedSign, Math.Sign(new ModelVersion(a).CompareTo(new ModelVersion(b))));
        Assert.Equal(-expectedSign, Math.Sign(new ModelVersion(b).CompareTo(new ModelVersion(a))));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../1")]
    [InlineData("1/2")]
    [InlineData(".1")]
    public void ModelVersion_Invalid_Throws(string value)
    {
        Assert.Throws<ArgumentException>(() => new ModelVersion(value));
    }

    [Fact]
    public void ModelKey_ToString_IsModelColonVersion()
    {
        Assert.Equal("fraud:2", new ModelKey("fraud", "2").ToString());
    }

    [Fact]
    public void ModelKey_Order_ByModelThenVersion()
    {
        ModelKey[] keys = [new("fraud", "10"), new("churn", "3"), new("fraud", "2"), new("fraud", "2.1-rc1")];

        Assert.Equal(["churn:3", "fraud:2", "fraud:2.1-rc1", "fraud:10"], keys.Order().Select(k => k.ToString()));
        Assert.True(new ModelKey("fraud", "2") < new ModelKey("fraud", "10"));
        Assert.True(new ModelKey("churn", "9") <= new ModelKey("fraud", "1"));
        Assert.Equal(0, new ModelKey("fraud", "2").CompareTo(new ModelKey("fraud", "2")));
    }
}
