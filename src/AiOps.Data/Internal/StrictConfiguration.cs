using System.Reflection;
using AiOps.Data.Quality;
using Microsoft.Extensions.Configuration;

namespace AiOps.Data.Internal;

/// <summary>Refuses settings under <c>AiOps:Data</c> that no option has — above all in rule sets, where the binder would silently drop a
/// misspelt threshold (<c>Rules:1:Mostley</c>) — the way <see cref="StrictJson"/> refuses them in rule files: each message names the key
/// and the settings allowed there.</summary>
internal static class StrictConfiguration
{
    private static readonly string[] OptionNames = Names(typeof(AiOpsDataOptions));
    private static readonly string[] SetNames = Names(typeof(RuleSetDefinition));
    private static readonly string[] RuleNames = Names(typeof(RuleDefinition));
    private static readonly string[] WhereNames = Names(typeof(RuleCondition));

    private static string[] Names(Type t) =>
        [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Order(StringComparer.Ordinal)];

    /// <summary>The problems of the <c>AiOps:Data</c> section of <paramref name="configuration"/> (none when it has no such section).</summary>
    public static List<string> Check(IConfiguration configuration)
    {
        var errors = new List<string>();
        var data = configuration.GetSection(AiOpsDataOptions.SectionName);
        Unknown(data, OptionNames, "a setting of AiOps.Data", errors);
        foreach (var set in data.GetSection(nameof(AiOpsDataOptions.RuleSets)).GetChildren())
        {
            Unknown(set, SetNames, "a setting of a rule set", errors);
            foreach (var rule in set.GetSection(nameof(RuleSetDefinition.Rules)).GetChildren())
            {
                Unknown(rule, RuleNames, "a setting of a rule", errors);
                Unknown(rule.GetSection(nameof(RuleDefinition.Where)), WhereNames, "a clause of a where condition", errors);
            }
        }

        return errors;
    }

    private static void Unknown(IConfigurationSection section, string[] allowed, string what, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            // The binder matches names case-insensitively, so the check does too.
            if (!allowed.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{child.Path} is not {what}; expected one of: {string.Join(", ", allowed)}.");
            }
        }
    }
}
