using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiOps.Release.State;

/// <summary>The JSON settings of every file and Redis value AiOps.Release writes.</summary>
internal static class ReleaseJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        o.Converters.Add(new ModelIdConverter());
        o.Converters.Add(new ModelVersionConverter());
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    private sealed class ModelIdConverter : JsonConverter<ModelId>
    {
        public override ModelId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            ModelId.IsValid(reader.GetString(), out var error) ? new ModelId(reader.GetString()!) : throw new JsonException(error);

        public override void Write(Utf8JsonWriter writer, ModelId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
    }

    private sealed class ModelVersionConverter : JsonConverter<ModelVersion>
    {
        public override ModelVersion Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            ModelVersion.IsValid(reader.GetString(), out var error) ? new ModelVersion(reader.GetString()!) : throw new JsonException(error);

        public override void Write(Utf8JsonWriter writer, ModelVersion value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
    }
}
