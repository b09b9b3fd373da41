using AiOps.Data.Gates;
using AiOps.Data.Quality;
using AiOps.Data.Versions;

namespace AiOps.Data.Tests;

public sealed class VersionTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private IDatasetStore Store => _h.Get<IDatasetStore>();

    [Fact]
    public async Task Snapshot_ThenRestoreByTag_RoundTripsBytesAndManifest()
    {
        var csv = _h.WriteFile("train.csv", "id,age,city\n1,30,Beijing\n2,41,Shanghai\n3,,Shenzhen\n");
        var readme = _h.WriteFile("README.txt", "training data");
        var v1 = await Store.SnapshotAsync("training", [csv, readme], new SnapshotOptions { Tag = "data_v1.0", Description = "first" });

        Assert.Equal(64, v1.Version.Length);
        Assert.Equal(["data_v1.0"], v1.Tags);
        Assert.Equal(3, v1.RowCount);
        Assert.Equal([("id", ColumnType.Integer), ("age", ColumnType.Integer), ("city", ColumnType.String)], v1.Schema.Select(c => (c.Name, c.Type)));
        Assert.Equal(await ContentHasher.Sha256FileAsync(csv), v1.Files.Single(f => f.Name == "train.csv").Sha256);
        Assert.Equal(new AiOps.Validation.DatasetVersionRef("training", v1.Version, "data_v1.0"), v1.ToRef());

        var byTag = await Store.GetAsync("training", "data_v1.0");
        Assert.NotNull(byTag);
        Assert.Equal(v1.Version, byTag.Version);
        Assert.Equal(v1.Statistics, byTag.Statistics);
        Assert.Equal(v1.Version, (await Store.GetAsync("training", v1.Version[..10]))!.Version);

        File.Delete(csv);
        var restored = await Store.RestoreAsync("training", "data_v1.0", Path.Combine(_h.Root, "restore"));
        Assert.Equal(2, restored.Count);
        Assert.Equal("id,age,city\n1,30,Beijing\n2,41,Shanghai\n3,,Shenzhen\n", await File.ReadAllTextAsync(restored.Single(p => p.EndsWith("train.csv", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Snapshot_SameContentTwice_SameVersionAndOneObject()
    {
        var csv = _h.WriteFile("d.csv", "a\n1\n");
        var v1 = await Store.SnapshotAsync("d", csv, new SnapshotOptions { Tag = "v1" });
        _h.Time.Advance(TimeSpan.FromHours(1));
        var again = await Store.SnapshotAsync("d", csv, new SnapshotOptions { Tag = "v1-again" });
        Assert.Equal(v1.Version, again.Version);
        Assert.Equal(["v1", "v1-again"], again.Tags);
        Assert.Single(await Store.ListAsync("d"));
        Assert.Single(Directory.GetFiles(Path.Combine(_h.Root, "store", "objects"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Tag_Reused_ForOtherData_Throws()
    {
        await Store.SnapshotAsync("d", _h.WriteFile("a.csv", "a\n1\n"), new SnapshotOptions { Tag = "v1" });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.SnapshotAsync("d", _h.WriteFile("b.csv", "a\n2\n"), new SnapshotOptions { Tag = "v1" }));
        Assert.Contains("immutable", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Store.TagAsync("d", "nope", "v2"));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SnapshotAsync("../evil", _h.WriteFile("c.csv", "a\n")));
    }

    [Fact]
    public async Task ListAndDiff_ShowSchemaAndStatisticChanges()
    {
        var v1 = await Store.SnapshotAsync("d", _h.WriteFile("data.csv", "id,age,city\n1,30,x\n2,40,y\n"), new SnapshotOptions { Tag = "data_v1.0" });
        _h.Time.Advance(TimeSpan.FromDays(1));
        var v2 = await Store.SnapshotAsync("d", _h.WriteFile("data.csv", "id,age,score\n1,30,0.5\n2,50,0.7\n3,x,0.1\n"), new SnapshotOptions { Tag = "data_v1.1" });

        var list = await Store.ListAsync("d");
        Assert.Equal([v1.Version, v2.Version], list.Select(v => v.Version));

        var diff = await Store.DiffAsync("d", "data_v1.0", "data_v1.1");
        Assert.True(diff.SchemaChanged);
        Assert.Equal(["score"], diff.AddedColumns);
        Assert.Equal(["city"], diff.RemovedColumns);
        Assert.Equal(new ColumnTypeChange("age", ColumnType.Integer, ColumnType.String), Assert.Single(diff.TypeChanges));
        Assert.Equal(["data.csv"], diff.ChangedFiles);
        var rows = diff.StatisticChanges.Single(s => s.Statistic == "rows");
        Assert.Equal((2.0, 3.0), (rows.From!.Value, rows.To!.Value));
        Assert.Equal(0.5, rows.RelativeChange);
        var mean = diff.StatisticChanges.Single(s => s.Column == "age" && s.Statistic == "mean");
        Assert.Equal((35.0, 40.0), (mean.From!.Value, mean.To!.Value));
    }

    [Fact]
    public async Task Restore_CorruptObject_ThrowsInvalidData()
    {
        var v = await Store.SnapshotAsync("d", _h.WriteFile("a.csv", "a\n1\n"));
        var obj = Path.Combine(_h.Root, "store", "objects", v.Files[0].Sha256[..2], v.Files[0].Sha256[2..]);
        await File.WriteAllTextAsync(obj, "a\n2\n");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Store.RestoreAsync("d", v.Version, Path.Combine(_h.Root, "r")));
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_h.Root, "r", "a.csv")));
    }

    [Fact]
    public async Task Quickstart_ValidateMaskAdmitSnapshot_IsShort()
    {
        var source = DataSource.FromCsv(_h.WriteFile("train.csv", "id,age,phone\n1,30,13812341234\n2,41,13912345678\n3,200,13712345678\n"));
        var rules = RuleSet.Create("training").Key("id").DefaultMostly(0.6).PassRate(0.6)
            .Column("id", c => c.NotNull().Unique())
            .Column("age", c => c.Between(0, 120))
            .Build();

        var result = await _h.Get<IDataGate>().IngestAsync(source, rules, new IngestOptions { MaskColumns = { ["phone"] = Pii.PiiOperator.Mask } });
        var version = await Store.SnapshotAsync("training", result.AdmittedPath!, new SnapshotOptions { Tag = "data_v1.0", Report = result.Report });

        Assert.Equal(2, version.RowCount);
        Assert.Equal(3, version.Report!.RowsChecked);
        Assert.Equal(1, version.Report.ToSummary().RowsQuarantined);
        var restored = await Store.RestoreAsync("training", "data_v1.0", Path.Combine(_h.Root, "r"));
        Assert.DoesNotContain("13812341234", await File.ReadAllTextAsync(restored[0]), StringComparison.Ordinal);
    }
}
