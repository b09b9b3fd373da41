using System.Globalization;
using System.Reflection;
using System.Text.Json;
using AiOps.Data.Quality;

namespace AiOps.Data.Internal;

/// <summary>Refuses a rule-set JSON file with a property the definition types do not have (<c>"mostley"</c>), naming the property, the
/// rule (its index, type and column) and the properties that are allowed: a typo must never silently drop a threshold.</summary>
internal static class StrictJson
{
    private static readonly HashSet<string> SetProperties = Names(typeof(RuleSetDefinition));
    private static readonly HashSet<string> RuleProperties = Names(typeof(RuleDefinition));
    private static readonly HashSet<string> WhereProperties = Names(typeof(RuleCondition));

    private static HashSet<string> Names(Type t) =>
        new(t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name), StringComparer.OrdinalIgnoreCase);

    /// <exception cref="ArgumentException">An unknown property; the message names it and where it is.</exception>
    /// <exception cref="JsonException">The text is not JSON (the caller words it).</exception>
    public static void Check(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return; // the serializer reports the wrong shape
        }

        Unknown(root, SetProperties, "the rule set");
        if (!TryGet(root, "rules", out var rules) || rules.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var i = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            if (rule.ValueKind == JsonValueKind.Object)
            {
                var at = string.Create(CultureInfo.InvariantCulture, $"rules[{i}] (type '{Text(rule, "type")}', column '{Text(rule, "column")}')");
                Unknown(rule, RuleProperties, at);
                if (TryGet(rule, "where", out var where) && where.ValueKind == JsonValueKind.Object)
                {
                    Unknown(where, WhereProperties, at + ".where");
                }
            }

            i++;
        }
    }

    private static void Unknown(JsonElement e, HashSet<string> allowed, string at)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (!allowed.Contains(p.Name))
            {
                var expected = string.Join(", ", allowed.Select(JsonNamingPolicy.CamelCase.ConvertName).Order(StringComparer.Ordinal));
                throw new ArgumentException($"Unknown property '{p.Name}' in {at}; expected one of: {expected}.");
            }
        }
    }

    private static bool TryGet(JsonElement e, string name, out JsonElement value)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = p.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    private static string Text(JsonElement e, string name) => TryGet(e, name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";
}
