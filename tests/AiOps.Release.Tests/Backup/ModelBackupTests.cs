using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Tests.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Backup;

public sealed class ModelBackupTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2024, 8, 1, 3, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _folder = new();
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose()
    {
        _metrics.Dispose();
        _folder.Dispose();
    }

    private IMeterFactory MeterFactory => _metrics.GetRequiredService<IMeterFactory>();

    private string BackupDir => _folder.Sub("backups");

    private string WriteModel(string name, int seed, int size = 100_000)
    {
        var dir = _folder.Sub("models");
        Directory.CreateDirectory(dir);
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private (ModelBackupRunner Runner, ModelBackupState State) NewRunner(Action<ModelBackupOptions> configure)
    {
        var options = new ModelBackupOptions { BackupDirectory = BackupDir };
        configure(options);
        var state = new ModelBackupState(_time);
        return (new ModelBackupRunner(Microsoft.Extensions.Options.Options.Create(options), _time, state, new FakeLogger<ModelBackupRunner>(), MeterFactory), state);
    }

    [Fact]
    public async Task RunOnceAsync_ModelFile_CopiesToDatedNameWithVerifiedHash()
    {
        var model = WriteModel("model.onnx", 1);
        var (runner, _) = NewRunner(o => o.ModelFiles.Add(model));
        using var _ = runner;

        var report = await runner.RunOnceAsync();

        Assert.True(report.Succeeded);
        var file = Assert.Single(report.Files);
        Assert.Equal(Path.Combine(BackupDir, "model_backup_20240801.onnx"), file.Destination);
        var source = await File.ReadAllBytesAsync(model);
        Assert.Equal(source, await File.ReadAllBytesAsync(file.Destination!));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(source)), file.Sha256);
        Assert.Equal(source.Length, file.Length);
        Assert.Equal(["model_backup_20240801.onnx"], Directory.GetFiles(BackupDir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("model.onnx", "model_backup_20240801.onnx")]
    [InlineData("fraud.v2.onnx", "fraud.v2_backup_20240801.onnx")]
    [InlineData("weights", "weights_backup_20240801")]
    public void BackupName_FileName_FollowsNameBackupDateExtension(string source, string expected) =>
        Assert.Equal(expected, ModelBackupRunner.BackupName("/models/" + source, Start));

    [Fact]
    public async Task RunOnceAsync_OnManyDays_KeepsNewestNPerFileOnly()
    {
        var a = WriteModel("a.onnx", 1);
        var b = WriteModel("b.onnx", 2);
        var (runner, _) = NewRunner(o =>
        {
            o.ModelFiles.Add(a);
            o.ModelFiles.Add(b);
            o.KeepPerFile = 3;
        });
        using var _ = runner;
        Directory.CreateDirectory(BackupDir);
        await File.WriteAllTextAsync(Path.Combine(BackupDir, "notes.txt"), "not a backup");
        await File.WriteAllTextAsync(Path.Combine(BackupDir, "a_backup_latest.onnx"), "not dated");

        ModelBackupReport last = null!;
        for (var day = 0; day < 5; day++)
        {
            last = await runner.RunOnceAsync();
            _time.Advance(TimeSpan.FromDays(1));
        }

        Assert.Equal(2, last.DeletedBackups.Count);
        Assert.Equal(
            [
                "a_backup_20240803.onnx", "a_backup_20240804.onnx", "a_backup_20240805.onnx", "a_backup_latest.onnx",
                "b_backup_20240803.onnx", "b_backup_20240804.onnx", "b_backup_20240805.onnx", "notes.txt",
            ],
            Directory.GetFiles(BackupDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunOnceAsync_CopyCorrupted_FailsKeepsPreviousBackupAndCountsFailure()
    {
        var model = WriteModel("model.onnx", 1);
        using var runs = new MetricCollector<long>(MeterFactory, CheckpointMetrics.MeterName, "aiops.backup.runs");
        var (runner, state) = NewRunner(o => o.ModelFiles.Add(model));
        using var _ = runner;
        await runner.RunOnceAsync();
        var firstBackup = Path.Combine(BackupDir, "model_backup_20240801.onnx");
        var good = await File.ReadAllBytesAsync(firstBackup);
        _time.Advance(TimeSpan.FromDays(1));
        runner.FileSystem = new FaultyFileSystem { CorruptFilesEndingWith = string.Empty };

        var report = await runner.RunOnceAsync();

        Assert.False(report.Succeeded);
        var error = Assert.Single(report.Files).Error;
        Assert.Contains("SHA-256", error, StringComparison.Ordinal);
        Assert.Contains("model_backup_20240802.onnx", error, StringComparison.Ordinal);
        Assert.Equal([Path.GetFileName(firstBackup)], Directory.GetFiles(BackupDir).Select(Path.GetFileName));
        Assert.Equal(good, await File.ReadAllBytesAsync(firstBackup));
        Assert.Equal(["success", "failure"], runs.GetMeasurementSnapshot().Select(m => (string)m.Tags["outcome"]!));
        Assert.Equal(error, state.Current.LastError);
    }

    [Fact]
    public async Task RunOnceAsync_DiskFull_ReportsPathAndReasonAndLeavesNoTemp()
    {
        var model = WriteModel("model.onnx", 1);
        var (runner, _) = NewRunner(o => o.ModelFiles.Add(model));
        using var _ = runner;
        runner.FileSystem = new FaultyFileSystem { FreeBytes = 1000 };

        var report = await runner.RunOnceAsync();

        var error = Assert.Single(report.Files).Error!;
        Assert.Contains("disk is full", error, StringComparison.Ordinal);
        Assert.Contains(model, error, StringComparison.Ordinal);
        Assert.Contains(BackupDir, error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(BackupDir));
    }

    [Fact]
    public async Task RunOnceAsync_OneSourceMissing_OthersStillBackedUp()
    {
        var model = WriteModel("model.onnx", 1);
        var missing = _folder.Sub("models/gone.onnx");
        var (runner, _) = NewRunner(o =>
        {
            o.ModelFiles.Add(missing);
            o.ModelFiles.Add(model);
        });
        using var _ = runner;

        var report = await runner.RunOnceAsync();

        Assert.False(report.Succeeded);
        Assert.Contains(missing, report.Files[0].Error, StringComparison.Ordinal);
        Assert.Null(report.Files[1].Error);
        Assert.True(File.Exists(Path.Combine(BackupDir, "model_backup_20240801.onnx")));
    }

    [Fact]
    public async Task RunOnceAsync_TempCopyLeftByCrash_IsRemoved()
    {
        var model = WriteModel("model.onnx", 1);
        var (runner, _) = NewRunner(o => o.ModelFiles.Add(model));
        using var _ = runner;
        Directory.CreateDirectory(BackupDir);
        var leftover = Path.Combine(BackupDir, ".model_backup_20240731.onnx.tmp-0123456789abcdef");
        await File.WriteAllBytesAsync(leftover, [1, 2, 3]);

        await runner.RunOnceAsync();

        Assert.False(File.Exists(leftover));
        Assert.Equal(["model_backup_20240801.onnx"], Directory.GetFiles(BackupDir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task RunOnceAsync_Success_ReportsLastSuccessTimestamp()
    {
        var model = WriteModel("model.onnx", 1);
        using var gauge = new MetricCollector<double>(MeterFactory, CheckpointMetrics.MeterName, "aiops.backup.last_success_timestamp");
        var (runner, _) = NewRunner(o => o.ModelFiles.Add(model));
        using var _ = runner;

        await runner.RunOnceAsync();
        gauge.RecordObservableInstruments();

        Assert.Equal(Start.ToUnixTimeSeconds(), gauge.LastMeasurement!.Value);
    }
}
