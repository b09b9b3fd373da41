using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Tests.Checkpoints;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiOps.Release.Tests.Backup;

public sealed class LogRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2024, 8, 20, 12, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Write(string path, int daysOld)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "log line");
        File.SetLastWriteTimeUtc(path, Now.AddDays(-daysOld).UtcDateTime);
        return path;
    }

    [Fact]
    public void DeleteOldLogs_MixedAges_DeletesOnlyOldLogFilesIncludingSubfolders()
    {
        var logs = _folder.Sub("logs");
        var old = Write(Path.Combine(logs, "app-1.log"), 8);
        var nested = Write(Path.Combine(logs, "worker", "w.log"), 30);
        var fresh = Write(Path.Combine(logs, "app-2.log"), 6);
        var oldText = Write(Path.Combine(logs, "notes.txt"), 30);

        var deleted = LogRetention.DeleteOldLogs([logs], Now.AddDays(-7), CheckpointFileSystem.Default, NullLogger.Instance);

        Assert.Equal([old, nested], deleted.Order(StringComparer.Ordinal));
        Assert.False(File.Exists(old));
        Assert.False(File.Exists(nested));
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(oldText));
    }

    [Fact]
    public void DeleteOldLogs_SymlinksToOutside_NeverFollowed()
    {
        var logs = _folder.Sub("logs");
        var outside = _folder.Sub("outside");
        var outsideLog = Write(Path.Combine(outside, "precious.log"), 100);
        var outsideFileLog = Write(Path.Combine(outside, "single.log"), 100);
        var inside = Write(Path.Combine(logs, "old.log"), 100);
        Directory.CreateSymbolicLink(Path.Combine(logs, "linked-dir"), outside);
        File.CreateSymbolicLink(Path.Combine(logs, "linked.log"), outsideFileLog);

        var deleted = LogRetention.DeleteOldLogs([logs], Now.AddDays(-7), CheckpointFileSystem.Default, NullLogger.Instance);

        Assert.Equal([inside], deleted);
        Assert.True(File.Exists(outsideLog));
        Assert.True(File.Exists(outsideFileLog));
        Assert.True(File.Exists(Path.Combine(logs, "linked.log")));
    }

    [Fact]
    public void DeleteOldLogs_PortableFallback_SubFolderSwappedBeforeDelete_NothingOutsideDeleted()
    {
        var logs = _folder.Sub("logs");
        var outside = _folder.Sub("outside");
        var outsideLog = Write(Path.Combine(outside, "a.log"), 100);
        Write(Path.Combine(logs, "svc", "a.log"), 100);
        var kept = Write(Path.Combine(logs, "b.log"), 100);
        var swapped = false;

        var deleted = LogRetention.DeleteOldLogs([logs], Now.AddDays(-7), CheckpointFileSystem.Default, NullLogger.Instance, path =>
        {
            if (!swapped && path.EndsWith(Path.Combine("svc", "a.log"), StringComparison.Ordinal))
            {
                swapped = true;
                Directory.Move(Path.Combine(logs, "svc"), Path.Combine(logs, "svc.old"));
                Directory.CreateSymbolicLink(Path.Combine(logs, "svc"), outside);
            }
        }, portableOnly: true);

        Assert.True(swapped);
        Assert.True(File.Exists(outsideLog));
        Assert.Equal([kept], deleted);
    }

    [Fact]
    public void DeleteOldLogs_MissingFolder_SkipsIt()
    {
        var deleted = LogRetention.DeleteOldLogs([_folder.Sub("nope")], Now, CheckpointFileSystem.Default, NullLogger.Instance);

        Assert.Empty(deleted);
    }
}

/// <summary>Deletion never leaves the log folder, however sub-folders are swapped for links while it runs.</summary>
public sealed class LogRetentionSwapRaceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2024, 8, 20, 12, 0, 0, TimeSpan.Zero);
    private const int SubFolders = 4;
    private const int FilesPerFolder = 40;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static void WriteOld(string path)
    {
        File.WriteAllText(path, "log line");
        File.SetLastWriteTimeUtc(path, Now.AddDays(-30).UtcDateTime);
    }

    /// <summary>
    /// Invariant: no file outside the root is ever deleted, and every reported deletion is under the root. Each seeded run
    /// swaps sub-folders for links to an outside folder holding files of the same names, at seeded points (a sub-folder
    /// about to be entered, a file about to be deleted) and from a concurrent thread.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task DeleteOldLogs_SubFolderSwappedForLinkDuringDeletion_NothingOutsideRootDeleted(int seed)
    {
        var random = new Random(seed);
        var logs = _folder.Sub("logs");
        var outside = _folder.Sub("outside");
        var parked = _folder.Sub("logs/parked");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(parked);
        var outsideFiles = new List<string>();
        for (var f = 0; f < FilesPerFolder; f++)
        {
            var path = Path.Combine(outside, $"app-{f}.log");
            WriteOld(path);
            outsideFiles.Add(path);
        }

        for (var s = 0; s < SubFolders; s++)
        {
            var sub = Path.Combine(logs, $"svc-{s}");
            Directory.CreateDirectory(sub);
            for (var f = 0; f < FilesPerFolder; f++)
            {
                WriteOld(Path.Combine(sub, $"app-{f}.log"));
            }
        }

        var swapped = new HashSet<int>();
        var gate = new Lock();
        void Swap(int s)
        {
            lock (gate)
            {
                if (!swapped.Add(s))
                {
                    return;
                }

                var sub = Path.Combine(logs, $"svc-{s}");
                Directory.Move(sub, Path.Combine(parked, $"svc-{s}"));
                Directory.CreateSymbolicLink(sub, outside);
            }
        }

        // Seeded swap points: when a step (entering a folder or deleting a file) in svc-N is reached, swap svc-N or another.
        var steps = 0;
        var swapAt = Enumerable.Range(0, 3).Select(_ => random.Next(1, SubFolders * FilesPerFolder)).ToHashSet();
        void BeforeStep(string path)
        {
            if (swapAt.Contains(Interlocked.Increment(ref steps)))
            {
                var name = Path.GetFileName(Path.GetDirectoryName(path))!;
                var own = name.StartsWith("svc-", StringComparison.Ordinal) ? int.Parse(name[4..], System.Globalization.CultureInfo.InvariantCulture) : 0;
                Swap(random.Next(2) == 0 ? own : random.Next(SubFolders));
            }
        }

        // And a concurrent swapper for the remaining ones.
        using var done = new CancellationTokenSource();
        var concurrentSeed = random.Next();
        var swapper = Task.Run(async () =>
        {
            var r = new Random(concurrentSeed);
            while (!done.IsCancellationRequested)
            {
                for (var spin = r.Next(50); spin > 0; spin--)
                {
                    await Task.Yield();
                }

                Swap(r.Next(SubFolders));
            }
        });

        List<string> deleted;
        try
        {
            deleted = LogRetention.DeleteOldLogs([logs], Now.AddDays(-7), CheckpointFileSystem.Default, NullLogger.Instance, BeforeStep);
        }
        finally
        {
            await done.CancelAsync();
            await swapper;
        }

        Assert.All(outsideFiles, f => Assert.True(File.Exists(f), $"seed {seed}: '{f}' outside the root was deleted"));
        Assert.All(deleted, d => Assert.StartsWith(logs + Path.DirectorySeparatorChar, d, StringComparison.Ordinal));
        Assert.NotEmpty(swapped);
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= 20; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Fact]
    public void DeleteOldLogs_NoSwap_DeletesEveryOldLogInEverySubFolder()
    {
        var logs = _folder.Sub("logs");
        var expected = new List<string>();
        for (var s = 0; s < 3; s++)
        {
            var sub = Path.Combine(logs, $"svc-{s}", "nested");
            Directory.CreateDirectory(sub);
            for (var f = 0; f < 5; f++)
            {
                var path = Path.Combine(sub, $"app-{f}.log");
                WriteOld(path);
                expected.Add(path);
            }
        }

        var deleted = LogRetention.DeleteOldLogs([logs], Now.AddDays(-7), CheckpointFileSystem.Default, NullLogger.Instance);

        Assert.Equal(expected.Order(StringComparer.Ordinal), deleted.Order(StringComparer.Ordinal));
        Assert.All(expected, p => Assert.False(File.Exists(p)));
    }
}
