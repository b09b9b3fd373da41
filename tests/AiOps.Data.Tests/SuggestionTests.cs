using System.Globalization;
using System.Text;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>Rule suggestion from a profile: the proposed suite names what the data shows, loads with the strict loader, passes on the
/// data it came from, fails on worse data, and holds no value of a PII column.</summary>
public sealed class SuggestionTests : IDisposable
{
    private const int Rows = 3000;
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static readonly string[] Countries = ["CN", "US", "DE", "JP"];
    private static readonly string[] Cities = ["Shenyang", "Harbin", "Kunming", "Guiyang", "Lhasa"];

    /// <summary>A training extract with the traits real exports have: a key, an integer with a few nulls, categories, decimals,
    /// booleans, ISO dates, free text with commas and repeats, e-mails and phones written several ways, and one ragged row.</summary>
    private static (string Csv, List<string> Phones, List<string> Emails) Fixture(int rows = Rows, double ageNulls = 0.015, int seed = 7)
    {
        var rnd = new Random(seed);
        var phones = new List<string>();
        var emails = new List<string>();
        var sb = new StringBuilder("id,email,phone,age,country,score,active,signup,note,label,birth_city\n");
        for (var i = 1; i <= rows; i++)
        {
            var digits = string.Create(CultureInfo.InvariantCulture, $"1{rnd.Next(3, 10)}{rnd.Next(0, 10)}{rnd.Next(0, 10000):D4}{rnd.Next(0, 10000):D4}");
            var phone = (i % 4) switch
            {
                0 => digits,
                1 => $"{digits[..3]} {digits[3..7]} {digits[7..]}",
                2 => $"+86 {digits[..3]}-{digits[3..7]}-{digits[7..]}",
                _ => "86" + digits,
            };
            phones.Add(phone);
            var email = string.Create(CultureInfo.InvariantCulture, $"user{i:D5}.{(char)('a' + rnd.Next(26))}@example{rnd.Next(1, 9)}.com");
            emails.Add(email);
            var age = rnd.NextDouble() < ageNulls ? "" : rnd.Next(18, 91).ToString(CultureInfo.InvariantCulture);
            var score = (rnd.NextDouble() * 100).ToString("0.###", CultureInfo.InvariantCulture);
            var active = rnd.Next(2) == 0 ? "true" : "false";
            var signup = new DateOnly(2020, 1, 1).AddDays(rnd.Next(1500)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var note = rnd.Next(5) == 0 ? "\"late, again\"" : string.Create(CultureInfo.InvariantCulture, $"ticket {rnd.Next(400)}");
            sb.Append(CultureInfo.InvariantCulture, $"{i},{email},{phone},{age},{Countries[rnd.Next(4)]},{score},{active},{signup},{note},{rnd.Next(2)},{Cities[rnd.Next(Cities.Length)]}\n");
            if (i == rows / 2)
            {
                sb.Append("999999,broken,row\n"); // ragged: quarantined as malformed, never profiled
            }
        }

        return (sb.ToString(), phones, emails);
    }

    private static RuleSuggestionOptions Options() => new() { PiiColumns = { "phone", "birth_city" } };

    private static DatasetRuleView Rules(RuleSuggestion s) => new(s);

    private sealed class DatasetRuleView(RuleSuggestion s)
    {
        public RuleDefinition? Get(string column, string type) => s.Definition.Rules.SingleOrDefault(r => r.Column == column && r.Type == type);
    }

    [Fact]
    public async Task Suggest_ProposesTheRulesTheProfileShows()
    {
        var (csv, _, _) = Fixture();
        var path = _h.WriteFile("train.csv", csv);

        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(path), Options());
        var r = Rules(s);

        Assert.Equal(Rows + 1, s.RowsProfiled);
        Assert.NotNull(r.Get("id", "unique"));
        Assert.Equal(ColumnType.Integer, r.Get("id", "type")!.DataType);
        Assert.Equal((1.0, (double)Rows), (r.Get("id", "between")!.Min!.Value, r.Get("id", "between")!.Max!.Value));
        Assert.Equal(1.0, r.Get("id", "not_null")!.Mostly);

        // age: ~1.5 % nulls; mostly is the completeness rounded down to hundredths, never above it.
        var age = r.Get("age", "not_null")!;
        var records = csv.Split('\n').Skip(1).Where(l => l.Length > 0 && !l.StartsWith("999999,", StringComparison.Ordinal)).ToList();
        Assert.Equal(Rows, records.Count);
        var completeness = records.Count(l => l.Split(',')[3].Length > 0) / (double)Rows;
        Assert.Equal(Math.Floor(completeness * 100) / 100, age.Mostly);
        Assert.True(age.Mostly <= completeness && age.Mostly > completeness - 0.01);
        Assert.Equal((18.0, 90.0), (r.Get("age", "between")!.Min!.Value, r.Get("age", "between")!.Max!.Value));
        Assert.Null(r.Get("age", "in_set")); // 73 distinct values: not few-valued

        Assert.Equal(Countries.Order(StringComparer.Ordinal), r.Get("country", "in_set")!.Values);
        Assert.Equal(["0", "1"], r.Get("label", "in_set")!.Values);
        Assert.Equal(ColumnType.Number, r.Get("score", "type")!.DataType);
        Assert.Equal(ColumnType.Boolean, r.Get("active", "type")!.DataType);
        Assert.Equal(ColumnType.Date, r.Get("signup", "type")!.DataType);
        Assert.Null(r.Get("note", "unique"));
        Assert.Null(r.Get("note", "in_set"));
        Assert.Null(r.Get("note", "type"));

        // e-mail: detected (not declared) as PII, so it gets a pattern and uniqueness but no values.
        Assert.Equal(PiiKind.Email, s.DetectedPii["email"]);
        Assert.Equal(RuleSuggester.PatternOf(PiiKind.Email), r.Get("email", "regex")!.Pattern);
        Assert.NotNull(r.Get("email", "unique"));

        // phone: declared; recognised as mobiles in all four written forms; a number column for a quarter of rows, never a range.
        Assert.Equal(RuleSuggester.PatternOf(PiiKind.ChinaMobile), r.Get("phone", "regex")!.Pattern);
        Assert.Equal(1.0, r.Get("phone", "regex")!.Mostly);
        Assert.Null(r.Get("phone", "between"));
        Assert.False(s.DetectedPii.ContainsKey("phone")); // declared, not "detected"

        Assert.All(s.Rules, why => Assert.False(string.IsNullOrWhiteSpace(why.Reason)));
        Assert.Equal(s.Definition.Rules.Count, s.Rules.Count);
    }

    [Fact]
    public async Task Suggest_JsonLoadsStrictly_AndTheSuitePassesOnTheDataItCameFrom()
    {
        var (csv, _, _) = Fixture();
        var path = _h.WriteFile("train.csv", csv);
        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(path), Options());

        var json = s.ToJson();
        var loaded = RuleSet.FromJson(json); // the strict loader: an unknown property would throw
        Assert.Equal(s.RuleSet.Rules.Select(x => x.Name), loaded.Rules.Select(x => x.Name));
        Assert.Equal(s.RuleSet.PassRate, loaded.PassRate);

        var validator = _h.Get<IDataValidator>();
        foreach (var rules in new[] { s.RuleSet, loaded })
        {
            var report = await validator.ValidateAsync(DataSource.FromCsv(path), rules);
            Assert.True(report.Passed, report.ToText());
            Assert.All(report.Rules, x => Assert.True(x.Passed, x.Name));
        }
    }

    [Fact]
    public async Task Suggest_SuiteFailsOnWorseData()
    {
        var (good, _, _) = Fixture(ageNulls: 0.0);
        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(_h.WriteFile("good.csv", good)), Options());
        Assert.Equal(1.0, s.Definition.Rules.Single(r => r.Column == "age" && r.Type == "not_null").Mostly);

        // The next extract: 5 % of ages missing and a duplicated id.
        var (worse, _, _) = Fixture(ageNulls: 0.05, seed: 8);
        var lines = worse.Split('\n').ToList();
        lines.Add(lines[1]);
        var report = await _h.Get<IDataValidator>().ValidateAsync(DataSource.FromCsv(_h.WriteFile("worse.csv", string.Join('\n', lines))), s.RuleSet);

        Assert.False(report.Passed);
        Assert.False(report.Rules.Single(x => x.Name == "age.not_null").Passed);
        Assert.Equal(1, report.Rules.Single(x => x.Name == "id.unique").Unexpected);
    }

    [Fact]
    public async Task Suggest_NoRawValueOfAPiiColumn_InTheSuggestion()
    {
        var (csv, phones, emails) = Fixture();
        var path = _h.WriteFile("train.csv", csv);
        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(path), Options());

        var everything = s.ToJson() + string.Join('\n', s.Rules.Select(x => $"{x.Name} {x.Reason}"))
            + string.Join('\n', s.RuleSet.Rules.Select(x => x.ToString()));
        foreach (var raw in phones.Concat(emails).Concat(Cities))
        {
            Assert.DoesNotContain(raw, everything, StringComparison.Ordinal);
        }

        // birth_city is declared PII with five values: few-valued, yet no allowed-values set lists them.
        Assert.DoesNotContain(s.Definition.Rules, r => r.Column == "birth_city" && (r.Type == "in_set" || r.Values.Count > 0));
        Assert.Contains(s.Definition.Rules, r => r.Column == "birth_city" && r.Type == "not_null");

        // Without the declaration the same column is an ordinary category.
        var open = await RuleSet.SuggestAsync(DataSource.FromCsv(path), new RuleSuggestionOptions { PiiColumns = { "phone" } });
        Assert.Equal(Cities.Order(StringComparer.Ordinal), open.Definition.Rules.Single(r => r.Column == "birth_city" && r.Type == "in_set").Values);
    }

    [Fact]
    public async Task Suggest_UndeclaredColumnOfPhoneNumbers_TooFewRecognisedToBeDetected_GetsNoRangeWithAPhoneInIt()
    {
        // 80 % mobiles (below the 0.9 detection bar), 20 % other 11-digit numbers: not detected, yet min/max would be phones.
        var rnd = new Random(4);
        var rows = Enumerable.Range(0, 500).Select(i => i % 5 == 0
            ? (20_000_000_000L + rnd.Next(1_000_000)).ToString(CultureInfo.InvariantCulture)
            : (13_800_000_000L + rnd.Next(100_000_000)).ToString(CultureInfo.InvariantCulture)).ToList();
        var path = _h.WriteFile("contacts.csv", "contact\n" + string.Join('\n', rows) + "\n");

        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(path));

        Assert.False(s.DetectedPii.ContainsKey("contact"));
        Assert.DoesNotContain(s.Definition.Rules, r => r.Type == "between");
        Assert.Contains(s.Definition.Rules, r => r.Type == "type" && r.DataType == ColumnType.Integer);
        var json = s.ToJson();
        Assert.DoesNotContain(rows, json.Contains);
    }

    [Fact]
    public async Task Suggest_SparseColumn_GetsDatasetCompleteness_NotARowRuleThatQuarantines()
    {
        var path = _h.WriteFile("sparse.csv", "id,coupon\n" + string.Join('\n', Enumerable.Range(1, 200).Select(i => i % 3 == 0 ? $"{i},C{i}" : $"{i},")));
        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(path));

        Assert.DoesNotContain(s.Definition.Rules, r => r.Column == "coupon" && r.Type == "not_null");
        var completeness = s.Definition.Rules.Single(r => r.Column == "coupon" && r.Type == "completeness");
        Assert.Equal(0.33, completeness.Min); // 66 of 200, rounded down
        var report = await _h.Get<IDataValidator>().ValidateAsync(DataSource.FromCsv(path), RuleSet.FromJson(s.ToJson()));
        Assert.True(report.Passed, report.ToText());
        Assert.Equal(0, report.RowsFailed);
    }

    [Fact]
    public async Task Suggest_ManyRulesEachFailingSomeRows_PassRateStillHoldsOnTheProfiledData()
    {
        // Ten columns, each with 1.5 % nulls on different rows: each not_null passes with mostly 0.98, but together they fail
        // about 14 % of rows, so the suggested pass rate must be below the 0.98 default for the suite to pass.
        var rnd = new Random(3);
        var sb = new StringBuilder(string.Join(',', Enumerable.Range(0, 10).Select(i => $"c{i}")) + "\n");
        for (var row = 0; row < 2000; row++)
        {
            sb.AppendLine(string.Join(',', Enumerable.Range(0, 10).Select(_ => rnd.NextDouble() < 0.015 ? "" : rnd.Next(1000).ToString(CultureInfo.InvariantCulture))));
        }

        var path = _h.WriteFile("wide.csv", sb.ToString());
        var s = await RuleSet.SuggestAsync(DataSource.FromCsv(path));
        Assert.InRange(s.RuleSet.PassRate, 0.5, 0.9);
        var report = await _h.Get<IDataValidator>().ValidateAsync(DataSource.FromCsv(path), s.RuleSet);
        Assert.True(report.Passed, report.ToText());
    }

    [Fact]
    public async Task Suggest_BadOptions_ThrowNamingTheSetting()
    {
        var path = _h.WriteFile("a.csv", "a\n1\n");
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => RuleSet.SuggestAsync(DataSource.FromCsv(path), new RuleSuggestionOptions { MaxAllowedValues = 0 }));
        Assert.Contains("MaxAllowedValues", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => RuleSet.SuggestAsync(DataSource.FromCsv(path), new RuleSuggestionOptions { MinimumFraction = 0.2 }));
        Assert.Contains("MinimumFraction", e.Message, StringComparison.Ordinal);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RuleSet.SuggestAsync(DataSource.FromCsv(path), null, cts.Token));
    }

    [Fact]
    public void Floor2_NeverAboveTheShare_AndWithinAHundredth()
    {
        var rnd = new Random(11);
        for (var i = 0; i < 100_000; i++)
        {
            var b = rnd.Next(1, 5000);
            var a = rnd.Next(0, b + 1);
            var share = a / (double)b;
            var m = RuleSuggester.Floor2(share);
            Assert.True(m <= share && m > share - 0.01 - 1e-12, $"{a}/{b}: {m}");
        }
    }
}
