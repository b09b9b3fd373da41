using AiOps.Data.Versions;

namespace AiOps.Data.Tests;

/// <summary>DiffAsync names renames and moves (same content hash, other path) instead of a delete plus an add.</summary>
public sealed class RenameDiffTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private IDatasetStore Store => _h.Get<IDatasetStore>();

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_h.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public async Task Diff_NamesRenamesMovesModifiedAddedRemoved()
    {
        Write("v1/train.csv", "id\n1\n2\n");
        Write("v1/eval.csv", "id\n3\n");
        Write("v1/raw/2024-01.csv", "id\n4\n");
        Write("v1/notes.txt", "draft");
        Write("v1/old.csv", "id\n9\n");
        var v1 = await Store.SnapshotAsync("ds", Path.Combine(_h.Root, "v1"));

        Write("v2/train.csv", "id\n1\n2\n");                 // unchanged
        Write("v2/validation.csv", "id\n3\n");               // eval.csv renamed in place
        Write("v2/archive/2024-01.csv", "id\n4\n");          // raw/2024-01.csv moved, same name
        Write("v2/notes.txt", "final");                      // modified
        Write("v2/new.csv", "id\n10\n");                     // added (old.csv removed: different content)
        var v2 = await Store.SnapshotAsync("ds", Path.Combine(_h.Root, "v2"));

        var d = await Store.DiffAsync("ds", v1.Version, v2.Version);

        var rename = Assert.Single(d.RenamedFiles);
        Assert.Equal(("eval.csv", "validation.csv", false), (rename.From, rename.To, rename.IsMove));
        Assert.Equal(v1.Files.Single(f => f.Name == "eval.csv").Sha256, rename.Sha256);
        var move = Assert.Single(d.MovedFiles);
        Assert.Equal(("raw/2024-01.csv", "archive/2024-01.csv", true), (move.From, move.To, move.IsMove));
        Assert.Equal(["notes.txt"], d.ChangedFiles);
        Assert.Equal(["new.csv"], d.AddedFiles);
        Assert.Equal(["old.csv"], d.RemovedFiles);
        Assert.True(d.FilesChanged);

        // The reverse diff names the same pairs the other way round.
        var back = await Store.DiffAsync("ds", v2.Version, v1.Version);
        Assert.Equal(("validation.csv", "eval.csv"), (back.RenamedFiles.Single().From, back.RenamedFiles.Single().To));
        Assert.Equal(("archive/2024-01.csv", "raw/2024-01.csv"), (back.MovedFiles.Single().From, back.MovedFiles.Single().To));
        Assert.Equal(["old.csv"], back.AddedFiles);
        Assert.Equal(["new.csv"], back.RemovedFiles);
    }

    [Fact]
    public void Diff_DuplicateContent_PairsByNameThenFolder_RestStayAddedOrRemoved()
    {
        // Two files of one content leave; three arrive. The one keeping its name is a move, the one keeping its folder a rename,
        // the third arrival is a copy: added.
        const string same = "0f3c6b1c9e0e4f7f8a1d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70";
        const string keep = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";
        var older = new DatasetVersion("dup", "aaaaaaaa", DateTimeOffset.UnixEpoch,
            [new DatasetFile("a/x.csv", same, 5), new DatasetFile("b/y.csv", same, 5), new DatasetFile("keep.csv", keep, 2)]);
        var newer = older with
        {
            Version = "bbbbbbbb",
            Files =
            [
                new DatasetFile("c/x.csv", same, 5),
                new DatasetFile("b/z.csv", same, 5),
                new DatasetFile("d/copy.csv", same, 5),
                new DatasetFile("keep.csv", keep, 2),
            ],
        };

        var d = DatasetDiff.Compute(older, newer);

        Assert.Equal([("a/x.csv", "c/x.csv")], d.MovedFiles.Select(m => (m.From, m.To)));
        Assert.Equal([("b/y.csv", "b/z.csv")], d.RenamedFiles.Select(m => (m.From, m.To)));
        Assert.Equal(["d/copy.csv"], d.AddedFiles);
        Assert.Empty(d.RemovedFiles);
        Assert.Empty(d.ChangedFiles);
    }

    [Fact]
    public void Diff_EmptyFiles_AreNeverTakenForRenames()
    {
        const string emptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        var older = new DatasetVersion("e", "aaaaaaaa", DateTimeOffset.UnixEpoch, [new DatasetFile("a.lock", emptySha, 0)]);
        var newer = older with { Version = "bbbbbbbb", Files = [new DatasetFile("b.flag", emptySha, 0)] };

        var d = DatasetDiff.Compute(older, newer);

        Assert.Empty(d.RenamedFiles);
        Assert.Equal(["b.flag"], d.AddedFiles);
        Assert.Equal(["a.lock"], d.RemovedFiles);
    }

    [Fact]
    public async Task Diff_SameContent_NoFileChanges()
    {
        Write("s/a.csv", "id\n1\n");
        var v = await Store.SnapshotAsync("same", Path.Combine(_h.Root, "s"));
        var d = await Store.DiffAsync("same", v.Version, v.Version);
        Assert.False(d.FilesChanged);
        Assert.Empty(d.RenamedFiles);
        Assert.Empty(d.MovedFiles);
    }
}
