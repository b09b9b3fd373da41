using System.Text;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

public sealed class CsvTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private ValidationReport Run(string csv, RuleSet? rules = null) =>
        Validate.Run(DataSource.FromCsv(_h.WriteFile("d.csv", csv)), rules ?? RuleSet.Create("d").Key("id").Column("age", c => c.Between(0, 120, mostly: 0)).Build());

    [Fact]
    public void FailingRows_ReportPhysicalLineNumbers_AcrossQuotedLineBreaks()
    {
        const string csv = "id,note,age\n1,\"two\nlines\",30\n2,plain,300\n3,\"a \"\"quoted\"\"\r\nthree\nlines\",-1\r\n4,x,5\n";
        var report = Run(csv);
        var fails = report.Rule("age.between").FailingRows;
        Assert.Equal([4L, 5], fails.Select(f => f.Line));
        Assert.Equal([2L, 3], fails.Select(f => f.Row));
        Assert.Equal(["2", "3"], fails.Select(f => f.Key));
        Assert.Equal(4, report.RowsChecked);
    }

    [Fact]
    public void RaggedRows_QuarantinedWithLineNumber_NotDropped_BlankLinesSkipped()
    {
        var report = Run("id,age\n1,30\n2,40,extra\n3\n\n4,50\n");
        Assert.Equal(4, report.RowsChecked); // the blank line on line 5 is no row
        Assert.Equal(1, report.BlankLines);
        Assert.Equal(2, report.MalformedRows);
        Assert.Equal(2, report.RowsFailed);
        var wf = report.Rule("well_formed");
        Assert.False(wf.Passed); // 2 of 4 well formed < 0.98
        Assert.Equal([3L, 4], wf.FailingRows.Select(f => f.Line));
        Assert.Contains("expected 2 fields, found 3", wf.FailingRows[0].Reason, StringComparison.Ordinal);
        Assert.Equal(2, report.Columns.Single(c => c.Name == "age").Count); // malformed rows stay out of statistics
        Assert.Equal(4, Run("id,age\n1,30\n\n2,300\n").Rule("age.between").FailingRows.Single().Line); // lines still count blanks
    }

    [Fact]
    public void TrailingBlankLines_PassAWellFormedGate_AndAreNotNullRowsInOneColumnFiles()
    {
        var sb = new StringBuilder("id,age\n");
        for (var i = 1; i <= 100; i++)
        {
            sb.Append(i).Append(",30\n");
        }

        var report = Run(sb.Append("\n\r\n").ToString());
        Assert.True(report.Rule("well_formed").Passed);
        Assert.Equal(100, report.RowsChecked);
        Assert.Equal(2, report.BlankLines);
        Assert.True(report.Passed);

        var one = Validate.Run(DataSource.FromCsv(_h.WriteFile("one.csv", "a\n1\n\n2\n\n")), RuleSet.Create("one").Column("a", c => c.NotNull()).Build());
        Assert.Equal(2, one.RowsChecked);
        Assert.Equal(0, one.Columns[0].Nulls);
        Assert.True(one.Rule("a.not_null").Passed);
        Assert.Equal(1, Validate.Run(DataSource.FromCsv(_h.WriteFile("q.csv", "a\n\"\"\n")), RuleSet.Empty("q")).Columns[0].Nulls); // "" is a null value, not a blank line
    }

    [Theory]
    [InlineData("id,age\n1,30\n2,\"40\"x\n3,50\n", 3L)] // a stray quote
    [InlineData("id,age\n1,\"ab\"c\n2,40\n3,50\n", 2L)]
    [InlineData("id,age\r\n1,30\r\n2,\"4\"0\"\r\n3,50\r\n", 3L)]
    public void StrayQuote_QuarantinesThatRecord_AndResumesAtTheNextRecord(string csv, long badLine)
    {
        var report = Run(csv, RuleSet.Create("d").DefaultMostly(0.5).Build());
        Assert.Equal(3, report.RowsChecked);
        Assert.Equal(1, report.MalformedRows);
        var f = Assert.Single(report.Rule("well_formed").FailingRows);
        Assert.Equal(badLine, f.Line);
        Assert.Contains("quote", f.Reason, StringComparison.Ordinal);
        Assert.Equal(2, report.Columns.Single(c => c.Name == "id").Count);
    }

    [Fact]
    public void StrayQuote_InAStream_AndLateInALargeFile_QuarantinesOnlyThatRecord()
    {
        var sb = new StringBuilder("id,note,age\n");
        for (var i = 1; i <= 20_000; i++)
        {
            sb.Append(i).Append(i == 15_000 ? ",\"a,b\"c" : ",\"x, \"\"y\"\"\nz\"").Append(',').Append(i % 90).Append('\n');
        }

        var csv = sb.ToString();
        var fromFile = Run(csv, RuleSet.Create("d").Build());
        var fromStream = Validate.Run(DataSource.FromCsv(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "s"), RuleSet.Create("d").Build());
        foreach (var report in new[] { fromFile, fromStream })
        {
            Assert.Equal(20_000, report.RowsChecked);
            Assert.Equal(1, report.MalformedRows);
            Assert.Equal(1 + (14_999 * 2) + 1, Assert.Single(report.Rule("well_formed").FailingRows).Line);
            Assert.Equal(19_999, report.Columns.Single(c => c.Name == "age").Count);
        }
    }

    [Fact]
    public void QuoteInsideAnUnquotedField_IsALiteralCharacter()
    {
        var report = Run("id,note\n1,a\"b\n2,5\" tall\n", RuleSet.Empty("d"));
        Assert.Equal(2, report.RowsChecked);
        Assert.Equal(0, report.MalformedRows);
    }

    [Fact]
    public void UnterminatedQuote_QuarantinesTheRestAsOneRecord_WithItsLine()
    {
        var report = Run("id,age\n1,30\n2,\"40\n3,50\n", RuleSet.Create("d").DefaultMostly(0.5).Build());
        Assert.Equal(2, report.RowsChecked);
        var f = Assert.Single(report.Rule("well_formed").FailingRows);
        Assert.Equal(3, f.Line);
        Assert.Contains("never closed", f.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidReplacementCharacter_IsAdmitted_NotInvalidUtf8()
    {
        var report = Validate.Run(DataSource.FromCsv(_h.WriteFile("r.csv", "id,name\n1,caf\uFFFD\n2,ok\n")), RuleSet.Empty("r"));
        Assert.Equal(0, report.MalformedRows);
        Assert.True(report.Rule("well_formed").Passed);
    }

    [Fact]
    public void InvalidUtf8_QuarantinedWithLineNumber()
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("id,name\n1,张三\n2,"));
        bytes.AddRange([0xC3, 0x28, 0xFF]); // not UTF-8
        bytes.AddRange(Encoding.UTF8.GetBytes("\n3,ok\n"));
        var report = Validate.Run(DataSource.FromCsv(_h.WriteBytes("bad.csv", bytes.ToArray())), RuleSet.Empty("d"));
        Assert.Equal(3, report.RowsChecked);
        var f = Assert.Single(report.Rule("well_formed").FailingRows);
        Assert.Equal(3, f.Line);
        Assert.Contains("UTF-8", f.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void HashLines_AreData_NotSkippedComments()
    {
        var report = Run("id,age\n#1,30\n2,40\n");
        Assert.Equal(2, report.RowsChecked);
    }

    [Fact]
    public void NullTokens_AreCountedAsNulls()
    {
        var options = new CsvSourceOptions();
        options.NullValues.Add("NA");
        var report = Validate.Run(DataSource.FromCsv(_h.WriteFile("n.csv", "a\n1\nNA\n\"\"\n3\n"), options), RuleSet.Create("n").Column("a", c => c.NotNull(mostly: 0)).Build());
        Assert.Equal(2, report.Columns[0].Nulls);
        Assert.Equal(2, report.Rule("a.not_null").Unexpected);
    }

    [Fact]
    public void Statistics_InferTypesAndEstimateDistinct()
    {
        var report = Run("id,name,score\n1,a,1.5\n2,b,2.5\n3,a,\n4,c,4\n");
        var id = report.Columns.Single(c => c.Name == "id");
        Assert.Equal(ColumnType.Integer, id.InferredType);
        Assert.Equal(4, id.DistinctEstimate);
        Assert.Equal(2.5, id.Mean);
        var name = report.Columns.Single(c => c.Name == "name");
        Assert.Equal(ColumnType.String, name.InferredType);
        Assert.Equal(3, name.DistinctEstimate);
        var score = report.Columns.Single(c => c.Name == "score");
        Assert.Equal(ColumnType.Number, score.InferredType);
        Assert.Equal(0.75, score.Completeness);
        Assert.Equal(8.0 / 3, score.Mean!.Value, 12);
    }

    [Fact]
    public void Report_JsonRoundTripsAndTextNamesFailures()
    {
        var report = Run("id,age\n1,30\n2,300\n");
        var back = ValidationReport.FromJson(report.ToJson());
        Assert.Equal(report.Rules.Count, back.Rules.Count);
        Assert.Equal(report.Rule("age.between").FailingRows, back.Rule("age.between").FailingRows);
        Assert.Equal(report.Columns.Select(c => c.Mean), back.Columns.Select(c => c.Mean));
        Assert.Contains("\"passed\": true", report.ToJson(), StringComparison.Ordinal);

        var text = report.ToText();
        Assert.Contains("age.between", text, StringComparison.Ordinal);
        Assert.Contains("line 3 key=2 value='300'", text, StringComparison.Ordinal);
        var summary = report.ToSummary();
        Assert.Equal(("d", 2L, 1L), (summary.Dataset, summary.RowsChecked, summary.RowsQuarantined));
    }

    [Fact]
    public void FailingRowSamples_MaskPii()
    {
        var report = Validate.Run(
            DataSource.FromCsv(_h.WriteFile("p.csv", "id,phone\n13812341234,x\n")),
            RuleSet.Create("p").Key("id").Column("phone", c => c.Matches("^1\\d{10}$")).Build());
        var f = Assert.Single(report.Rule("phone.regex").FailingRows);
        Assert.Equal("138****1234", f.Key);
        Assert.DoesNotContain("13812341234", report.ToJson(), StringComparison.Ordinal);
    }
}
