using AiOps.Release.Checkpoints;

namespace AiOps.Release.Tests.Checkpoints;

public sealed class CheckpointCrashSafetyTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    // (stage, which time the stage is reached): every file (2 data files, then the manifest) passes BeforeFlush/AfterFlush.
    [Theory]
    [InlineData("BeforeFlush", 1)]
    [InlineData("BeforeFlush", 3)]
    [InlineData("AfterFlush", 1)]
    [InlineData("AfterFlush", 3)]
    [InlineData("BeforeRename", 1)]
    [InlineData("AfterRename", 1)]
    public async Task SaveAsync_CrashAtStage_PreviousCheckpointStaysRestorable(string stageName, int occurrence)
    {
        var stage = Enum.Parse<CheckpointSaveStage>(stageName);
        await using var harness = new CheckpointHarness(_folder.Path);
        var previous = CheckpointHarness.Content(100, seed: 1);
        using (var before = harness.NewStore())
        {
            await before.SaveAsync(previous);
        }

        // The process dies at the stage: nothing after it runs, not even clean-up.
        var fs = new FaultyFileSystem();
        using (var dying = harness.NewStore())
        {
            dying.FileSystem = fs;
            var seen = 0;
            dying.StageHook = (s, path) =>
            {
                if (s == stage && ++seen == occurrence)
                {
                    fs.Crashed = true;
                    throw new SimulatedCrashException($"crash at {s} on {path}");
                }

                return ValueTask.CompletedTask;
            };
            await Assert.ThrowsAsync<SimulatedCrashException>(() => dying.SaveAsync(CheckpointHarness.Content(200, seed: 2)).AsTask());
        }

        Assert.True(Directory.GetDirectories(_folder.Path).Length >= 2, "the crash left its partial folder behind, as a real one would");

        // Restart: a new store and manager over the same folder.
        using var store = harness.NewStore();
        var manager = harness.NewManager(store);
        var restored = await manager.RestoreLatestAsync();

        Assert.NotNull(restored);
        Assert.Equal(100, restored.Checkpoint.Step);
        Assert.Equal(previous.Files["weights.bin"].ToArray(), await restored.ReadAllBytesAsync("weights.bin"));
        Assert.Equal(previous.Files["optimizer.bin"].ToArray(), await restored.ReadAllBytesAsync("optimizer.bin"));

        // The next save clears the leftovers and commits normally.
        var next = await (await manager.SaveAsync(CheckpointHarness.Content(300, seed: 3))).Committed;
        Assert.Equal([restored.Checkpoint.Id, next.Id], Directory.GetDirectories(_folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SaveAsync_CrashAfterCommitMarker_NewCheckpointIsRestored()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using (var before = harness.NewStore())
        {
            await before.SaveAsync(CheckpointHarness.Content(100));
        }

        using (var dying = harness.NewStore())
        {
            var fs = new FaultyFileSystem();
            dying.FileSystem = fs;
            dying.StageHook = (s, _) =>
            {
                fs.Crashed = s == CheckpointSaveStage.Committed;
                return fs.Crashed ? throw new SimulatedCrashException("after commit") : ValueTask.CompletedTask;
            };
            await Assert.ThrowsAsync<SimulatedCrashException>(() => dying.SaveAsync(CheckpointHarness.Content(200)).AsTask());
        }

        var restored = await harness.NewManager().RestoreLatestAsync();

        Assert.Equal(200, restored!.Checkpoint.Step);
    }

    [Fact]
    public async Task SaveAsync_DiskFull_ThrowsNamingPathAndReasonKeepsPreviousAndCleansTemp()
    {
        await using var harness = new CheckpointHarness(_folder.Path, o => o.Retention.KeepLatest = 1);
        var manager = harness.NewManager();
        var previous = await (await manager.SaveAsync(CheckpointHarness.Content(1, seed: 1, size: 4096))).Committed;

        var fs = new FaultyFileSystem { FreeBytes = 3000 };
        using var store = harness.NewStore();
        store.FileSystem = fs;
        var failing = harness.NewManager(store);
        var pending = await failing.SaveAsync(CheckpointHarness.Content(2, seed: 2, size: 4096));
        var ex = await Assert.ThrowsAsync<CheckpointStorageException>(() => pending.Committed);

        Assert.Equal(CheckpointStorageFailure.DiskFull, ex.Failure);
        Assert.Contains(".tmp-", ex.Path, StringComparison.Ordinal);
        Assert.Contains(ex.Path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("disk is full", ex.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(ex.InnerException);
        Assert.Equal([previous.Id], Directory.GetDirectories(_folder.Path).Select(Path.GetFileName));
        var restored = await failing.RestoreLatestAsync();
        Assert.Equal(previous.Id, restored!.Checkpoint.Id);
        Assert.Empty(restored.Skipped);
    }

    [Fact]
    public async Task SaveAsync_PermissionDenied_ThrowsNamingPathKeepsPrevious()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var previous = await store.SaveAsync(CheckpointHarness.Content(1));
        store.FileSystem = new FaultyFileSystem
        {
            OnCreateFile = path => path.EndsWith("weights.bin", StringComparison.Ordinal) ? new UnauthorizedAccessException($"Access to the path '{path}' is denied.") : null,
        };

        var ex = await Assert.ThrowsAsync<CheckpointStorageException>(() => store.SaveAsync(CheckpointHarness.Content(2)).AsTask());

        Assert.Equal(CheckpointStorageFailure.PermissionDenied, ex.Failure);
        Assert.EndsWith("weights.bin", ex.Path, StringComparison.Ordinal);
        Assert.Contains("permission was denied", ex.Message, StringComparison.Ordinal);
        Assert.Equal([previous.Id], (await store.ListAsync()).Select(c => c.Id));
        Assert.Equal([previous.Id], Directory.GetDirectories(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task SaveAsync_RealFullFileSystem_ThrowsDiskFullAndLosesNothingCommitted()
    {
        // A real 1 MiB tmpfs where the test may mount one (root on Linux); elsewhere the same assertions run against the
        // ENOSPC seam, so the test always checks the behaviour.
        using var mount = SmallTmpfs.TryMount(_folder.Sub("tmpfs"));
        await using var harness = new CheckpointHarness(mount?.Path ?? _folder.Sub("fake"));
        using var store = harness.NewStore();
        var previous = await store.SaveAsync(CheckpointHarness.Content(1, size: 200_000));
        if (mount is null)
        {
            store.FileSystem = new FaultyFileSystem { FreeBytes = 300_000 };
        }

        var ex = await Assert.ThrowsAsync<CheckpointStorageException>(() => store.SaveAsync(CheckpointHarness.Content(2, size: 2_000_000)).AsTask());

        Assert.Equal(CheckpointStorageFailure.DiskFull, ex.Failure);
        Assert.Contains(ex.Path, ex.Message, StringComparison.Ordinal);
        Assert.Equal([previous.Id], (await store.ListAsync()).Select(c => c.Id));
        Assert.Null(await store.VerifyAsync(previous.Id));
        Assert.Equal([previous.Id], Directory.GetDirectories(harness.Options.Directory).Select(Path.GetFileName));

        // Space freed by the failed save's clean-up lets a normal-sized checkpoint through.
        var next = await store.SaveAsync(CheckpointHarness.Content(3, size: 200_000));
        Assert.Null(await store.VerifyAsync(next.Id));
    }
}

/// <summary>Mounts a 1 MiB tmpfs when the process may (root on Linux); null otherwise.</summary>
internal sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path) => Path = path;

    public string Path { get; }

    public static SmallTmpfs? TryMount(string path)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/bin/mount"))
        {
            return null;
        }

        Directory.CreateDirectory(path);
        return Run("/bin/mount", $"-t tmpfs -o size=1m tmpfs {path}") ? new SmallTmpfs(path) : null;
    }

    public void Dispose() => Run("/bin/umount", Path);

    private static bool Run(string file, string arguments)
    {
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            });
            process!.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
