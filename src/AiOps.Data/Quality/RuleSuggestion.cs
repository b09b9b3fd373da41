using System.Text.Json;
using System.Text.Json.Serialization;
using AiOps.Data.Pii;

namespace AiOps.Data.Quality;

/// <summary>How <see cref="RuleSet.SuggestAsync"/> profiles data and proposes rules.</summary>
public sealed class RuleSuggestionOptions
{
    /// <summary>The suggested rule set's name. Default <c>suggested</c>.</summary>
    public string Name { get; set; } = "suggested";

    /// <summary>Declared PII columns (e.g. the keys of <c>IngestOptions.MaskColumns</c>): no value of theirs appears in the suggestion —
    /// no allowed-values set, no range, no value in a reason. Columns the recognisers match for most values are treated the same way.</summary>
    public ISet<string> PiiColumns { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>A column with at most this many distinct values (and some repeated) gets an allowed-values rule (1–1000). Default 20.</summary>
    public int MaxAllowedValues { get; set; } = 20;

    /// <summary>The least share of a column's values a type, range or pattern must hold for, to be suggested (0.5–1); the rule's
    /// <c>mostly</c> is the share observed, rounded down to hundredths. A not-null rule is suggested at this completeness or more,
    /// a dataset-level completeness rule below it. Default 0.9.</summary>
    public double MinimumFraction { get; set; } = 0.9;

    /// <summary>The masker whose recognisers detect PII kinds (a team's own recognisers included); default the built-in ones.</summary>
    public IPiiMasker? Masker { get; set; }

    internal RuleSuggestionOptions Checked()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("RuleSuggestionOptions.Name is empty; expected the suggested rule set's name.", nameof(Name));
        }

        if (MaxAllowedValues is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAllowedValues), MaxAllowedValues, $"RuleSuggestionOptions.MaxAllowedValues is {MaxAllowedValues}; expected 1 to 1000.");
        }

        if (double.IsNaN(MinimumFraction) || MinimumFraction is < 0.5 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumFraction), MinimumFraction, $"RuleSuggestionOptions.MinimumFraction is {MinimumFraction}; expected 0.5 to 1.");
        }

        return this;
    }
}

/// <summary>One suggested rule and why it was proposed.</summary>
/// <param name="Name">The rule's name in the suggested set (<c>column.kind</c>).</param>
/// <param name="Type">The rule type as in rule files (<c>not_null</c>, <c>between</c>, …).</param>
/// <param name="Column">The column.</param>
/// <param name="Reason">What was observed (counts and shares; never a value of a PII column).</param>
public sealed record SuggestedRule(string Name, string Type, string? Column, string Reason);

/// <summary>A starting rule suite proposed from a profile of the data (Deequ's constraint suggestion, Great Expectations' profiler): not-null
/// with <c>mostly</c> from the completeness, ranges from min/max, uniqueness where every value is distinct, allowed values of few-valued
/// columns, types, and patterns where a PII recogniser matches most values. The suite passes on the data it was profiled from; review
/// it before using it as a gate.</summary>
public sealed class RuleSuggestion
{
    private static readonly JsonSerializerOptions WriteJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    internal RuleSuggestion(RuleSetDefinition definition, IReadOnlyList<SuggestedRule> rules, long rows, IReadOnlyDictionary<string, PiiKind> detected)
    {
        Definition = definition;
        RuleSet = RuleSet.FromDefinition(definition);
        Rules = rules;
        RowsProfiled = rows;
        DetectedPii = detected;
    }

    /// <summary>The suggested rules as a rule set.</summary>
    public RuleSet RuleSet { get; }

    /// <summary>The suggested rules in declarative form (what <see cref="ToJson"/> writes).</summary>
    public RuleSetDefinition Definition { get; }

    /// <summary>Each suggested rule with the observation behind it, in rule-set order.</summary>
    public IReadOnlyList<SuggestedRule> Rules { get; }

    /// <summary>Rows read (malformed ones included).</summary>
    public long RowsProfiled { get; }

    /// <summary>Columns not declared PII whose values the recognisers matched for most rows, with the kind.</summary>
    public IReadOnlyDictionary<string, PiiKind> DetectedPii { get; }

    /// <summary>The suggestion as a rule file in the strict format <see cref="RuleSet.FromJson(string)"/> loads.</summary>
    /// <returns>Indented JSON.</returns>
    public string ToJson()
    {
        var rules = Definition.Rules.Select(r => new Dictionary<string, object?>
        {
            ["type"] = r.Type,
            ["column"] = r.Column,
            ["mostly"] = r.Mostly,
            ["min"] = r.Min,
            ["max"] = r.Max,
            ["values"] = r.Values.Count > 0 ? r.Values : null,
            ["pattern"] = r.Pattern,
            ["dataType"] = r.DataType,
        }.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value));
        var doc = new Dictionary<string, object?>
        {
            ["name"] = Definition.Name,
            ["defaultMostly"] = Definition.DefaultMostly,
            ["passRate"] = Definition.PassRate,
            ["rules"] = rules.ToArray(),
        }.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value);
        return JsonSerializer.Serialize(doc, WriteJson);
    }
}
