using AiOps.Data.Internal;
using AiOps.Data.Versions;

namespace AiOps.Data.Tests;

/// <summary>Recursive directory snapshots, the hash cache and garbage collection of the dataset store.</summary>
public sealed class VersionStoreTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private IDatasetStore Store => _h.Get<IDatasetStore>();

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_h.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Snapshot_Directory_IncludesSubDirectories_RestoresThemInPlace()
    {
        Write("data/a.csv", "id\n1\n");
        Write("data/sub/b.csv", "id\n2\n3\n");
        Write("data/sub/deeper/c.txt", "notes");
        var v = await Store.SnapshotAsync("tree", Path.Combine(_h.Root, "data"));
        Assert.Equal(["a.csv", "sub/b.csv", "sub/deeper/c.txt"], v.Files.Select(f => f.Name));
        Assert.Equal(3, v.RowCount);

        var target = Path.Combine(_h.Root, "restored");
        var written = await Store.RestoreAsync("tree", v.Version, target);
        Assert.Equal(3, written.Count);
        Assert.Equal("id\n2\n3\n", File.ReadAllText(Path.Combine(target, "sub", "b.csv")));
        Assert.Equal("notes", File.ReadAllText(Path.Combine(target, "sub", "deeper", "c.txt")));
    }

    [Fact]
    public async Task Snapshot_UnchangedFile_IsNotRehashed_ChangedOneIs()
    {
        var store = Assert.IsType<FileDatasetStore>(Store);
        var path = Write("big.bin", new string('x', 100_000));
        var v1 = await store.SnapshotAsync("bin", path);
        Assert.Equal(100_000, store.HashedBytes);

        var v2 = await store.SnapshotAsync("bin", path);
        Assert.Equal(100_000, store.HashedBytes); // same length and times: not read again
        Assert.Equal(v1.Version, v2.Version);

        File.WriteAllText(path, new string('y', 100_000)); // same length, new content
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(5));
        var v3 = await store.SnapshotAsync("bin", path);
        Assert.Equal(200_000, store.HashedBytes);
        Assert.NotEqual(v1.Version, v3.Version);
        Assert.Equal(v3.Files[0].Sha256, await ContentHasher.Sha256FileAsync(path));
    }

    [Fact]
    public async Task CollectGarbage_RemovesOldOrphansAndTempFiles_KeepsReferencedAndYoungOnes()
    {
        var v = await Store.SnapshotAsync("g", Write("g.csv", "id\n1\n"));
        var root = Path.Combine(_h.Root, "store");
        var old = _h.Time.GetUtcNow().UtcDateTime.AddHours(-2);
        var orphan = Path.Combine(root, "objects", "ab", new string('c', 62));
        var young = Path.Combine(root, "objects", "cd", new string('e', 62));
        var temp = Path.Combine(root, "datasets", "g", "manifests", ".x.json.0123.tmp");
        foreach (var f in new[] { orphan, young, temp })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(f)!);
            File.WriteAllText(f, "junk");
        }

        foreach (var f in Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(f => f != young))
        {
            File.SetLastWriteTimeUtc(f, old); // everything old except the young orphan (a snapshot in flight)
        }

        File.SetLastWriteTimeUtc(young, _h.Time.GetUtcNow().UtcDateTime);
        var result = await Store.CollectGarbageAsync();
        Assert.Equal((1L, 1L, 8L), (result.ObjectsRemoved, result.TempFilesRemoved, result.BytesFreed));
        Assert.False(File.Exists(orphan));
        Assert.False(File.Exists(temp));
        Assert.True(File.Exists(young));
        var restored = await Store.RestoreAsync("g", v.Version, Path.Combine(_h.Root, "r")); // referenced objects survive
        Assert.Equal("id\n1\n", File.ReadAllText(restored.Single()));
        Assert.Equal(0, (await Store.CollectGarbageAsync()).ObjectsRemoved);
    }
}
