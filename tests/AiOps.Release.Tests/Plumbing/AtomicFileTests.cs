using AiOps.Release.Internal;
using AiOps.Release.Tests.Infrastructure;

namespace AiOps.Release.Tests.Plumbing;

/// <summary>The shared atomic file writer (src/Shared/AtomicFile.cs), through AiOps.Release's copy of it.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Target => Path.Combine(_dir.Path, "state.json");

    private string[] Leftovers() => Directory.GetFiles(_dir.Path).Where(f => Path.GetFileName(f).EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task WriteAllBytesAsync_ExistingFile_ReplacedAndNoTempLeft()
    {
        await File.WriteAllTextAsync(Target, "old");

        await AtomicFile.WriteAllBytesAsync(Target, "new"u8.ToArray());

        Assert.Equal("new", await File.ReadAllTextAsync(Target));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task WriteAllTextAsync_MissingFolder_CreatedAndWrittenAsUtf8WithoutBom()
    {
        var path = Path.Combine(_dir.Path, "a", "b", "rules.yml");

        await AtomicFile.WriteAllTextAsync(path, "groups: é");

        Assert.Equal("groups: é"u8.ToArray(), await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task WriteAsync_WriterThrowsMidWrite_OldContentIntactAndNoTempLeft()
    {
        await File.WriteAllTextAsync(Target, "old content");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => AtomicFile.WriteAsync(Target, async (stream, ct) =>
        {
            await stream.WriteAsync("half of the new con"u8.ToArray(), ct);
            await stream.FlushAsync(ct);
            throw new InvalidOperationException("serializer failed");
        }));

        Assert.Equal("serializer failed", ex.Message);
        Assert.Equal("old content", await File.ReadAllTextAsync(Target));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task WriteAllBytesAsync_Cancelled_TargetUnchangedAndNoTempLeft()
    {
        await File.WriteAllTextAsync(Target, "old");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AtomicFile.WriteAllBytesAsync(Target, "new"u8.ToArray(), cancelled.Token));

        Assert.Equal("old", await File.ReadAllTextAsync(Target));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Commit_FlushToDiskFails_OldContentIntactAndTempRemoved()
    {
        File.WriteAllText(Target, "old");
        var fs = new RecordingFileSystem { FailFlush = true };

        using (var writer = AtomicFile.Create(Target, fs))
        {
            writer.Stream.Write("new"u8);
            Assert.Throws<IOException>(writer.Commit);
        }

        Assert.Equal("old", File.ReadAllText(Target));
        Assert.Empty(Leftovers());
        Assert.Equal(0, fs.Moves);
    }

    [Fact]
    public void Crash_BeforeRename_OldContentIntact()
    {
        // A process that dies after writing and flushing but before the rename: nothing cleans up, the target is untouched.
        File.WriteAllText(Target, "old");
        var fs = new RecordingFileSystem { CrashOnMove = true };
        var writer = AtomicFile.Create(Target, fs);
        writer.Stream.Write("new content, complete"u8);

        Assert.Throws<IOException>(writer.Commit);

        Assert.Equal("old", File.ReadAllText(Target));
        Assert.Equal("new content, complete", File.ReadAllText(writer.TempPath)); // what a crash leaves: a recognisable temp file
        writer.Dispose();
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Create_TempFile_UniqueHiddenAndInTheTargetsFolder()
    {
        var fs = new RecordingFileSystem();
        using var first = AtomicFile.Create(Target, fs);
        using var second = AtomicFile.Create(Target, fs);

        Assert.Equal([first.TempPath, second.TempPath], fs.Created);
        Assert.NotEqual(first.TempPath, second.TempPath);
        foreach (var temp in fs.Created)
        {
            Assert.Equal(_dir.Path, Path.GetDirectoryName(temp));
            Assert.StartsWith(".state.json.", Path.GetFileName(temp), StringComparison.Ordinal);
            Assert.EndsWith(AtomicFile.TempSuffix, temp, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Target));
    }

    [Fact]
    public async Task ConcurrentWriters_OneTarget_LeaveOneCompleteVersion()
    {
        const int Writers = 16;
        const int Length = 256 * 1024;
        await File.WriteAllBytesAsync(Target, new byte[Length]);
        using var go = new ManualResetEventSlim();

        var tasks = Enumerable.Range(1, Writers).Select(n => Task.Run(async () =>
        {
            var content = new byte[Length];
            Array.Fill(content, (byte)n);
            go.Wait();
            await AtomicFile.WriteAllBytesAsync(Target, content);
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(1));

        var final = await File.ReadAllBytesAsync(Target);
        Assert.Equal(Length, final.Length);
        Assert.InRange(final[0], 1, Writers);
        Assert.All(final, b => Assert.Equal(final[0], b)); // one writer's version, whole: never a mix
        Assert.Empty(Leftovers());
    }

    private sealed class RecordingFileSystem : AtomicFileSystem
    {
        public List<string> Created { get; } = [];

        public bool FailFlush { get; init; }

        public bool CrashOnMove { get; init; }

        public int Moves { get; private set; }

        private bool Crashed { get; set; }

        public override Stream CreateFile(string path, long length)
        {
            Created.Add(path);
            return base.CreateFile(path, length);
        }

        public override void FlushToDisk(Stream stream)
        {
            if (FailFlush)
            {
                throw new IOException("No space left on device", 28);
            }

            base.FlushToDisk(stream);
        }

        public override void MoveFile(string source, string destination)
        {
            if (CrashOnMove && !Crashed)
            {
                Crashed = true;
                throw new IOException("simulated crash before the rename");
            }

            Moves++;
            base.MoveFile(source, destination);
        }
    }
}
