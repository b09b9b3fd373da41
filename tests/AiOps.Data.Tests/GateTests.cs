using System.Globalization;
using System.Text;
using AiOps.Data.Gates;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Data.Tests;

public sealed class GateTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static RuleSet Rules(double mostly = 0.5) => RuleSet.Create("people").Key("id").DefaultMostly(mostly).PassRate(mostly)
        .Column("id", c => c.NotNull().Unique())
        .Column("age", c => c.OfType(ColumnType.Integer).Between(0, 120))
        .Column("phone", c => c.Matches(@"^1[3-9]\d{9}$"))
        .Build();

    private static string Csv(int rows, Func<int, string> line)
    {
        var sb = new StringBuilder("id,age,phone\n");
        for (var i = 1; i <= rows; i++)
        {
            sb.Append(line(i)).Append('\n');
        }

        return sb.ToString();
    }

    private static string[] DataLines(string path) => File.ReadAllLines(path).Skip(1).ToArray();

    [Fact]
    public async Task IngestAsync_EveryRowAdmittedOrQuarantined_CountsAddUp()
    {
        // Rows fail for different reasons, some for several; one is ragged, one a duplicate.
        var csv = Csv(200, i => i switch
        {
            7 => "7,abc,13812341234",
            20 => "20,150,12345",
            33 => "33,40",
            50 => "49,30,13812341234",
            _ => string.Create(CultureInfo.InvariantCulture, $"{i},{i % 90},1{3 + (i % 7)}812341234"),
        });
        var gate = _h.Get<IDataGate>();
        var result = await gate.IngestAsync(DataSource.FromCsv(_h.WriteFile("people.csv", csv)), Rules(0.9));

        Assert.True(result.Admitted);
        Assert.Equal(200, result.RowsRead);
        Assert.Equal(result.RowsRead, result.RowsPassed + result.RowsQuarantined);
        Assert.Equal(4, result.RowsQuarantined);
        var admitted = DataLines(result.AdmittedPath!);
        var quarantined = DataLines(result.QuarantinePath);
        Assert.Equal(result.RowsPassed, admitted.Length);
        Assert.Equal(result.RowsQuarantined, quarantined.Length);

        // Every input id appears exactly once across the two files (by line number for quarantined rows).
        var lines = quarantined.Select(q => int.Parse(q.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([8, 21, 34, 51], lines);
        Assert.Contains("age.type;age.between", quarantined[0], StringComparison.Ordinal);
        Assert.Contains("age.between;phone.regex", quarantined[1], StringComparison.Ordinal);
        Assert.Contains("well_formed", quarantined[2], StringComparison.Ordinal);
        Assert.Contains("id.unique", quarantined[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_GateFails_NoAdmittedFileButQuarantineWritten()
    {
        var csv = Csv(10, i => i <= 5 ? $"{i},500,13812341234" : $"{i},30,13812341234");
        var output = Path.Combine(_h.Root, "out", "admitted.csv");
        var result = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("p.csv", csv)), Rules(0.9), new IngestOptions { OutputPath = output });

        Assert.False(result.Admitted);
        Assert.Null(result.AdmittedPath);
        Assert.False(File.Exists(output));
        Assert.Equal(5, DataLines(result.QuarantinePath).Length);
        Assert.Equal(10, result.RowsPassed + result.RowsQuarantined);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(output)!, "*.tmp")); // no temp file left behind
    }

    [Fact]
    public async Task IngestAsync_MaskColumns_NoRawPiiInEitherFile()
    {
        var csv = "id,age,phone\n1,30,13812341234\n2,300,13912345678\n";
        var options = new IngestOptions { MaskColumns = { ["phone"] = PiiOperator.Mask } };
        var result = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("m.csv", csv)), Rules(), options);

        Assert.True(result.Admitted);
        Assert.Equal("1,30,138****1234", DataLines(result.AdmittedPath!).Single());
        var q = DataLines(result.QuarantinePath).Single();
        Assert.EndsWith(",2,300,139****5678", q, StringComparison.Ordinal);
        Assert.DoesNotContain("13912345678", File.ReadAllText(result.QuarantinePath), StringComparison.Ordinal);
        Assert.DoesNotContain("13812341234", File.ReadAllText(result.AdmittedPath!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_MaskUnknownColumn_ThrowsNamingColumns()
    {
        var options = new IngestOptions { MaskColumns = { ["mobile"] = PiiOperator.Mask } };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("m.csv", "id,age,phone\n")), Rules(), options));
        Assert.Contains("'mobile'", e.Message, StringComparison.Ordinal);
        Assert.Contains("phone", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_StrayQuote_QuarantinesThatRecordWithItsLine_AdmitsTheRest()
    {
        var output = Path.Combine(_h.Root, "adm", "x.csv");
        var quarantine = Path.Combine(_h.Root, "adm", "x.q.csv");
        var options = new IngestOptions { OutputPath = output, QuarantinePath = quarantine };
        var csv = Csv(100, i => i == 7 ? "7,2,\"3\"4" : $"{i},30,13812341234");
        var result = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("x.csv", csv)), Rules(), options);
        Assert.True(result.Admitted);
        Assert.Equal((100L, 99L, 1L), (result.RowsRead, result.RowsPassed, result.RowsQuarantined));
        Assert.Equal(99, DataLines(output).Length);
        var q = Assert.Single(DataLines(quarantine));
        Assert.StartsWith("8,7,well_formed,", q, StringComparison.Ordinal);
        Assert.Contains("quote", q, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestAsync_RecordsRowAndRunMetrics()
    {
        using var rows = new MetricCollector<long>(_h.Services.GetRequiredService<IMeterFactory>(), "AiOps.Data", "aiops.data.rows");
        using var runs = new MetricCollector<long>(_h.Services.GetRequiredService<IMeterFactory>(), "AiOps.Data", "aiops.data.gate.runs");
        var csv = Csv(10, i => i == 3 ? "3,999,13812341234" : $"{i},30,13812341234");
        await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("p.csv", csv)), Rules());

        var byOutcome = rows.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags["outcome"]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(9, byOutcome["admitted"]);
        Assert.Equal(1, byOutcome["quarantined"]);
        Assert.Equal("passed", Assert.Single(runs.GetMeasurementSnapshot()).Tags["outcome"]);
    }

    [Fact]
    public async Task IngestAsync_InMemoryObjects_AdmitsAndQuarantinesByProperty()
    {
        var source = DataSource.FromObjects("people", new[] { new Person(1, 30, "13812341234"), new Person(2, -3, "13812341234") });
        var rules = RuleSet.Create("people").Key("Id").DefaultMostly(0.5).PassRate(0.5).Column("Age", c => c.Between(0, 120)).Build();
        var result = await _h.Get<IDataGate>().IngestAsync(source, rules);
        Assert.True(result.Admitted);
        Assert.Equal(["Id,Age,Phone", "1,30,13812341234"], File.ReadAllLines(result.AdmittedPath!));
        Assert.Equal("2,2,Age.between", string.Join(',', DataLines(result.QuarantinePath).Single().Split(',').Take(3)));
    }

    private sealed record Person(int Id, int Age, string Phone);
}
