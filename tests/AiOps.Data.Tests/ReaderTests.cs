using System.IO.Compression;
using System.Text;
using AiOps.Data.Gates;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>Duplicate headers refused up front, gzip by magic bytes, the record-size setting, one number grammar.</summary>
public sealed class ReaderTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static RuleSet Rules() => RuleSet.Create("r").Column("id", c => c.NotNull().Unique()).Column("age", c => c.Between(0, 120, mostly: 0.5)).PassRate(0.5).Build();

    private const string Csv = "id,age\n1,30\n2,300\n3,40\n4,50\n";

    [Fact]
    public async Task DuplicateHeader_RefusedBeforeAnyRowNamingTheDuplicates()
    {
        var path = _h.WriteFile("dup.csv", "id,name,id,x,x,y\n1,a,2,3,4,5\n");
        var e = Assert.Throws<DuplicateColumnException>(() => Validate.Run(DataSource.FromCsv(path), RuleSet.Empty("e")));
        Assert.Equal(["id", "x"], e.Duplicates);
        Assert.Contains("'id', 'x'", e.Message, StringComparison.Ordinal);
        Assert.Equal("dup", e.SourceName);

        var output = Path.Combine(_h.Root, "out", "dup.csv");
        await Assert.ThrowsAsync<DuplicateColumnException>(() => _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(path), RuleSet.Empty("e"), new IngestOptions { OutputPath = output }));
        Assert.False(File.Exists(output));
        Assert.Throws<DuplicateColumnException>(() => Validate.Run(DataSource.FromRecords("r", ["a", "a"], [["1", "2"]]), RuleSet.Empty("e")));
    }

    private static byte[] Gz(string text)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        return ms.ToArray();
    }

    private sealed class OneWayStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Gzip_ByPathByMisnamedPathAndByStream_SameVerdictAsPlain()
    {
        var plain = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("train.csv", Csv)), Rules());
        var byPath = DataSource.FromCsv(_h.WriteBytes("train.csv.gz", Gz(Csv)));
        Assert.Equal("train", byPath.Name);
        var gz = await _h.Get<IDataGate>().IngestAsync(byPath, Rules(), new IngestOptions { OutputPath = Path.Combine(_h.Root, "gz.csv"), QuarantinePath = Path.Combine(_h.Root, "gz.q.csv") });
        var misnamed = Validate.Run(DataSource.FromCsv(_h.WriteBytes("really-gzip.csv", Gz(Csv))), Rules());
        var stream = Validate.Run(DataSource.FromCsv(new OneWayStream(Gz(Csv)), "s"), Rules());
        var plainStream = Validate.Run(DataSource.FromCsv(new OneWayStream(Encoding.UTF8.GetBytes(Csv)), "p"), Rules());

        Assert.Equal(["id", "age"], gz.Report.Columns.Select(c => c.Name));
        Assert.Equal(File.ReadAllText(plain.AdmittedPath!), File.ReadAllText(gz.AdmittedPath!));
        foreach (var r in new[] { gz.Report, misnamed, stream, plainStream })
        {
            Assert.Equal((plain.Report.Passed, plain.Report.RowsChecked, plain.Report.RowsFailed), (r.Passed, r.RowsChecked, r.RowsFailed));
        }
    }

    [Fact]
    public void MaxRecordSize_TwentyMegabyteField_ErrorNamesTheSettingAndLine_NotTheHeader()
    {
        var sb = new StringBuilder("id,blob\n1,a\n2,b\n3,");
        sb.Append('x', 20 << 20).Append("\n4,d\n");
        var path = _h.WriteFile("big.csv", sb.ToString());
        var e = Assert.Throws<MalformedCsvException>(() => Validate.Run(DataSource.FromCsv(path), RuleSet.Empty("b")));
        Assert.Contains("CsvSourceOptions.MaxRecordSize (16777216 characters)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("header row", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, e.Line);

        var ok = Validate.Run(DataSource.FromCsv(path, new CsvSourceOptions { MaxRecordSize = 32 << 20 }), RuleSet.Empty("b"));
        Assert.Equal(4, ok.RowsChecked);
    }

    [Fact]
    public void MaxRecordSize_FirstRowTooLarge_NamesTheSetting_AndOptionsAreChecked()
    {
        var path = _h.WriteFile("first.csv", "id,blob\n1," + new string('y', 100_000) + "\n");
        var e = Assert.Throws<MalformedCsvException>(() => Validate.Run(DataSource.FromCsv(path, new CsvSourceOptions { MaxRecordSize = 65_536 }), RuleSet.Empty("b")));
        Assert.Contains("MaxRecordSize (65536 characters)", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRecordSize", Assert.Throws<ArgumentOutOfRangeException>(() => DataSource.FromCsv(path, new CsvSourceOptions { MaxRecordSize = 10 })).Message, StringComparison.Ordinal);
        Assert.Contains("BufferSize", Assert.Throws<ArgumentOutOfRangeException>(() => DataSource.FromCsv(path, new CsvSourceOptions { BufferSize = 1 << 25 })).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("42", true)]
    [InlineData("-2.5", true)]
    [InlineData("1e3", true)]
    [InlineData("12345678901234567", true)]
    [InlineData("42 ", false)]
    [InlineData(" 42", false)]
    [InlineData("1e3 ", false)]
    [InlineData(" 1.5", false)]
    [InlineData("12345678901234567 ", false)]
    [InlineData("1,000", false)]
    [InlineData("NaN", false)]
    [InlineData("Infinity", false)]
    [InlineData("inf", false)]
    public void Numbers_OneGrammarForIntegersAndDecimals_WhiteSpaceRefusedForBoth(string value, bool number)
    {
        var path = _h.WriteFile("n.csv", "x\n\"" + value + "\"\n");
        var r = Validate.Run(DataSource.FromCsv(path), RuleSet.Create("n").Column("x", c => c.OfType(ColumnType.Number, mostly: 0)).Build());
        Assert.Equal(number ? 0 : 1, r.Rule("x.type").Unexpected);
    }
}
