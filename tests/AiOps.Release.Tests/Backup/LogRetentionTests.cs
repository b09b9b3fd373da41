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
    public void DeleteOldLogs_MissingFolder_SkipsIt()
    {
        var deleted = LogRetention.DeleteOldLogs([_folder.Sub("nope")], Now, CheckpointFileSystem.Default, NullLogger.Instance);

        Assert.Empty(deleted);
    }
}
