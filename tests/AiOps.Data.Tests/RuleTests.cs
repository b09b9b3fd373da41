using System.Globalization;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Tests;

public sealed class RuleTests
{
    public static TheoryData<string, string, string, string> RowRules => new()
    {
        // rule kind, good value, bad value, column rule name
        { "type_integer", "42", "4.2", "v.type" },
        { "type_number", "4.25", "four", "v.type" },
        { "type_boolean", "yes", "maybe", "v.type" },
        { "type_date", "2024-02-29", "2023-02-29", "v.type" },
        { "between", "50", "121", "v.between" },
        { "in_set", "red", "purple", "v.in_set" },
        { "not_in_set", "red", "N/A", "v.not_in_set" },
        { "regex", "AB-123", "ab123", "v.regex" },
        { "length", "abcd", "abcdefghijk", "v.length" },
        { "date_format", "31/12/2024", "2024-12-31", "v.date_format" },
        { "custom", "even:4", "even:5", "v.is_even" },
    };

    private static void Apply(string kind, ColumnRules c, double mostly)
    {
        _ = kind switch
        {
            "type_integer" => c.OfType(ColumnType.Integer, mostly),
            "type_number" => c.OfType(ColumnType.Number, mostly),
            "type_boolean" => c.OfType(ColumnType.Boolean, mostly),
            "type_date" => c.OfType(ColumnType.Date, mostly),
            "between" => c.Between(0, 120, mostly),
            "in_set" => c.InSet(["red", "green"], mostly),
            "not_in_set" => c.NotInSet(["N/A", "unknown"], mostly),
            "regex" => c.Matches(@"^[A-Z]{2}-\d{3}$", mostly),
            "length" => c.Length(2, 10, mostly),
            "date_format" => c.DateFormat("dd/MM/yyyy", mostly),
            _ => c.Must("is_even", v => int.Parse(v[5..], CultureInfo.InvariantCulture) % 2 == 0, mostly),
        };
    }

    [Theory]
    [MemberData(nameof(RowRules))]
    public void RowRule_FailuresWithinMostly_PassesAndCountsUnexpected(string kind, string good, string bad, string name)
    {
        // 100 values, 4 bad: 96 % pass >= mostly 0.95.
        var values = Enumerable.Repeat(good, 96).Concat(Enumerable.Repeat(bad, 4));
        var report = Validate.Column("v", values, c => Apply(kind, c, 0.95));

        var r = report.Rule(name);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal(100, r.Evaluated);
        Assert.Equal(4, r.Unexpected);
        Assert.Equal(0.96, r.Observed!.Value, 6);
        Assert.Equal(4, r.FailingRows.Count);
        Assert.Equal([97L, 98, 99, 100], r.FailingRows.Select(f => f.Row));
        Assert.Equal(4, report.RowsFailed);
    }

    [Theory]
    [MemberData(nameof(RowRules))]
    public void RowRule_FailuresBeyondMostly_FailsTheReport(string kind, string good, string bad, string name)
    {
        var values = Enumerable.Repeat(good, 94).Concat(Enumerable.Repeat(bad, 6));
        var report = Validate.Column("v", values, c => Apply(kind, c, 0.95));

        Assert.False(report.Rule(name).Passed);
        Assert.False(report.Passed);
        Assert.Equal(6, report.Rule(name).Unexpected);
    }

    [Fact]
    public void NotNull_DefaultMostlyIsCompletenessTarget_NinetyNinePercent()
    {
        var twoNulls = Enumerable.Repeat<string?>("x", 98).Concat([null, ""]);
        var oneNull = Enumerable.Repeat<string?>("x", 99).Append(null);

        Assert.False(Validate.Column("v", twoNulls, c => c.NotNull()).Rule("v.not_null").Passed);
        var r = Validate.Column("v", oneNull, c => c.NotNull()).Rule("v.not_null");
        Assert.True(r.Passed);
        Assert.Equal(0.99, r.Mostly);
    }

    [Fact]
    public void RowRule_DefaultMostly_IsAccuracyTargetNinetyEightPercent()
    {
        var r = Validate.Column("v", Enumerable.Repeat("1", 98).Concat(["x", "y"]), c => c.OfType(ColumnType.Integer)).Rule("v.type");
        Assert.True(r.Passed);
        Assert.Equal(RuleSet.DefaultAccuracy, r.Mostly);
        Assert.False(Validate.Column("v", Enumerable.Repeat("1", 97).Concat(["x", "y", "z"]), c => c.OfType(ColumnType.Integer)).Rule("v.type").Passed);
    }

    [Fact]
    public void RowRules_SkipNulls_NotCountedAsEvaluated()
    {
        var r = Validate.Column("v", ["5", null, "", "500"], c => c.Between(0, 10, mostly: 0.5)).Rule("v.between");
        Assert.Equal(2, r.Evaluated);
        Assert.Equal(1, r.Unexpected);
    }

    [Fact]
    public void Unique_Exact_FlagsEveryLaterDuplicateWithItsRow()
    {
        var r = Validate.Column("id", ["a", "b", "a", "c", "b", "a"], c => c.Unique(mostly: 0.4)).Rule("id.unique");
        Assert.Equal(3, r.Unexpected);
        Assert.Equal([3L, 5, 6], r.FailingRows.Select(f => f.Row));
        Assert.True(r.Passed); // 3 of 6 pass = 0.5 >= 0.4
    }

    [Fact]
    public void UniqueApprox_ManyDuplicates_FailsAndFewPasses()
    {
        var distinct = Enumerable.Range(0, 20_000).Select(i => i.ToString(CultureInfo.InvariantCulture));
        Assert.True(Validate.Column("id", distinct, c => c.UniqueApprox(0.02)).Rule("id.unique_approx").Passed);

        var dups = Enumerable.Range(0, 20_000).Select(i => (i % 15_000).ToString(CultureInfo.InvariantCulture));
        var r = Validate.Column("id", dups, c => c.UniqueApprox(0.02)).Rule("id.unique_approx");
        Assert.False(r.Passed);
        Assert.InRange(r.Observed!.Value, 0.72, 0.78); // 15 000 / 20 000
    }

    [Fact]
    public void DatasetRules_StatisticsBetween_JudgeWelfordStatistics()
    {
        string[] values = ["2", "4", "4", "4", "5", "5", "7", "9"]; // mean 5, sample sd 2.138
        var report = Validate.Column("x", values, c => c
            .MeanBetween(4.9, 5.1).MinBetween(2, 2).MaxBetween(8, null).StdDevBetween(2.1, 2.2).Completeness(1.0));

        Assert.All(report.Rules, r => Assert.True(r.Passed, r.Name));
        Assert.Equal(5.0, report.Rule("x.mean").Observed!.Value, 9);
        Assert.Equal(2.13809, report.Rule("x.stddev").Observed!.Value, 4);

        var failing = Validate.Column("x", values, c => c.MeanBetween(6, 7).MaxBetween(null, 8));
        Assert.False(failing.Rule("x.mean").Passed);
        Assert.False(failing.Rule("x.max").Passed);
        Assert.Equal(0, failing.RowsFailed); // dataset rules quarantine no rows
    }

    [Fact]
    public void Completeness_BelowMinimum_FailsWithObservedShare()
    {
        var r = Validate.Column("v", Enumerable.Repeat<string?>("a", 97).Concat([null, null, null]), c => c.Completeness()).Rule("v.completeness");
        Assert.False(r.Passed);
        Assert.Equal(0.97, r.Observed!.Value, 9);
    }

    [Fact]
    public void RowCountAndExists_CheckTheDataset()
    {
        var source = DataSource.FromRecords("t", ["a"], [["1"], ["2"], ["3"]]);
        var report = Validate.Run(source, RuleSet.Create("t").RowCount(5, null).Column("a", c => c.Exists()).Column("b", c => c.Exists()).Build());
        Assert.False(report.Rule("row_count").Passed);
        Assert.Equal(3, report.Rule("row_count").Observed);
        Assert.True(report.Rule("a.exists").Passed);
        Assert.False(report.Rule("b.exists").Passed);
    }

    [Fact]
    public void RowRule_OnMissingColumn_FailsWithMessageNamingColumns()
    {
        var report = Validate.Run(DataSource.FromRecords("t", ["a"], [["1"]]), RuleSet.Create("t").Column("age", c => c.Between(0, 1)).Build());
        var r = report.Rule("age.between");
        Assert.False(r.Passed);
        Assert.Contains("'age' not found", r.Message, StringComparison.Ordinal);
        Assert.Contains("a", r.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outliers_StdDev_QuarantinesRowsBeyondThreeSigma()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (50 + (i % 11) - 5).ToString(CultureInfo.InvariantCulture)).ToList();
        values[123] = "500";
        values[777] = "-400";
        var r = Validate.Column("x", values, c => c.NoOutliers(mostly: 1.0)).Rule("x.outliers");
        Assert.False(r.Passed);
        Assert.Equal([124L, 778], r.FailingRows.Select(f => f.Row));
    }

    [Fact]
    public void Outliers_Iqr_UsesTukeyFences()
    {
        // 1..100, 150, 300: quartiles 26.25 and 76.75, IQR 50.5, fences -49.5 and 152.5.
        var values = Enumerable.Range(1, 100).Select(i => i.ToString(CultureInfo.InvariantCulture)).Concat(["150", "300"]);
        var r = Validate.Column("x", values, c => c.NoOutliers(OutlierMethod.Iqr, mostly: 1.0)).Rule("x.outliers");
        Assert.Equal(1, r.Unexpected);
        Assert.Equal(102, r.FailingRows[0].Row);
    }

    [Fact]
    public void Outliers_OnSingleReadStream_ThrowsNamingTheNeed()
    {
        var source = DataSource.FromCsv(new MemoryStream("x\n1\n2\n"u8.ToArray()), "s");
        var e = Assert.Throws<InvalidOperationException>(() => Validate.Run(source, RuleSet.Create("t").Column("x", c => c.NoOutliers()).Build()));
        Assert.Contains("two passes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RowPredicate_ComparesColumns_AndWarningDoesNotFailGate()
    {
        var source = DataSource.FromRecords("t", ["start", "end"], [[1, 2], [5, 3], [2, 9]]);
        var rules = RuleSet.Create("t")
            .Row("start_before_end", row => row.TryGetNumber("start", out var s) && row.TryGetNumber("end", out var e) && s < e, mostly: 1.0, ValidationSeverity.Warning)
            .Build();
        var report = Validate.Run(source, rules);
        var r = report.Rule("start_before_end");
        Assert.False(r.Passed);
        Assert.Equal(2, r.FailingRows.Single().Row);
        Assert.True(report.Passed);
        Assert.Equal(0, report.RowsFailed);
    }

    [Fact]
    public void Builder_InvalidArguments_ThrowWhereWritten()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RuleSet.Create("t").Column("a", c => c.NotNull(mostly: 1.5)));
        var e = Assert.Throws<ArgumentException>(() => RuleSet.Create("t").Column("a", c => c.Matches("([")));
        Assert.Contains("regular expression", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => RuleSet.Create("t").Column("a", c => c.NoOutliers(k: -1)));
    }

    [Fact]
    public void FromJson_SameRulesAsFluent_SameResults()
    {
        const string json = """
        {
          "name": "people", "keyColumn": "id", "defaultMostly": 0.9,
          "rules": [
            { "type": "row_count", "min": 1 },
            { "type": "not_null", "column": "id", "mostly": 1 },
            { "type": "between", "column": "age", "min": 0, "max": 120 },
            { "type": "in_set", "column": "sex", "values": ["F", "M"] },
            { "type": "type", "column": "age", "dataType": "Integer" },
            { "type": "completeness", "column": "age", "min": 0.5 },
            { "type": "outliers", "column": "age", "method": "Iqr", "k": 3 }
          ]
        }
        """;
        var rules = RuleSet.FromJson(json);
        Assert.Equal("id", rules.KeyColumn);
        Assert.Equal(0.9, rules.Rules.Single(r => r.Name == "age.between").Mostly);
        var source = DataSource.FromRecords("p", ["id", "age", "sex"], [[1, 30, "F"], [2, 200, "M"], [3, 40, "X"]]);
        var report = Validate.Run(source, rules);
        Assert.Equal(1, report.Rule("age.between").Unexpected);
        Assert.Equal("2", Assert.Single(report.Rule("age.between").FailingRows).Key);
        Assert.Equal(1, report.Rule("sex.in_set").Unexpected);
    }

    [Fact]
    public void FromJson_UnknownType_ThrowsNamingRuleIndexAndChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => RuleSet.FromJson("""{"name":"x","rules":[{"type":"not_null","column":"a"},{"type":"bogus","column":"a"}]}"""));
        Assert.Contains("Rules[1]", e.Message, StringComparison.Ordinal);
        Assert.Contains("between", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RuleSet.FromJson("not json"));
    }
}
