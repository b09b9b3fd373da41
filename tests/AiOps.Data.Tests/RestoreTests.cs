using System.Text;
using System.Text.Json.Nodes;
using AiOps.Data.Internal;
using AiOps.Data.Versions;

namespace AiOps.Data.Tests;

/// <summary>Atomic restore: a restore that fails anywhere while copying leaves the target exactly as it was, one that crashes between the
/// final renames is finished by the next restore, and nothing is ever written outside the target.</summary>
public sealed class RestoreTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private FileDatasetStore Store => Assert.IsType<FileDatasetStore>(_h.Get<IDatasetStore>());

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_h.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Every file under <paramref name="dir"/> by relative path, with its bytes as text.</summary>
    private static SortedDictionary<string, string> State(string dir) => new(
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f).Replace('\\', '/'), File.ReadAllText),
        StringComparer.Ordinal);

    /// <summary>Two versions of a folder: v2 changes a.csv, keeps sub/b.csv, adds sub/deeper/d.csv (and no longer has sub/c.csv).</summary>
    private async Task<(DatasetVersion V1, DatasetVersion V2, long V2Bytes)> TwoVersionsAsync()
    {
        var rnd = new Random(5);
        string Rows(int n) => "id,v\n" + string.Concat(Enumerable.Range(0, n).Select(i => $"{i},{rnd.Next()}\n"));
        Write("v1/a.csv", Rows(3000));
        Write("v1/sub/b.csv", Rows(500));
        Write("v1/sub/c.csv", Rows(800));
        var v1 = await Store.SnapshotAsync("tree", Path.Combine(_h.Root, "v1"));
        Write("v2/a.csv", Rows(2500));
        Directory.CreateDirectory(Path.Combine(_h.Root, "v2/sub"));
        File.Copy(Path.Combine(_h.Root, "v1/sub/b.csv"), Path.Combine(_h.Root, "v2/sub/b.csv"));
        Write("v2/sub/deeper/d.csv", Rows(4000));
        var v2 = await Store.SnapshotAsync("tree", Path.Combine(_h.Root, "v2"));
        return (v1, v2, v2.Files.Sum(f => f.Length));
    }

    [Fact]
    public async Task Restore_FailingAfterKBytes_LeavesOldContentOrCompleteNew_NeverAMix_OverSeededRuns()
    {
        var (v1, v2, total) = await TwoVersionsAsync();
        var store = Store;
        var rnd = new Random(17);
        int failed = 0, completed = 0;
        for (var run = 0; run < 120; run++)
        {
            var target = Path.Combine(_h.Root, "targets", run.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await store.RestoreAsync("tree", v1.Version, target);
            Write(Path.Combine("targets", run.ToString(System.Globalization.CultureInfo.InvariantCulture), "mine.txt"), "a file of the user's"); // not in any version
            var old = State(target);
            var expectedNew = new SortedDictionary<string, string>(old, StringComparer.Ordinal);
            foreach (var (name, content) in State(Path.Combine(_h.Root, "v2")))
            {
                expectedNew[name] = content;
            }

            // K spans the whole copy, both ends included (0 bytes, and all of them: the restore then completes).
            var k = run switch { 0 => 0, 1 => total, _ => rnd.NextInt64(0, total + 1) };
            var budget = new ByteBudget(k);
            store.RestoreReadHook = s => new FailingStream(s, budget);
            try
            {
                await store.RestoreAsync("tree", v2.Version, target);
                completed++;
                Assert.Equal(expectedNew, State(target));
                Assert.True(k >= total, $"K={k} of {total} completed");
            }
            catch (IOException e) when (e.Message.StartsWith("simulated crash", StringComparison.Ordinal))
            {
                failed++;
                Assert.Equal(old, State(target)); // not one byte of the new version, no staging left behind
                Assert.True(k < total);
            }
            finally
            {
                store.RestoreReadHook = null;
            }

            Assert.Empty(Directory.GetFileSystemEntries(target, ".aiops-restore-*"));
        }

        Assert.True(failed > 100 && completed >= 1, $"{failed} failed, {completed} completed");
    }

    [Fact]
    public async Task Restore_Cancelled_LeavesTheTargetAsItWas()
    {
        var (v1, v2, total) = await TwoVersionsAsync();
        var target = Path.Combine(_h.Root, "t");
        await Store.RestoreAsync("tree", v1.Version, target);
        var old = State(target);
        using var cts = new CancellationTokenSource();
        var budget = new ByteBudget(total / 2) { OnExhausted = cts.Cancel };
        Store.RestoreReadHook = s => new FailingStream(s, budget);
        await Assert.ThrowsAnyAsync<Exception>(() => Store.RestoreAsync("tree", v2.Version, target, cts.Token));
        Assert.Equal(old, State(target));
    }

    [Fact]
    public async Task Restore_CrashBetweenRenames_IsFinishedByTheNextRestore()
    {
        var (v1, v2, _) = await TwoVersionsAsync();
        var store = Store;
        for (var crashAt = 0; crashAt < v2.Files.Count; crashAt++)
        {
            var target = Path.Combine(_h.Root, "crash" + crashAt);
            await store.RestoreAsync("tree", v1.Version, target);
            var expectedNew = State(target);
            foreach (var (name, content) in State(Path.Combine(_h.Root, "v2")))
            {
                expectedNew[name] = content;
            }

            var at = crashAt;
            store.BeforeRestoreMove = i =>
            {
                if (i == at)
                {
                    throw new IOException("simulated crash between renames");
                }
            };
            await Assert.ThrowsAsync<IOException>(() => store.RestoreAsync("tree", v2.Version, target));
            store.BeforeRestoreMove = null;
            Assert.Single(Directory.GetFiles(target, ".aiops-restore-*.journal"));

            FileDatasetStore.RecoverRestores(target); // what the next RestoreAsync into the target does first
            Assert.Equal(expectedNew, State(target));
            Assert.Empty(Directory.GetFileSystemEntries(target, ".aiops-restore-*"));
        }
    }

    [Fact]
    public async Task Restore_Concurrent_IntoOneTarget_BothComplete_NothingLeftOver()
    {
        var (v1, v2, _) = await TwoVersionsAsync();
        var target = Path.Combine(_h.Root, "both");
        await Task.WhenAll(Store.RestoreAsync("tree", v1.Version, target), Store.RestoreAsync("tree", v2.Version, target));
        var state = State(target);
        Assert.Equal(File.ReadAllText(Path.Combine(_h.Root, "v2", "sub", "deeper", "d.csv")), state["sub/deeper/d.csv"]);
        Assert.Empty(Directory.GetFileSystemEntries(target, ".aiops-restore-*"));
    }

    [Fact]
    public async Task Restore_LeftoverStagingWithoutJournal_RemovedOnlyOnceStale()
    {
        var (v1, _, _) = await TwoVersionsAsync();
        var target = Path.Combine(_h.Root, "left");
        var stale = Directory.CreateDirectory(Path.Combine(target, ".aiops-restore-0123.tmp")).FullName;
        File.WriteAllText(Path.Combine(stale, "a.csv"), "half");
        Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-1));
        var fresh = Directory.CreateDirectory(Path.Combine(target, ".aiops-restore-4567.tmp")).FullName; // another process's, in flight

        await Store.RestoreAsync("tree", v1.Version, target);

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(fresh));
        Assert.Equal(State(Path.Combine(_h.Root, "v1")), new SortedDictionary<string, string>(
            State(target).Where(kv => !kv.Key.StartsWith(".aiops-restore-", StringComparison.Ordinal)).ToDictionary(), StringComparer.Ordinal));
    }

    /// <summary>Writes a copy of <paramref name="v"/>'s manifest whose first file is named <paramref name="name"/>; returns its version.</summary>
    private string ForgeManifest(DatasetVersion v, string name, string forged)
    {
        var dir = Path.Combine(_h.Root, "store", "datasets", v.Dataset, "manifests");
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, v.Version + ".json")))!;
        node["files"]![0]!["name"] = name;
        node["version"] = forged;
        File.WriteAllText(Path.Combine(dir, forged + ".json"), node.ToJsonString());
        return forged;
    }

    [Theory]
    [InlineData("../evil.csv")]
    [InlineData("sub/../../evil.csv")]
    [InlineData("/tmp/aiops-evil.csv")]
    [InlineData("..\\evil.csv")]
    [InlineData("./a.csv")]
    public async Task Restore_ManifestPathLeavingTheTarget_IsRefused_NothingWritten(string name)
    {
        var v = await Store.SnapshotAsync("d", [Write("src/a.csv", "a\n1\n"), Write("src/b.csv", "b\n2\n")]);
        var forged = ForgeManifest(v, name, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
        var target = Path.Combine(_h.Root, "box", "target");

        var e = await Assert.ThrowsAsync<RestorePathException>(() => Store.RestoreAsync("d", forged, target));
        Assert.Equal(name, e.FileName);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_h.Root, "box", "evil.csv")));
        Assert.False(File.Exists("/tmp/aiops-evil.csv"));
        Assert.False(Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()); // not even b.csv
    }

    [Fact]
    public async Task Restore_SymlinkSwappedInMidRestore_IsRefused_NothingWrittenOutside()
    {
        var (v1, v2, _) = await TwoVersionsAsync();
        var target = Path.Combine(_h.Root, "t");
        await Store.RestoreAsync("tree", v1.Version, target);
        var outside = Directory.CreateDirectory(Path.Combine(_h.Root, "outside")).FullName;
        Store.BeforeRestoreCommit = _ =>
        {
            // An attacker (or a careless script) replaces target/sub by a link to a folder outside the target.
            Directory.Move(Path.Combine(target, "sub"), Path.Combine(_h.Root, "moved-sub"));
            Directory.CreateSymbolicLink(Path.Combine(target, "sub"), outside);
        };

        var e = await Assert.ThrowsAsync<RestorePathException>(() => Store.RestoreAsync("tree", v2.Version, target));
        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Store.BeforeRestoreCommit = null;

        // A link already there is refused the same way, before anything is staged into place.
        await Assert.ThrowsAsync<RestorePathException>(() => Store.RestoreAsync("tree", v2.Version, target));
        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.Empty(Directory.GetFileSystemEntries(target, ".aiops-restore-*"));
    }

    [Fact]
    public async Task Restore_LinkSwappedInBetweenTheCheckAndTheRename_CreatesNothingOutside()
    {
        var (v1, v2, _) = await TwoVersionsAsync();
        var target = Path.Combine(_h.Root, "late");
        await Store.RestoreAsync("tree", v1.Version, target);
        var outside = Directory.CreateDirectory(Path.Combine(_h.Root, "outside2")).FullName;
        Store.BeforeRestoreMove = i =>
        {
            if (i == 0)
            {
                // After every path was checked and the journal written: sub becomes a link just before the renames.
                Directory.Move(Path.Combine(target, "sub"), Path.Combine(_h.Root, "moved-sub2"));
                Directory.CreateSymbolicLink(Path.Combine(target, "sub"), outside);
            }
        };

        await Assert.ThrowsAsync<RestorePathException>(() => Store.RestoreAsync("tree", v2.Version, target));
        Store.BeforeRestoreMove = null;
        Assert.Empty(Directory.GetFileSystemEntries(outside)); // not a file, not even the folder 'deeper'
    }

    private sealed class ByteBudget(long bytes)
    {
        public long Remaining = bytes;

        public Action? OnExhausted { get; init; }
    }

    /// <summary>Passes reads through until the shared budget is spent, then fails the next read that would return data: a crash after
    /// exactly K bytes across all the files of one restore.</summary>
    private sealed class FailingStream(Stream inner, ByteBudget budget) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (budget.Remaining == 0)
            {
                Span<byte> one = stackalloc byte[1];
                if (buffer.Length == 0 || inner.Read(one) == 0)
                {
                    return 0; // at the end: nothing more to read, nothing to fail
                }

                budget.OnExhausted?.Invoke();
                throw new IOException("simulated crash after the byte budget");
            }

            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, budget.Remaining)]);
            budget.Remaining -= n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    [Fact]
    public void FailingStream_ReadsExactlyTheBudget()
    {
        using var s = new FailingStream(new MemoryStream(Encoding.ASCII.GetBytes("0123456789")), new ByteBudget(4));
        var buffer = new byte[8];
        Assert.Equal(4, s.Read(buffer));
        Assert.Throws<IOException>(() => s.Read(buffer));
        using var all = new FailingStream(new MemoryStream(Encoding.ASCII.GetBytes("0123")), new ByteBudget(4));
        Assert.Equal(4, all.Read(buffer));
        Assert.Equal(0, all.Read(buffer)); // end of data within the budget: no failure
    }
}
