using System.Data;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using AiOps.Data.Gates;
using AiOps.Data.Pii;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>JSON Lines and IDataReader go through the same rules and quarantine as CSV: the same rows give the same verdict and counts.</summary>
public sealed class FormatTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private sealed record Person(int Id, int? Age, string? Country, string? Phone, double Score);

    /// <summary>300 rows with nulls, out-of-range ages, duplicate ids, bad phones and one outlier score.</summary>
    private static List<Person> People() => [.. Enumerable.Range(1, 300).Select(i => new Person(
        i % 97 == 0 ? 1 : i,
        i % 41 == 0 ? null : i % 53 == 0 ? 150 : 20 + (i % 50),
        i % 3 == 0 ? "US" : "CN",
        i % 29 == 0 ? null : i % 31 == 0 ? "12345" : "138" + (10_000_000 + i).ToString(CultureInfo.InvariantCulture),
        i == 150 ? 1e6 : (i % 10) + 0.25))];

    private static readonly string[] Columns = ["id", "age", "country", "phone", "score"];

    private static RuleSet Rules() => RuleSet.Create("people").Key("id").PassRate(0.9)
        .Column("id", c => c.NotNull().Unique())
        .Column("age", c => c.OfType(ColumnType.Integer).Between(0, 120, mostly: 0.9).Completeness(0.9))
        .Column("score", c => c.NoOutliers())
        .Where(RuleCondition.Equal("country", "CN"), w => w.Column("phone", c => c.Matches(@"^1[3-9]\d{9}$", mostly: 0.9)))
        .RowCount(min: 100)
        .Build();

    private static string F(object? v) => v switch { null => "", double d => d.ToString("R", CultureInfo.InvariantCulture), IFormattable f => f.ToString(null, CultureInfo.InvariantCulture), _ => v.ToString()! };

    private string WriteCsv(List<Person> people)
    {
        var sb = new StringBuilder(string.Join(",", Columns)).Append('\n');
        foreach (var p in people)
        {
            sb.Append(string.Join(",", F(p.Id), F(p.Age), F(p.Country), F(p.Phone), F(p.Score))).Append('\n');
        }

        return _h.WriteFile("people.csv", sb.ToString());
    }

    private static string JsonLines(List<Person> people)
    {
        var sb = new StringBuilder();
        foreach (var p in people)
        {
            // Numbers as JSON numbers, a missing property for a null phone, JSON null for a null age.
            var o = new Dictionary<string, object?> { ["id"] = p.Id, ["age"] = p.Age, ["country"] = p.Country, ["score"] = p.Score };
            if (p.Phone is not null)
            {
                o["phone"] = p.Phone;
            }

            sb.Append(JsonSerializer.Serialize(o)).Append('\n');
        }

        return sb.ToString();
    }

    private static DataTable Table(List<Person> people)
    {
        var t = new DataTable();
        t.Columns.Add("id", typeof(int));
        t.Columns.Add("age", typeof(int));
        t.Columns.Add("country", typeof(string));
        t.Columns.Add("phone", typeof(string));
        t.Columns.Add("score", typeof(double));
        foreach (var p in people)
        {
            t.Rows.Add(p.Id, (object?)p.Age ?? DBNull.Value, (object?)p.Country ?? DBNull.Value, (object?)p.Phone ?? DBNull.Value, p.Score);
        }

        return t;
    }

    private static object Summary(ValidationReport r) => (r.Passed, r.RowsChecked, r.RowsFailed, r.MalformedRows,
        string.Join(";", r.Rules.Select(x => $"{x.Name}:{x.Passed}:{x.Evaluated}:{x.Unexpected}:{string.Join(",", x.FailingRows.Select(f => f.Row))}")));

    [Fact]
    public async Task JsonLinesAndDataReader_SameRowsAsCsv_SameVerdictAndCounts()
    {
        var people = People();
        var csv = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(WriteCsv(people)), Rules(), Out("csv"));
        var jsonlPath = _h.WriteFile("people.jsonl", JsonLines(people));
        var jsonl = await _h.Get<IDataGate>().IngestAsync(DataSource.FromJsonLines(jsonlPath, Columns), Rules(), Out("jsonl"));
        var table = Table(people);
        var ado = await _h.Get<IDataGate>().IngestAsync(DataSource.FromDataReader("people", table.CreateDataReader), Rules(), Out("ado"));

        Assert.True(csv.Report.RowsFailed > 10); // the data exercises the rules
        Assert.Equal(Summary(csv.Report), Summary(jsonl.Report));
        Assert.Equal(Summary(csv.Report), Summary(ado.Report));
        Assert.Equal((csv.RowsPassed, csv.RowsQuarantined), (jsonl.RowsPassed, jsonl.RowsQuarantined));
        Assert.Equal((csv.RowsPassed, csv.RowsQuarantined), (ado.RowsPassed, ado.RowsQuarantined));
        Assert.Equal(File.ReadAllText(csv.AdmittedPath!), File.ReadAllText(jsonl.AdmittedPath!));
        Assert.Equal(File.ReadAllText(csv.AdmittedPath!), File.ReadAllText(ado.AdmittedPath!));

        // Read once: a single IDataReader cannot serve the outlier rule's two passes, and says so.
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _h.Get<IDataGate>().IngestAsync(DataSource.FromDataReader("once", table.CreateDataReader()), Rules(), Out("once")));
        Assert.Contains("two passes", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The same rows as a Parquet file of two row groups: int id, nullable int age, strings, double score.</summary>
    private async Task<string> WriteParquet(List<Person> people)
    {
        var id = new Parquet.Schema.DataField<int>("id");
        var age = new Parquet.Schema.DataField<int?>("age");
        var country = new Parquet.Schema.DataField<string>("country");
        var phone = new Parquet.Schema.DataField<string>("phone");
        var score = new Parquet.Schema.DataField<double>("score");
        var path = Path.Combine(_h.Root, "people.parquet");
        await using (var file = File.Create(path))
        await using (var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(id, age, country, phone, score), file))
        {
            foreach (var chunk in people.Chunk(170))
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(id, new ReadOnlyMemory<int>([.. chunk.Select(p => p.Id)]));
                await group.WriteAsync(age, new ReadOnlyMemory<int?>([.. chunk.Select(p => p.Age)]));
                await group.WriteAsync(country, [.. chunk.Select(p => p.Country!)]);
                await group.WriteAsync(phone, [.. chunk.Select(p => p.Phone!)]);
                await group.WriteAsync(score, new ReadOnlyMemory<double>([.. chunk.Select(p => p.Score)]));
            }
        }

        return path;
    }

    [Fact]
    public async Task Parquet_SameRowsAsCsv_SameVerdictCountsAndAdmittedFile()
    {
        var people = People();
        var csv = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(WriteCsv(people)), Rules(), Out("csv"));
        var source = DataSource.FromParquet(await WriteParquet(people));
        Assert.Equal("people", source.Name);
        var parquet = await _h.Get<IDataGate>().IngestAsync(source, Rules(), Out("parquet"));
        Assert.Equal(Summary(csv.Report), Summary(parquet.Report));
        Assert.Equal(File.ReadAllText(csv.AdmittedPath!), File.ReadAllText(parquet.AdmittedPath!));
        // The quarantine holds the same rows; only _line differs (a CSV row's line counts the header, a Parquet row has no line: its number).
        static IEnumerable<string> WithoutLine(string path) => File.ReadAllLines(path).Skip(1).Select(l => l[(l.IndexOf(',', StringComparison.Ordinal) + 1)..]);
        Assert.Equal(WithoutLine(csv.QuarantinePath), WithoutLine(parquet.QuarantinePath));
        Assert.NotEmpty(WithoutLine(parquet.QuarantinePath));
    }

    [Fact]
    public void Parquet_NotAParquetFile_SaysSo()
    {
        var e = Assert.Throws<InvalidDataException>(() => Validate.Run(DataSource.FromParquet(_h.WriteFile("x.parquet", "id\n1\n")), RuleSet.Empty("x")));
        Assert.Contains("x.parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains("Parquet", e.Message, StringComparison.Ordinal);
    }

    private IngestOptions Out(string name) => new()
    {
        OutputPath = Path.Combine(_h.Root, name + ".admitted.csv"),
        QuarantinePath = Path.Combine(_h.Root, name + ".quarantine.csv"),
        MaskColumns = { ["phone"] = PiiOperator.Mask },
    };

    [Fact]
    public async Task JsonLines_BadLinesQuarantinedWithTheirLine_BlankLinesCounted_ColumnsFromFirstObject()
    {
        var text = "not json\n{\"id\":1,\"name\":\"a\"}\n\n{\"id\":2,\"name\":\"b\",\"extra\":1}\n[1,2]\n{\"id\":3}\n{\"id\":4,\"name\":{\"x\":1}}\n";
        var path = _h.WriteBytes("t.jsonl.gz", Gzip(text));
        var result = await _h.Get<IDataGate>().IngestAsync(DataSource.FromJsonLines(path), RuleSet.Create("t").PassRate(0).DefaultMostly(0).Build());
        var r = result.Report;
        Assert.Equal(["id", "name"], r.Columns.Select(c => c.Name));
        Assert.Equal((6L, 3L, 1L), (r.RowsChecked, r.MalformedRows, r.BlankLines));
        var wellFormed = r.Rule(RuleSet.WellFormedRuleName);
        Assert.Equal([1L, 4L, 5L], wellFormed.FailingRows.Select(f => f.Line));
        Assert.Contains("unexpected property 'extra'", wellFormed.FailingRows[1].Reason, StringComparison.Ordinal);
        Assert.Equal(["1,a", "3,", "4,\"{\"\"x\"\":1}\""], File.ReadAllLines(result.AdmittedPath!).Skip(1));
        Assert.Contains("not json", File.ReadAllText(result.QuarantinePath), StringComparison.Ordinal); // nothing lost
    }

    private static byte[] Gzip(string text)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        return ms.ToArray();
    }
}
