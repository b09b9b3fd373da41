using System.Runtime.Versioning;
using AiOps.Registry;
using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Internal;
using AiOps.Release.Registry;
using AiOps.Release.Tests.Checkpoints;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Backup;

/// <summary>Backups, checkpoints and registry files are written owner-only on Unix (0600 files, 0700 folders) unless turned off.</summary>
public sealed class OwnerOnlyPermissionsTests : IDisposable
{
    private const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Dir0700 = File0600 | UnixFileMode.UserExecute;
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 8, 1, 3, 0, 0, TimeSpan.Zero));

    public void Dispose() => _folder.Dispose();

    /// <summary>The mode a plain file gets from this process's umask, for comparison.</summary>
    [UnsupportedOSPlatform("windows")]
    private UnixFileMode UmaskFileMode()
    {
        var probe = _folder.Sub("umask-probe");
        File.WriteAllText(probe, "x");
        return File.GetUnixFileMode(probe);
    }

    private async Task<ModelBackupReport> BackupAsync(bool ownerOnly)
    {
        var model = _folder.Sub("model.onnx");
        await File.WriteAllBytesAsync(model, new byte[1000]);
        var options = new ModelBackupOptions { BackupDirectory = _folder.Sub("backups/nested"), OwnerOnlyPermissions = ownerOnly };
        options.ModelFiles.Add(model);
        using var runner = new ModelBackupRunner(Microsoft.Extensions.Options.Options.Create(options), _time, new ModelBackupState(_time), new FakeLogger<ModelBackupRunner>());
        return await runner.RunOnceAsync();
    }

    [Fact]
    public async Task Backup_Default_FileIs0600AndCreatedFoldersAre0700()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permissions only
        }

        var report = await BackupAsync(ownerOnly: true);

        Assert.Equal(File0600, File.GetUnixFileMode(report.Files[0].Destination!));
        Assert.Equal(Dir0700, File.GetUnixFileMode(_folder.Sub("backups/nested")));
        Assert.Equal(Dir0700, File.GetUnixFileMode(_folder.Sub("backups")));
    }

    [Fact]
    public async Task Backup_OwnerOnlyOff_FileGetsTheUmasksMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var report = await BackupAsync(ownerOnly: false);

        Assert.Equal(UmaskFileMode(), File.GetUnixFileMode(report.Files[0].Destination!));
    }

    [Fact]
    public async Task Checkpoint_Default_EveryFile0600InA0700Folder()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var harness = new CheckpointHarness(_folder.Sub("ckpt"));
        var saved = await (await harness.NewManager().SaveAsync(CheckpointHarness.Content(5))).Committed;

        var dir = Path.Combine(_folder.Sub("ckpt"), saved.Id);
        Assert.Equal(Dir0700, File.GetUnixFileMode(_folder.Sub("ckpt")));
        Assert.Equal(Dir0700, File.GetUnixFileMode(dir));
        var files = Directory.GetFiles(dir);
        Assert.Contains(files, f => Path.GetFileName(f) == FileCheckpointStore.MarkerName);
        foreach (var f in files)
        {
            Assert.Equal(File0600, File.GetUnixFileMode(f));
        }
    }

    [Fact]
    public async Task Checkpoint_OwnerOnlyOff_FilesGetTheUmasksMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var harness = new CheckpointHarness(_folder.Sub("ckpt"), o => o.OwnerOnlyPermissions = false);
        var saved = await (await harness.NewManager().SaveAsync(CheckpointHarness.Content(5))).Committed;

        var expected = UmaskFileMode();
        foreach (var f in Directory.GetFiles(Path.Combine(_folder.Sub("ckpt"), saved.Id)))
        {
            Assert.Equal(expected, File.GetUnixFileMode(f));
        }
    }

    [Fact]
    public async Task Registry_Default_VersionAndAliasFiles0600InA0700Folder()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var root = _folder.Sub("registry");
        var registry = new FileModelRegistry(root);
        var key = new ModelKey(new ModelId("fraud"), "1");
        await registry.RegisterAsync(new ModelVersionInfo(key, "/m.onnx", new string('a', 64), _time.GetUtcNow()));
        await registry.SetAliasAsync(key.Model, "stable", key.Version);

        Assert.Equal(Dir0700, File.GetUnixFileMode(Path.Combine(root, "fraud")));
        Assert.Equal(Dir0700, File.GetUnixFileMode(Path.Combine(root, "fraud", "versions")));
        Assert.Equal(File0600, File.GetUnixFileMode(Path.Combine(root, "fraud", "versions", "1.json")));
        Assert.Equal(File0600, File.GetUnixFileMode(Path.Combine(root, "fraud", "aliases.json")));
    }

    [Fact]
    public async Task AtomicFile_ModeGiven_AppliesItAndKeepsExistingFolders()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var existing = _folder.Sub("existing");
        Directory.CreateDirectory(existing);
        var before = File.GetUnixFileMode(existing);
        var group = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

        await AtomicFile.WriteAllBytesAsync(Path.Combine(existing, "new", "a.bin"), new byte[] { 1 }, group);
        await AtomicFile.WriteAllBytesAsync(Path.Combine(existing, "plain.bin"), new byte[] { 1 });

        Assert.Equal(group, File.GetUnixFileMode(Path.Combine(existing, "new", "a.bin")));
        Assert.Equal(group | UnixFileMode.UserExecute | UnixFileMode.GroupExecute, File.GetUnixFileMode(Path.Combine(existing, "new")));
        Assert.Equal(before, File.GetUnixFileMode(existing));
        Assert.Equal(UmaskFileMode(), File.GetUnixFileMode(Path.Combine(existing, "plain.bin")));
    }
}
