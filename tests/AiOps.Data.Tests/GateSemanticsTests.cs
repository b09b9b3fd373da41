using System.Globalization;
using AiOps.Data.Gates;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>The field's gate semantics: a dataset-level pass rate next to per-rule mostly, multi-column uniqueness, conditional rules,
/// unique rule names and strict rule files.</summary>
public sealed class GateFieldSemanticsTests
{
    /// <summary>1000 rows x 10 columns; column k fails (value 5, outside [0, 1]) on rows 19k .. 19k+18: each rule fails 1.9 % of the
    /// rows, all different, so 19 % of the rows are quarantined.</summary>
    private static DataSource TenRulesEachFailing19PerMille()
    {
        var columns = Enumerable.Range(0, 10).Select(k => "c" + k.ToString(CultureInfo.InvariantCulture)).ToArray();
        var rows = Enumerable.Range(0, 1000).Select(r => (IReadOnlyList<object?>)columns.Select((_, k) => (object?)(r / 19 == k ? "5" : "0")).ToArray());
        return DataSource.FromRecords("ten", columns, rows.ToList());
    }

    private static RuleSetBuilder TenRules(RuleSetBuilder b)
    {
        for (var k = 0; k < 10; k++)
        {
            b.Column("c" + k.ToString(CultureInfo.InvariantCulture), c => c.Between(0, 1));
        }

        return b;
    }

    [Fact]
    public void PassRate_TenRulesEachFailing19PerMilleOfDifferentRows_FailsTheData()
    {
        var report = Validate.Run(TenRulesEachFailing19PerMille(), TenRules(RuleSet.Create("t")).Build());

        Assert.All(report.Rules.Where(r => r.Kind == "between"), r => Assert.True(r.Passed)); // each rule alone is within mostly 0.98
        var rate = report.Rule(RuleSet.PassRateRuleName);
        Assert.False(rate.Passed);
        Assert.Equal(0.81, rate.Observed!.Value, 10);
        Assert.Equal((1000L, 190L), (rate.Evaluated, rate.Unexpected));
        Assert.False(report.Passed);
    }

    [Fact]
    public void PassRate_Configurable_AndOffAtZero()
    {
        Assert.True(Validate.Run(TenRulesEachFailing19PerMille(), TenRules(RuleSet.Create("t")).PassRate(0.81).Build()).Passed);
        Assert.False(Validate.Run(TenRulesEachFailing19PerMille(), TenRules(RuleSet.Create("t")).PassRate(0.811).Build()).Passed);
        Assert.True(Validate.Run(TenRulesEachFailing19PerMille(), TenRules(RuleSet.Create("t")).PassRate(0).Build()).Passed);
        Assert.Throws<ArgumentOutOfRangeException>(() => RuleSet.Create("t").PassRate(1.5));
    }

    [Fact]
    public void PassRate_ExactlyTheBar_Passes_OneRowMoreFails()
    {
        static DataSource Data(int bad) => DataSource.FromRecords("d", ["x"], Enumerable.Range(0, 100).Select(i => (IReadOnlyList<object?>)[i < bad ? "-1" : "1"]).ToList());
        var rules = RuleSet.Create("t").Column("x", c => c.Between(0, null, mostly: 0.5)).Build();
        Assert.True(Validate.Run(Data(2), rules).Rule("pass_rate").Passed);
        Assert.False(Validate.Run(Data(3), rules).Rule("pass_rate").Passed);
    }

    [Fact]
    public async Task PassRate_GateRefusesAndWritesNoAdmittedFile()
    {
        using var h = new DataHarness();
        var result = await h.Get<IDataGate>().IngestAsync(TenRulesEachFailing19PerMille(), TenRules(RuleSet.Create("t")).Build());
        Assert.False(result.Admitted);
        Assert.Null(result.AdmittedPath);
        Assert.Equal(190, result.RowsQuarantined);
    }

    [Fact]
    public void UniqueCombination_DuplicateCombinationsFail_LengthPrefixedSoNoFalseCollisions()
    {
        var rows = new List<IReadOnlyList<object?>>
        {
            new object?[] { "1", "x" }, new object?[] { "1", "y" }, new object?[] { "1", "x" }, // dup of row 1
            new object?[] { "ab", "c" }, new object?[] { "a", "bc" }, // not duplicates of each other
            new object?[] { null, null }, new object?[] { null, null }, // all null: skipped
            new object?[] { "2", null }, new object?[] { "2", null }, // a null equals a null
        };
        var rules = RuleSet.Create("t").UniqueCombination(["a", "b"], mostly: 0).Build();
        var r = Validate.Run(DataSource.FromRecords("t", ["a", "b"], rows), rules).Rule("a+b.unique");
        Assert.Equal(2, r.Unexpected);
        Assert.Equal([3L, 9L], r.FailingRows.Select(f => f.Row));
        Assert.Throws<ArgumentException>(() => RuleSet.Create("t").UniqueCombination(["a"]));
        Assert.Throws<ArgumentException>(() => RuleSet.Create("t").UniqueCombination(["a", "a"]));
    }

    [Fact]
    public void UniqueCombination_MissingColumn_FailsNamingIt()
    {
        var r = Validate.Run(DataSource.FromRecords("t", ["a"], [["1"]]), RuleSet.Create("t").UniqueCombination(["a", "zz"]).Build()).Rule("a+zz.unique");
        Assert.False(r.Passed);
        Assert.Contains("'zz' not found", r.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Where_RuleEvaluatesOnlyRowsWhereTheConditionHolds()
    {
        var rows = new List<IReadOnlyList<object?>>
        {
            new object?[] { "CN", "13812341234" }, new object?[] { "CN", "bad" }, new object?[] { "US", "+1 555 0100" }, new object?[] { "US", "x" }, new object?[] { null, "x" },
        };
        var rules = RuleSet.Create("t").PassRate(0)
            .Where(RuleCondition.Equal("country", "CN"), w => w.Column("phone", c => c.Matches(@"^1[3-9]\d{9}$", mostly: 0)))
            .Build();
        var report = Validate.Run(DataSource.FromRecords("t", ["country", "phone"], rows), rules);
        var r = report.Rule("phone.regex");
        Assert.Equal((2L, 1L), (r.Evaluated, r.Unexpected));
        Assert.Equal(2L, Assert.Single(r.FailingRows).Row);
        Assert.Contains("where country = 'CN'", r.Expectation, StringComparison.Ordinal);
        Assert.Equal(1, report.RowsFailed);
    }

    [Fact]
    public void Where_NumericRangeNullAndNotIn_Clauses()
    {
        var rows = Enumerable.Range(0, 10).Select(i => (IReadOnlyList<object?>)[i % 5 == 0 ? null : i.ToString(CultureInfo.InvariantCulture), "v"]).ToList();
        int Evaluated(RuleCondition c) => (int)Validate.Run(DataSource.FromRecords("t", ["n", "v"], rows),
            RuleSet.Create("t").Where(c, w => w.Column("v", x => x.NotNull())).Build()).Rule("v.not_null").Evaluated;
        Assert.Equal(3, Evaluated(RuleCondition.Range("n", 2, 4)));
        Assert.Equal(2, Evaluated(new RuleCondition { Column = "n", IsNull = true }));
        Assert.Equal(8, Evaluated(RuleCondition.NotNull("n")));
        Assert.Equal(7, Evaluated(new RuleCondition { Column = "n", NotIn = { "1" } })); // nulls do not satisfy a value clause
    }

    [Fact]
    public void Where_OnDatasetRule_OrWithoutClause_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => RuleSet.Create("t").Where(RuleCondition.Equal("a", "1"), w => w.Column("x", c => c.MeanBetween(0, 1))));
        Assert.Contains("row rules only", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => RuleSet.Create("t").Where(new RuleCondition { Column = "a" }, w => w.Column("x", c => c.NotNull())));
        Assert.Contains("no clause", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Where_ConditionColumnMissing_RuleFailsNamingIt()
    {
        var rules = RuleSet.Create("t").Where(RuleCondition.Equal("country", "CN"), w => w.Column("x", c => c.NotNull())).Build();
        var r = Validate.Run(DataSource.FromRecords("t", ["x"], [["1"]]), rules).Rule("x.not_null");
        Assert.False(r.Passed);
        Assert.Contains("'country' not found", r.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RuleNames_TwoOutlierRulesOnOneColumn_ClearErrorOrDistinctNames()
    {
        var e = Assert.Throws<ArgumentException>(() => RuleSet.Create("t").Column("age", c => c.NoOutliers().NoOutliers(OutlierMethod.Iqr)).Build());
        Assert.Contains("'age.outliers'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Named(", e.Message, StringComparison.Ordinal);

        var rules = RuleSet.Create("t").Column("age", c => c.NoOutliers().Named("age.outliers_sd").NoOutliers(OutlierMethod.Iqr).Named("age.outliers_iqr")).Build();
        var values = Enumerable.Range(0, 50).Select(i => (i % 10).ToString(CultureInfo.InvariantCulture)).Append("1000");
        var report = Validate.Column("age", values, c => c.NoOutliers().Named("sd").NoOutliers(OutlierMethod.Iqr).Named("iqr"));
        Assert.Equal(1, report.Rule("sd").Unexpected);
        Assert.Equal(1, report.Rule("iqr").Unexpected);
        Assert.Equal(["age.outliers_sd", "age.outliers_iqr"], rules.Rules.Select(r => r.Name));

        e = Assert.Throws<ArgumentException>(() => RuleSet.Create("t").Column("a", c => c.NotNull().Named("pass_rate")).Build());
        Assert.Contains("built-in", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_UnknownProperty_IsAnErrorNamingItAndTheRule()
    {
        var e = Assert.Throws<ArgumentException>(() => RuleSet.FromJson("""
            {"name":"t","rules":[{"type":"not_null","column":"a"},{"type":"between","column":"age","min":0,"mostley":0.9}]}
            """));
        Assert.Contains("'mostley'", e.Message, StringComparison.Ordinal);
        Assert.Contains("rules[1] (type 'between', column 'age')", e.Message, StringComparison.Ordinal);
        Assert.Contains("mostly", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => RuleSet.FromJson("""{"name":"t","rulez":[]}"""));
        Assert.Contains("'rulez'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => RuleSet.FromJson("""{"name":"t","rules":[{"type":"not_null","column":"a","where":{"column":"b","equals":"1"}}]}"""));
        Assert.Contains("'equals'", e.Message, StringComparison.Ordinal);
        Assert.Contains("rules[0] (type 'not_null', column 'a').where", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_WhereColumnsNameAndPassRate_Load()
    {
        var rules = RuleSet.FromJson("""
            {
              "name": "t", "passRate": 0.5,
              "rules": [
                {"type": "unique", "columns": ["a", "b"]},
                {"type": "not_null", "column": "b", "name": "b_when_a1", "where": {"column": "a", "in": ["1"]}},
                {"type": "outliers", "column": "a", "name": "a_sd"},
                {"type": "outliers", "column": "a", "method": "Iqr", "name": "a_iqr"}
              ]
            }
            """);
        Assert.Equal(0.5, rules.PassRate);
        Assert.Equal(["a+b.unique", "b_when_a1", "a_sd", "a_iqr"], rules.Rules.Select(r => r.Name));
        Assert.Equal("a", rules.Rules[1].Where!.Column);

        var e = Assert.Throws<ArgumentException>(() => RuleSet.FromJson("""{"name":"t","rules":[{"type":"outliers","column":"a"},{"type":"outliers","column":"a","method":"Iqr"}]}"""));
        Assert.Contains("'a.outliers'", e.Message, StringComparison.Ordinal);
    }
}
