using System.Text.Json;

namespace AiOps.Abstractions.Tests;

public sealed class ModelIdentityJsonTests
{
    private sealed record Holder(ModelId Model, ModelVersion Version, ModelVersion? Canary);

    [Fact]
    public void Serialize_DefaultOptions_WritesTheStringForms()
    {
        var json = JsonSerializer.Serialize(new Holder(new ModelId("fraud"), new ModelVersion("2.1.0-rc1"), null));

        Assert.Equal("""{"Model":"fraud","Version":"2.1.0-rc1","Canary":null}""", json);
    }

    [Fact]
    public void Deserialize_StringForms_RoundTrips()
    {
        var holder = JsonSerializer.Deserialize<Holder>("""{"Model":"fraud","Version":"2","Canary":"3"}""")!;

        Assert.Equal((new ModelId("fraud"), new ModelVersion("2"), (ModelVersion?)new ModelVersion("3")), (holder.Model, holder.Version, holder.Canary));
    }

    [Fact]
    public void ModelKey_Serialize_NestsBothStringForms()
    {
        var json = JsonSerializer.Serialize(new ModelKey("fraud", new ModelVersion("2")));

        Assert.Equal("""{"Model":"fraud","Version":"2"}""", json);
        Assert.Equal(new ModelKey("fraud", new ModelVersion("2")), JsonSerializer.Deserialize<ModelKey>(json));
    }

    [Fact]
    public void Dictionary_KeyedByIdentity_UsesTheStringFormsAsPropertyNames()
    {
        var byModel = new Dictionary<ModelId, int> { [new ModelId("fraud")] = 1 };
        var byVersion = new Dictionary<ModelVersion, int> { [new ModelVersion("2.1")] = 2 };

        Assert.Equal("""{"fraud":1}""", JsonSerializer.Serialize(byModel));
        Assert.Equal("""{"2.1":2}""", JsonSerializer.Serialize(byVersion));
        Assert.Equal(1, JsonSerializer.Deserialize<Dictionary<ModelId, int>>("""{"fraud":1}""")![new ModelId("fraud")]);
        Assert.Equal(2, JsonSerializer.Deserialize<Dictionary<ModelVersion, int>>("""{"2.1":2}""")![new ModelVersion("2.1")]);
    }

    [Theory]
    [InlineData("""{"Model":"Fraud","Version":"1","Canary":null}""", "Expected a model name", "lower-case")]
    [InlineData("""{"Model":"a/b","Version":"1","Canary":null}""", "Expected a model name", "'/'")]
    [InlineData("""{"Model":"","Version":"1","Canary":null}""", "Expected a model name", "required")]
    [InlineData("""{"Model":42,"Version":"1","Canary":null}""", "Expected a model name", "Number")]
    [InlineData("""{"Model":"fraud","Version":"1/2","Canary":null}""", "Expected a model version", "'/'")]
    [InlineData("""{"Model":"fraud","Version":"1","Canary":""}""", "Expected a model version", "required")]
    [InlineData("""{"Model":"fraud","Version":{},"Canary":null}""", "Expected a model version", "StartObject")]
    public void Deserialize_InvalidValue_ThrowsJsonExceptionNamingTheExpectedForm(string json, string expected, string detail)
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Holder>(json));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_NullForNonNullableId_ThrowsJsonException()
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Holder>("""{"Model":null,"Version":"1","Canary":null}"""));

        Assert.Contains("Expected a model name", ex.Message, StringComparison.Ordinal);
    }
}
