using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AiOps.Monitoring.Drift;

/// <summary>
/// The JSON form of a reference profile: <c>{"schema":1,"features":[{"name","kind":"numeric"|"categorical","input",
/// "column","binning","edges":[…],"categories":[…],"counts":[…],"missing","mean","stdDev","min","max"}]}</c>.
/// Written and read by hand so every error names the field at fault.
/// </summary>
internal static class ReferenceProfileJson
{
    public static string Write(ReferenceProfile profile)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", ReferenceProfile.SchemaVersion);
            w.WriteStartArray("features");
            foreach (var f in profile.Features)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteString("kind", f.Kind == FeatureKind.Numeric ? "numeric" : "categorical");
                if (f.Input is not null)
                {
                    w.WriteString("input", f.Input);
                }

                if (f.Output is not null)
                {
                    w.WriteString("output", f.Output);
                }

                w.WriteNumber("column", f.Column);
                if (f.Kind == FeatureKind.Numeric)
                {
                    w.WriteString("binning", f.Binning switch { BinningMethod.EqualWidth => "equal_width", BinningMethod.PerValue => "per_value", _ => "quantile" });
                    w.WriteStartArray("edges");
                    foreach (var e in f.EdgeArray)
                    {
                        w.WriteNumberValue(e);
                    }

                    w.WriteEndArray();
                }
                else
                {
                    w.WriteStartArray("categories");
                    foreach (var c in f.Categories)
                    {
                        w.WriteStringValue(c);
                    }

                    w.WriteEndArray();
                }

                w.WriteStartArray("counts");
                foreach (var c in f.CountArray)
                {
                    w.WriteNumberValue(c);
                }

                w.WriteEndArray();
                w.WriteNumber("missing", f.MissingCount);
                if (f.Kind == FeatureKind.Numeric)
                {
                    w.WriteNumber("mean", f.Mean);
                    w.WriteNumber("stdDev", f.StandardDeviation);
                    w.WriteNumber("min", f.Min);
                    w.WriteNumber("max", f.Max);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static ReferenceProfile Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var schema = Required(root, "schema", "profile").GetInt32();
            if (schema != ReferenceProfile.SchemaVersion)
            {
                throw new FormatException($"Reference profile schema is {schema}; expected {ReferenceProfile.SchemaVersion}.");
            }

            var features = new List<FeatureProfile>();
            var index = 0;
            foreach (var f in Required(root, "features", "profile").EnumerateArray())
            {
                features.Add(ReadFeature(f, index++));
            }

            return new ReferenceProfile(features);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"The reference profile JSON is not valid: {ex.Message}", ex);
        }
    }

    private static FeatureProfile ReadFeature(JsonElement f, int index)
    {
        var where = string.Create(CultureInfo.InvariantCulture, $"features[{index}]");
        var name = Required(f, "name", where).GetString()!;
        var kind = Required(f, "kind", where).GetString();
        var counts = Required(f, "counts", where).EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var input = f.TryGetProperty("input", out var i) ? i.GetString() : null;
        var output = f.TryGetProperty("output", out var o) ? o.GetString() : null;
        var column = f.TryGetProperty("column", out var c) ? c.GetInt32() : 0;
        var missing = f.TryGetProperty("missing", out var m) ? m.GetInt64() : 0;
        if (column < 0)
        {
            throw new FormatException($"{where}.column is {column}; expected zero or more.");
        }

        switch (kind)
        {
            case "numeric":
            {
                var edges = Required(f, "edges", where).EnumerateArray().Select(e => e.GetDouble()).ToArray();
                var binning = f.TryGetProperty("binning", out var b) ? b.GetString() : "quantile";
                return FeatureProfile.CreateNumeric(name, edges, counts) with
                {
                    Input = input,
                    Output = output,
                    Column = column,
                    MissingCount = missing,
                    Binning = binning switch
                    {
                        "quantile" => BinningMethod.Quantile,
                        "equal_width" => BinningMethod.EqualWidth,
                        "per_value" => BinningMethod.PerValue,
                        _ => throw new FormatException($"{where}.binning is '{binning}'; expected 'quantile', 'equal_width' or 'per_value'."),
                    },
                    Mean = Optional(f, "mean"),
                    StandardDeviation = Optional(f, "stdDev"),
                    Min = Optional(f, "min"),
                    Max = Optional(f, "max"),
                };
            }

            case "categorical":
            {
                var categories = Required(f, "categories", where).EnumerateArray().Select(e => e.GetString()!).ToArray();
                return FeatureProfile.CreateCategorical(name, categories, counts) with { Input = input, Output = output, Column = column, MissingCount = missing };
            }

            default:
                throw new FormatException($"{where}.kind is '{kind}'; expected 'numeric' or 'categorical'.");
        }
    }

    private static JsonElement Required(JsonElement e, string property, string where) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(property, out var value)
            ? value
            : throw new FormatException($"{where} has no '{property}'; expected it in a reference profile.");

    private static double Optional(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) ? v.GetDouble() : 0;
}
