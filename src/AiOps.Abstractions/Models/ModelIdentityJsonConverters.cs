using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiOps;

/// <summary>
/// Serialises a <see cref="ModelId"/> as its name (<c>"fraud"</c>), also as a dictionary key; reading refuses a value that is
/// not a valid model name with a <see cref="JsonException"/> that says what was expected. Applied to <see cref="ModelId"/>
/// through <see cref="JsonConverterAttribute"/>, so every serializer options instance uses it.
/// </summary>
public sealed class ModelIdJsonConverter : JsonConverter<ModelId>
{
    private const string Expected = "a model name (1 to 64 characters of a-z, 0-9, '-', '_' or '.', e.g. \"fraud\")";

    /// <inheritdoc />
    public override ModelId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(ref reader);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ModelId value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }

    /// <inheritdoc />
    public override ModelId ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(ref reader);

    /// <inheritdoc />
    public override void WriteAsPropertyName(Utf8JsonWriter writer, ModelId value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value.Value);
    }

    private static ModelId Parse(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
        {
            throw new JsonException($"Expected {Expected} as a JSON string; got {reader.TokenType}.");
        }

        var text = reader.GetString();
        return ModelId.IsValid(text, out var error)
            ? new ModelId(text!)
            : throw new JsonException($"Expected {Expected}: {error}");
    }
}

/// <summary>
/// Serialises a <see cref="ModelVersion"/> as its text (<c>"2.1"</c>), also as a dictionary key; reading refuses a value that
/// is not a valid version with a <see cref="JsonException"/> that says what was expected. Applied to
/// <see cref="ModelVersion"/> through <see cref="JsonConverterAttribute"/>, so every serializer options instance uses it.
/// </summary>
public sealed class ModelVersionJsonConverter : JsonConverter<ModelVersion>
{
    private const string Expected = "a model version (1 to 32 characters of A-Z, a-z, 0-9, '.', '-' or '_', e.g. \"2.1\")";

    /// <inheritdoc />
    public override ModelVersion Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(ref reader);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ModelVersion value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }

    /// <inheritdoc />
    public override ModelVersion ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(ref reader);

    /// <inheritdoc />
    public override void WriteAsPropertyName(Utf8JsonWriter writer, ModelVersion value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value.Value);
    }

    private static ModelVersion Parse(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
        {
            throw new JsonException($"Expected {Expected} as a JSON string; got {reader.TokenType}.");
        }

        var text = reader.GetString();
        return ModelVersion.IsValid(text, out var error)
            ? new ModelVersion(text!)
            : throw new JsonException($"Expected {Expected}: {error}");
    }
}
