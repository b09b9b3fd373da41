using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiOps.Data.Internal;
using AiOps.Validation;

namespace AiOps.Data.Quality;

/// <summary>An immutable, named set of data-quality rules. Build one in code with <see cref="Create(string)"/> or load it from
/// JSON or configuration with <see cref="FromJson(string)"/> / <see cref="FromDefinition(RuleSetDefinition)"/>.</summary>
/// <example>
/// <code>
/// var rules = RuleSet.Create("training")
///     .Key("id")
///     .RowCount(min: 1000)
///     .Column("id", c =&gt; c.NotNull().Unique())
///     .Column("age", c =&gt; c.OfType(ColumnType.Integer).Between(0, 120))
///     .Column("phone", c =&gt; c.Matches(@"^1[3-9]\d{9}$", mostly: 0.95))
///     .Column("income", c =&gt; c.Completeness().MeanBetween(1_000, 100_000).NoOutliers())
///     .Build();
/// </code>
/// </example>
public sealed class RuleSet
{
    /// <summary>The default <c>mostly</c> of row rules: the field's accuracy target of 98 %.</summary>
    public const double DefaultAccuracy = 0.98;

    /// <summary>The default completeness target (and <c>mostly</c> of <c>not_null</c>): 99 %.</summary>
    public const double DefaultCompleteness = 0.99;

    /// <summary>The name of the built-in rule that every row has the header's field count, valid UTF-8 and valid quoting.</summary>
    public const string WellFormedRuleName = "well_formed";

    /// <summary>The name of the built-in dataset-level rule on the fraction of rows that pass every Error rule (<see cref="PassRate"/>).</summary>
    public const string PassRateRuleName = "pass_rate";

    internal RuleSet(string name, string? keyColumn, double defaultMostly, double passRate, IReadOnlyList<DataRule> rules)
    {
        Name = name;
        KeyColumn = keyColumn;
        DefaultMostly = defaultMostly;
        PassRate = passRate;
        Rules = rules;
    }

    /// <summary>The rule set's name.</summary>
    public string Name { get; }

    /// <summary>The column whose value identifies a row in failing-row samples, if any.</summary>
    public string? KeyColumn { get; }

    /// <summary>The <c>mostly</c> given to row rules that do not set one (and to the built-in <c>well_formed</c> rule).</summary>
    public double DefaultMostly { get; }

    /// <summary>The least fraction of rows that must pass EVERY Error rule (and be well formed) for the data to pass: the field's
    /// accuracy bar, judged next to each rule's own <c>mostly</c>. Default <see cref="DefaultAccuracy"/> (0.98): ten rules each failing
    /// 1.9 % of different rows pass one by one but quarantine 19 % of the rows, so the data fails. Reported as the rule
    /// <see cref="PassRateRuleName"/>; 0 turns it off.</summary>
    public double PassRate { get; }

    /// <summary>The rules, in declaration order.</summary>
    public IReadOnlyList<DataRule> Rules { get; }

    /// <summary>Whether some rule needs a first pass over the data (outlier rules judge rows against the whole column).</summary>
    public bool RequiresTwoPasses => Rules.OfType<RowRule>().Any(r => r.NeedsPrePass);

    /// <summary>Starts a rule set.</summary>
    /// <param name="name">The rule set's name.</param>
    /// <returns>A builder.</returns>
    public static RuleSetBuilder Create(string name) => new(name);

    /// <summary>A rule set without rules: validating with it profiles the data (statistics, schema, malformed rows).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The rule set.</returns>
    public static RuleSet Empty(string name) => new RuleSetBuilder(name).Build();

    /// <summary>Loads a rule set from JSON in the shape of <see cref="RuleSetDefinition"/>.</summary>
    /// <param name="json">e.g. <c>{"name":"training","rules":[{"type":"between","column":"age","min":0,"max":120}]}</c>.</param>
    /// <returns>The rule set.</returns>
    /// <exception cref="ArgumentException">The JSON is not a valid rule set; the message names the bad rule and setting.</exception>
    public static RuleSet FromJson(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        RuleSetDefinition? def;
        try
        {
            StrictJson.Check(json);
            def = JsonSerializer.Deserialize<RuleSetDefinition>(json, DefinitionJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Expected a rule set as JSON ({{\"name\":…,\"rules\":[…]}}): {e.Message}", nameof(json), e);
        }

        return FromDefinition(def ?? throw new ArgumentException("Expected a rule set object, got null.", nameof(json)));
    }

    /// <summary>Profiles <paramref name="source"/> in one pass and proposes a starting rule suite (Deequ's constraint suggestion, Great
    /// Expectations' profiler): <c>not_null</c> with <c>mostly</c> the observed completeness rounded down to hundredths (a dataset
    /// <c>completeness</c> rule when it is under <see cref="RuleSuggestionOptions.MinimumFraction"/>), the type most values have,
    /// <c>between</c> the observed min and max, <c>unique</c> when every value is distinct, <c>in_set</c> for columns of at most
    /// <see cref="RuleSuggestionOptions.MaxAllowedValues"/> distinct values, and a <c>regex</c> of the kind when a PII recogniser takes
    /// most values whole. The pass rate is set so the suite passes on this data. No value of a declared or detected PII column appears
    /// in the suggestion (no allowed values, no range).</summary>
    /// <param name="source">The data to profile.</param>
    /// <param name="options">Name, PII columns, thresholds; default <see cref="RuleSuggestionOptions"/>.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <returns>The suggested rules, as a <see cref="RuleSet"/>, its definition and a rule file (<see cref="RuleSuggestion.ToJson"/>).</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    /// <exception cref="DuplicateColumnException">The data names a column twice.</exception>
    public static Task<RuleSuggestion> SuggestAsync(DataSource source, RuleSuggestionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var checkedOptions = (options ?? new RuleSuggestionOptions()).Checked();
        return Task.Run(() => RuleSuggester.Suggest(source, checkedOptions, cancellationToken), cancellationToken);
    }

    internal static readonly JsonSerializerOptions DefinitionJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Builds a rule set from its declarative form (JSON or a configuration section).</summary>
    /// <param name="definition">The definition.</param>
    /// <returns>The rule set.</returns>
    /// <exception cref="ArgumentException">A rule is invalid; the message names it (<c>Rules[2]</c>) and the setting.</exception>
    public static RuleSet FromDefinition(RuleSetDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var b = new RuleSetBuilder(definition.Name);
        if (definition.KeyColumn is not null)
        {
            b.Key(definition.KeyColumn);
        }

        if (definition.DefaultMostly is { } dm)
        {
            b.DefaultMostly(dm);
        }

        if (definition.PassRate is { } pr)
        {
            b.PassRate(pr);
        }

        for (var i = 0; i < definition.Rules.Count; i++)
        {
            var r = definition.Rules[i];
            try
            {
                AddDefined(b, r);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                var why = e is RuleSettingException setting ? setting.Describe(string.Empty) : e.Message;
                throw new ArgumentException($"Rule set '{definition.Name}', Rules[{i}] (type '{r.Type}', column '{r.Column}'): {why}", nameof(definition), e);
            }
        }

        try
        {
            return b.Build();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Rule set '{definition.Name}': {e.Message}", nameof(definition), e);
        }
    }

    /// <summary>Adds one declared rule with its name and condition.</summary>
    private static void AddDefined(RuleSetBuilder b, RuleDefinition r)
    {
        if (r.Where is { } where)
        {
            if (where.Problem() is { } problem)
            {
                throw new RuleSettingException(nameof(RuleDefinition.Where), where.Column, problem.Replace("Where", "a condition", StringComparison.Ordinal), raw: true);
            }

            b.Where(where, w => Add(w, r));
        }
        else
        {
            Add(b, r);
        }

        if (r.Name is not null)
        {
            if (string.IsNullOrWhiteSpace(r.Name))
            {
                throw new RuleSettingException(nameof(RuleDefinition.Name), r.Name, "the rule's name in reports (or leave it unset)");
            }

            b.Named(r.Name);
        }
    }

    /// <summary>
    /// Checks a definition bound from configuration section <paramref name="key"/> (<c>AiOps:Data:RuleSets:training</c>) the
    /// way <see cref="FromDefinition(RuleSetDefinition)"/> builds it; every problem is one message naming its key
    /// (<c>AiOps:Data:RuleSets:training:Rules:1:Type is 'bogus'; expected one of …</c>).
    /// </summary>
    internal static List<string> Check(RuleSetDefinition definition, string key)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(definition.Name))
        {
            errors.Add($"{key}:Name is empty; expected the rule set's name.");
        }

        if (definition.KeyColumn is not null && string.IsNullOrWhiteSpace(definition.KeyColumn))
        {
            errors.Add($"{key}:KeyColumn is empty; expected a column name (or leave it unset).");
        }

        if (definition.DefaultMostly is { } dm && (double.IsNaN(dm) || dm is < 0 or > 1))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}:DefaultMostly is {dm}; expected a fraction between 0 and 1."));
        }

        if (definition.PassRate is { } pr && (double.IsNaN(pr) || pr is < 0 or > 1))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key}:PassRate is {pr}; expected a fraction between 0 and 1."));
        }

        for (var i = 0; i < definition.Rules.Count; i++)
        {
            var r = definition.Rules[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"{key}:Rules:{i}");
            try
            {
                AddDefined(new RuleSetBuilder("check"), r);
            }
            catch (RuleSettingException e)
            {
                errors.Add(e.Describe(at + ":"));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                errors.Add($"{at} is a '{r.Type}' rule on column '{r.Column}' that cannot be built; expected valid settings for it ({e.Message}).");
            }
        }

        if (errors.Count == 0)
        {
            try
            {
                _ = FromDefinition(definition);
            }
            catch (ArgumentException e)
            {
                errors.Add($"{key}: {e.Message}"); // rules valid one by one but not together (two rules with one name)
            }
        }

        return errors;
    }

    private static void Add(RuleSetBuilder b, RuleDefinition r)
    {
        var type = (r.Type ?? string.Empty).Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        if (type == "rowcount")
        {
            b.RowCount(r.Min is { } mn ? (long)mn : null, r.Max is { } mx ? (long)mx : null, r.Severity);
            return;
        }

        if (!KnownTypes.Contains(type))
        {
            throw new RuleSettingException(nameof(RuleDefinition.Type), r.Type, $"one of {TypeNames}");
        }

        if (r.Columns.Count > 0)
        {
            if (type != "unique" || r.Column is not null)
            {
                throw new RuleSettingException(nameof(RuleDefinition.Columns), string.Join(",", r.Columns), "Columns only on a unique rule without Column (uniqueness of the combination)");
            }

            b.UniqueCombination(r.Columns, r.Mostly, r.Severity);
            return;
        }

        if (string.IsNullOrWhiteSpace(r.Column))
        {
            throw new RuleSettingException(nameof(RuleDefinition.Column), r.Column, $"the column the '{r.Type}' rule checks");
        }

        if (r.Mostly is { } mostly && (double.IsNaN(mostly) || mostly is < 0 or > 1))
        {
            throw new RuleSettingException(nameof(RuleDefinition.Mostly), mostly, "a fraction between 0 and 1");
        }

        var s = r.Severity;
        var m = r.Mostly;
        b.Column(r.Column, c => _ = type switch
        {
            "exists" => c.Exists(s),
            "type" => c.OfType(r.DataType ?? throw new RuleSettingException(nameof(RuleDefinition.DataType), null, "String, Integer, Number, Boolean or Date"), m, s),
            "notnull" => c.NotNull(m, s),
            "between" => c.Between(r.Min, r.Max, m, s),
            "inset" => c.InSet(r.Values, m, s),
            "notinset" => c.NotInSet(r.Values, m, s),
            "regex" or "matches" => c.Matches(r.Pattern ?? throw new RuleSettingException(nameof(RuleDefinition.Pattern), null, "a regular expression"), m, s),
            "length" => c.Length(r.Min is { } a ? (int)a : null, r.Max is { } z ? (int)z : null, m, s),
            "unique" => c.Unique(m, s),
            "uniqueapprox" => c.UniqueApprox(r.Max ?? 0.02, s),
            "dateformat" => c.DateFormat(r.Format ?? throw new RuleSettingException(nameof(RuleDefinition.Format), null, "a date format (e.g. yyyy-MM-dd)"), m, s),
            "mean" => c.MeanBetween(r.Min, r.Max, s),
            "min" => c.MinBetween(r.Min, r.Max, s),
            "max" => c.MaxBetween(r.Min, r.Max, s),
            "stddev" or "stdev" => c.StdDevBetween(r.Min, r.Max, s),
            "completeness" => c.Completeness(r.Min ?? DefaultCompleteness, s),
            "outliers" => c.NoOutliers(r.Method ?? OutlierMethod.StdDev, r.K, m, s),
            _ => throw new RuleSettingException(nameof(RuleDefinition.Type), r.Type, $"one of {TypeNames}"),
        });
    }

    private const string TypeNames = "exists, type, not_null, between, in_set, not_in_set, regex, length, unique, unique_approx, date_format, row_count, mean, min, max, stddev, completeness, outliers";

    private static readonly HashSet<string> KnownTypes = new(
        ["rowcount", "exists", "type", "notnull", "between", "inset", "notinset", "regex", "matches", "length", "unique", "uniqueapprox",
         "dateformat", "mean", "min", "max", "stddev", "stdev", "completeness", "outliers"],
        StringComparer.Ordinal);

    /// <summary>A rule definition whose <see cref="Setting"/> has a value that does not fit.</summary>
    private sealed class RuleSettingException(string setting, object? value, string expected, bool raw = false)
        : ArgumentException(raw ? $"{setting}: {expected}." : $"{setting} is {Show(value)}; expected {expected}.")
    {
        public string Setting { get; } = setting;

        /// <summary>The message with the setting prefixed by <paramref name="at"/> (a configuration key ending in ':', or nothing).</summary>
        public string Describe(string at) => $"{at}{Message}";

        private static string Show(object? value) => value switch
        {
            null => "empty",
            string text when string.IsNullOrWhiteSpace(text) => "empty",
            string text => $"'{text}'",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "empty",
        };
    }
}

/// <summary>Builds a <see cref="RuleSet"/>.</summary>
public sealed class RuleSetBuilder
{
    private readonly string _name;
    private readonly List<Func<double, DataRule>> _rules = [];
    private string? _key;
    private double _defaultMostly = RuleSet.DefaultAccuracy;
    private double _passRate = RuleSet.DefaultAccuracy;

    internal RuleSetBuilder(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _name = name;
    }

    /// <summary>Names the column shown as the key of failing rows.</summary>
    /// <param name="column">The key column.</param>
    /// <returns>This builder.</returns>
    public RuleSetBuilder Key(string column)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        _key = column;
        return this;
    }

    /// <summary>Sets the <c>mostly</c> of row rules that do not set one (default 0.98, the accuracy target).</summary>
    /// <param name="mostly">A fraction in [0, 1].</param>
    /// <returns>This builder.</returns>
    public RuleSetBuilder DefaultMostly(double mostly)
    {
        if (double.IsNaN(mostly) || mostly is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(mostly), mostly, "DefaultMostly must be between 0 and 1.");
        }

        _defaultMostly = mostly;
        return this;
    }

    /// <summary>Sets the least fraction of rows that must pass every Error rule (default 0.98; 0 turns the check off). See <see cref="RuleSet.PassRate"/>.</summary>
    /// <param name="minimum">A fraction in [0, 1].</param>
    /// <returns>This builder.</returns>
    public RuleSetBuilder PassRate(double minimum)
    {
        if (double.IsNaN(minimum) || minimum is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "PassRate must be a fraction between 0 and 1.");
        }

        _passRate = minimum;
        return this;
    }

    /// <summary>Gives the rule added last its own name in reports (needed when two rules would share one, such as two outlier rules
    /// on one column).</summary>
    /// <param name="name">The name; unique within the rule set.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">No rule has been added yet.</exception>
    public RuleSetBuilder Named(string name)
    {
        NameLast(_rules, name);
        return this;
    }

    internal static void NameLast(List<Func<double, DataRule>> rules, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (rules.Count == 0)
        {
            throw new InvalidOperationException($"Named('{name}') names the rule added last, but no rule has been added yet.");
        }

        var last = rules[^1];
        rules[^1] = d => last(d).WithName(name);
    }

    /// <summary>Adds rules that apply only to rows where <paramref name="condition"/> holds (a conditional rule, <c>where</c>):
    /// other rows are not evaluated by them.</summary>
    /// <param name="condition">When the rules apply.</param>
    /// <param name="configure">Adds the row rules (dataset rules are refused).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">The condition has no column or clause, or a rule added is a dataset rule.</exception>
    public RuleSetBuilder Where(RuleCondition condition, Action<RuleSetBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(configure);
        if (condition.Problem() is { } problem)
        {
            throw new ArgumentException(problem + ".", nameof(condition));
        }

        var copy = condition.Copy();
        var from = _rules.Count;
        configure(this);
        for (var i = from; i < _rules.Count; i++)
        {
            var f = _rules[i];
            _rules[i] = d => f(d).WithCondition(copy);
            _ = _rules[i](_defaultMostly); // refuse a dataset rule here, where the caller wrote it
        }

        return this;
    }

    /// <summary>Expects each combination of <paramref name="columns"/> to appear once (exact; rows whose columns are all null are
    /// skipped; a null equals a null). Named <c>a+b.unique</c>.</summary>
    /// <param name="columns">Two or more distinct columns.</param>
    /// <param name="mostly">The fraction that must pass; default the rule set's.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">Fewer than two columns, an empty name or a repeated column.</exception>
    public RuleSetBuilder UniqueCombination(IEnumerable<string> columns, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var list = columns.ToArray();
        if (list.Length < 2 || list.Any(string.IsNullOrWhiteSpace) || list.Distinct(StringComparer.Ordinal).Count() != list.Length)
        {
            throw new ArgumentException($"UniqueCombination needs two or more distinct, non-empty column names; got [{string.Join(", ", list)}].", nameof(columns));
        }

        Func<double, DataRule> rule = d => new CompositeUniqueRule(list, mostly ?? d, severity);
        _ = rule(_defaultMostly);
        _rules.Add(rule);
        return this;
    }

    /// <summary>Expects the number of ADMITTED rows (rows read less the rows that failed an Error rule or were malformed, i.e. what a
    /// gate would publish) to lie in [<paramref name="min"/>, <paramref name="max"/>]: 1000 rows with 15 quarantined fail <c>min: 1000</c>.</summary>
    /// <param name="min">The least rows, or <see langword="null"/>.</param>
    /// <param name="max">The most rows, or <see langword="null"/>.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This builder.</returns>
    public RuleSetBuilder RowCount(long? min = null, long? max = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        _rules.Add(_ => new RowCountRule(min, max, severity));
        return this;
    }

    /// <summary>Adds rules on one column.</summary>
    /// <param name="column">The column name.</param>
    /// <param name="configure">Adds the rules.</param>
    /// <returns>This builder.</returns>
    public RuleSetBuilder Column(string column, Action<ColumnRules> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(new ColumnRules(column, _rules));
        return this;
    }

    /// <summary>Adds a custom check on whole rows (e.g. one column against another).</summary>
    /// <param name="name">The rule's name in reports.</param>
    /// <param name="predicate">Returns <see langword="true"/> for an acceptable row.</param>
    /// <param name="mostly">The fraction of rows that must pass; default <see cref="DefaultMostly(double)"/>.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This builder.</returns>
    public RuleSetBuilder Row(string name, RowPredicate predicate, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(predicate);
        _rules.Add(d => new RowPredicateRule(name, predicate, mostly ?? d, severity));
        return this;
    }

    /// <summary>Creates the rule set.</summary>
    /// <returns>The immutable rule set.</returns>
    /// <exception cref="ArgumentException">Two rules share a name (the message names it and how to rename one).</exception>
    public RuleSet Build()
    {
        var rules = _rules.Select(f => f(_defaultMostly)).ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal) { [RuleSet.WellFormedRuleName] = -1, [RuleSet.PassRateRuleName] = -1 };
        for (var i = 0; i < rules.Length; i++)
        {
            if (seen.TryGetValue(rules[i].Name, out var first))
            {
                throw new ArgumentException(first < 0
                    ? $"Rule {i} is named '{rules[i].Name}', the name of a built-in rule; expected another name."
                    : $"Rules {first} and {i} are both named '{rules[i].Name}' ({rules[first].Expectation}; {rules[i].Expectation}); give one its own name with Named(\"…\") (JSON: \"name\").");
            }

            seen[rules[i].Name] = i;
        }

        return new(_name, _key, _defaultMostly, _passRate, rules);
    }
}

/// <summary>Adds rules on one column. Row rules skip nulls (except <see cref="NotNull"/>) and take <c>mostly</c>, the fraction of
/// evaluated values that must pass; by default the rule set's (0.98), and 0.99 for <see cref="NotNull"/>.</summary>
public sealed class ColumnRules
{
    private readonly string _column;
    private readonly List<Func<double, DataRule>> _rules;

    internal ColumnRules(string column, List<Func<double, DataRule>> rules)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        _column = column;
        _rules = rules;
    }

    private ColumnRules Add(Func<double, DataRule> rule)
    {
        _ = rule(RuleSet.DefaultAccuracy); // validate the arguments now, where the caller wrote them
        _rules.Add(rule);
        return this;
    }

    /// <summary>Gives the rule added last its own name in reports (two outlier rules on one column need distinct names).</summary>
    /// <param name="name">The name; unique within the rule set.</param>
    /// <returns>This object.</returns>
    public ColumnRules Named(string name)
    {
        RuleSetBuilder.NameLast(_rules, name);
        return this;
    }

    /// <summary>Expects the column to exist.</summary>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Exists(ValidationSeverity severity = ValidationSeverity.Error) => Add(_ => new ColumnExistsRule(_column, severity));

    /// <summary>Expects values of <paramref name="type"/>.</summary>
    /// <param name="type">The type.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules OfType(ColumnType type, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(d => new TypeRule(_column, type, mostly ?? d, severity));

    /// <summary>Expects values (not null); default <c>mostly</c> is the completeness target, 0.99.</summary>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules NotNull(double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new NotNullRule(_column, mostly ?? RuleSet.DefaultCompleteness, severity));

    /// <summary>Expects numbers in [<paramref name="min"/>, <paramref name="max"/>] (inclusive); text fails.</summary>
    /// <param name="min">The lower bound, or <see langword="null"/>.</param>
    /// <param name="max">The upper bound, or <see langword="null"/>.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Between(double? min, double? max, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(d => new BetweenRule(_column, min, max, mostly ?? d, severity));

    /// <summary>Expects one of <paramref name="values"/> (exact, ordinal).</summary>
    /// <param name="values">The allowed values.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules InSet(IEnumerable<string>? values, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        var list = values?.ToArray() ?? throw new ArgumentException($"Rule in_set on '{_column}': Values are required.", nameof(values));
        return Add(d => new SetRule(_column, list, false, mostly ?? d, severity));
    }

    /// <summary>Expects none of <paramref name="values"/> (exact, ordinal).</summary>
    /// <param name="values">The forbidden values.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules NotInSet(IEnumerable<string>? values, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        var list = values?.ToArray() ?? throw new ArgumentException($"Rule not_in_set on '{_column}': Values are required.", nameof(values));
        return Add(d => new SetRule(_column, list, true, mostly ?? d, severity));
    }

    /// <summary>Expects values matching a .NET regular expression (anchor it with <c>^…$</c> to match the whole value).</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Matches(string pattern, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        var rule = new RegexRule(_column, pattern, RuleSet.DefaultAccuracy, severity); // compile once
        return Add(d => mostly is null && d == RuleSet.DefaultAccuracy ? rule : new RegexRule(_column, pattern, mostly ?? d, severity));
    }

    /// <summary>Expects a length in characters in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="min">The shortest, or <see langword="null"/>.</param>
    /// <param name="max">The longest, or <see langword="null"/>.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Length(int? min, int? max, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(d => new LengthRule(_column, min, max, mostly ?? d, severity));

    /// <summary>Expects each value once (exact; every later duplicate fails with its line). Memory grows with the distinct values:
    /// for huge data use <see cref="UniqueApprox"/>.</summary>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Unique(double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(d => new UniqueRule(_column, mostly ?? d, severity));

    /// <summary>Expects at most <paramref name="maxDuplicateFraction"/> duplicates, judged on a HyperLogLog estimate in fixed memory.</summary>
    /// <param name="maxDuplicateFraction">The share of non-null values allowed to be duplicates (default 0.02).</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules UniqueApprox(double maxDuplicateFraction = 0.02, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new ApproxUniqueRule(_column, maxDuplicateFraction, severity));

    /// <summary>Expects dates in an exact .NET format (<c>yyyy-MM-dd</c> takes a fast path).</summary>
    /// <param name="format">The format.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules DateFormat(string format, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(d => new DateFormatRule(_column, format, mostly ?? d, severity));

    /// <summary>Expects the column's mean in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="min">The lower bound, or <see langword="null"/>.</param>
    /// <param name="max">The upper bound, or <see langword="null"/>.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules MeanBetween(double? min, double? max, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new ColumnStatisticRule(_column, ColumnStatistic.Mean, min, max, severity));

    /// <summary>Expects the column's minimum in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="min">The lower bound, or <see langword="null"/>.</param>
    /// <param name="max">The upper bound, or <see langword="null"/>.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules MinBetween(double? min, double? max, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new ColumnStatisticRule(_column, ColumnStatistic.Min, min, max, severity));

    /// <summary>Expects the column's maximum in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="min">The lower bound, or <see langword="null"/>.</param>
    /// <param name="max">The upper bound, or <see langword="null"/>.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules MaxBetween(double? min, double? max, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new ColumnStatisticRule(_column, ColumnStatistic.Max, min, max, severity));

    /// <summary>Expects the column's sample standard deviation in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="min">The lower bound, or <see langword="null"/>.</param>
    /// <param name="max">The upper bound, or <see langword="null"/>.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules StdDevBetween(double? min, double? max, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new ColumnStatisticRule(_column, ColumnStatistic.StdDev, min, max, severity));

    /// <summary>Expects at least <paramref name="minimum"/> of the values to be non-null (default 0.99).</summary>
    /// <param name="minimum">The least share of non-null values.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Completeness(double minimum = RuleSet.DefaultCompleteness, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(_ => new CompletenessRule(_column, minimum, severity));

    /// <summary>Expects no numbers beyond k·σ of the mean (<see cref="OutlierMethod.StdDev"/>, k = 3) or k·IQR outside the quartiles
    /// (<see cref="OutlierMethod.Iqr"/>, k = 1.5). Needs two passes, so the source must be re-readable.</summary>
    /// <param name="method">The method.</param>
    /// <param name="k">The multiplier; <see langword="null"/> for the method's default.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules NoOutliers(OutlierMethod method = OutlierMethod.StdDev, double? k = null, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error) =>
        Add(d => new OutlierRule(_column, method, k ?? (method == OutlierMethod.StdDev ? 3 : 1.5), mostly ?? d, severity));

    /// <summary>Adds a custom check on each non-null value.</summary>
    /// <param name="name">The rule's kind in reports.</param>
    /// <param name="predicate">Returns <see langword="true"/> for an acceptable value.</param>
    /// <param name="mostly">The fraction that must pass.</param>
    /// <param name="severity">What a failure means.</param>
    /// <returns>This object.</returns>
    public ColumnRules Must(string name, FieldPredicate predicate, double? mostly = null, ValidationSeverity severity = ValidationSeverity.Error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(predicate);
        return Add(d => new FieldPredicateRule(_column, name, predicate, mostly ?? d, severity));
    }
}

/// <summary>The declarative form of a rule set, for JSON files and configuration sections.</summary>
[JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
public sealed class RuleSetDefinition
{
    /// <summary>The rule set's name.</summary>
    public string Name { get; set; } = "default";

    /// <summary>The key column shown in failing-row samples.</summary>
    public string? KeyColumn { get; set; }

    /// <summary>The default <c>mostly</c> of row rules (0.98 when unset).</summary>
    public double? DefaultMostly { get; set; }

    /// <summary>The least fraction of rows that must pass every Error rule (0.98 when unset; 0 turns it off).</summary>
    public double? PassRate { get; set; }

    /// <summary>The rules.</summary>
    public IList<RuleDefinition> Rules { get; } = new List<RuleDefinition>();
}

/// <summary>One rule in declarative form. <see cref="Type"/> picks the rule; the other settings apply as the rule needs them.</summary>
[JsonObjectCreationHandling(JsonObjectCreationHandling.Populate)]
public sealed class RuleDefinition
{
    /// <summary>exists, type, not_null, between, in_set, not_in_set, regex, length, unique, unique_approx, date_format, row_count, mean, min,
    /// max, stddev, completeness or outliers.</summary>
    public string Type { get; set; } = string.Empty;

    /// <summary>The rule's name in reports (default <c>column.kind</c>); names are unique within a rule set.</summary>
    public string? Name { get; set; }

    /// <summary>The column (all rules but row_count, and unique over <see cref="Columns"/>).</summary>
    public string? Column { get; set; }

    /// <summary>For <c>unique</c> without <see cref="Column"/>: the columns whose combination must be unique.</summary>
    public IList<string> Columns { get; } = new List<string>();

    /// <summary>For row rules, when the rule applies (<c>{"column": "country", "in": ["CN"]}</c>); unset: every row.</summary>
    public RuleCondition? Where { get; set; }

    /// <summary>For row rules, the fraction of values that must pass.</summary>
    public double? Mostly { get; set; }

    /// <summary>What a failure means (default Error).</summary>
    public ValidationSeverity Severity { get; set; } = ValidationSeverity.Error;

    /// <summary>The lower bound (between, length, row_count, mean/min/max/stddev; the minimum of completeness).</summary>
    public double? Min { get; set; }

    /// <summary>The upper bound (between, length, row_count, mean/min/max/stddev; the duplicate fraction of unique_approx).</summary>
    public double? Max { get; set; }

    /// <summary>The values of in_set / not_in_set.</summary>
    public IList<string> Values { get; } = new List<string>();

    /// <summary>The regular expression of regex.</summary>
    public string? Pattern { get; set; }

    /// <summary>The date format of date_format.</summary>
    public string? Format { get; set; }

    /// <summary>The type of type.</summary>
    public ColumnType? DataType { get; set; }

    /// <summary>The outlier method (StdDev or Iqr).</summary>
    public OutlierMethod? Method { get; set; }

    /// <summary>The outlier multiplier.</summary>
    public double? K { get; set; }
}
