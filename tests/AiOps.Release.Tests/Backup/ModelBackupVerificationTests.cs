using System.Security.Cryptography;
using AiOps.Release.Backup;
using AiOps.Release.Tests.Checkpoints;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Backup;

/// <summary>A backup is verified against the source as it is after the copy, and never replaces an earlier one.</summary>
public sealed class ModelBackupVerificationTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2024, 8, 1, 3, 0, 0, TimeSpan.Zero);
    private const int ModelSize = (3 << 20) + 12_345; // several copy chunks, so a rewrite lands mid-copy
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _folder.Dispose();

    private string BackupDir => _folder.Sub("backups");

    private string ModelPath => Path.Combine(_folder.Sub("models"), "model.onnx");

    private byte[] WriteModel(int seed, int size = ModelSize)
    {
        Directory.CreateDirectory(_folder.Sub("models"));
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        File.WriteAllBytes(ModelPath, bytes);
        return bytes;
    }

    private ModelBackupRunner NewRunner(Action<ModelBackupOptions>? configure = null)
    {
        var options = new ModelBackupOptions { BackupDirectory = BackupDir };
        options.ModelFiles.Add(ModelPath);
        configure?.Invoke(options);
        return new ModelBackupRunner(Microsoft.Extensions.Options.Options.Create(options), _time, new ModelBackupState(_time), new FakeLogger<ModelBackupRunner>());
    }

    /// <summary>
    /// Invariant: a backup reported good is byte-for-byte the source as it stands after the run; a source changed in every
    /// attempt gives a failure and no file, and the earlier good backup stays intact.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task RunOnceAsync_SourceRewrittenDuringCopy_TornBackupNeverReportedGood(int seed)
    {
        var random = new Random(seed);
        var yesterday = WriteModel(seed * 100);
        using var runner = NewRunner();
        Assert.True((await runner.RunOnceAsync()).Succeeded);
        var earlier = Path.Combine(BackupDir, "model_backup_20240801.onnx");
        _time.Advance(TimeSpan.FromDays(1));

        var disturbedAttempts = seed % (ModelBackupRunner.MaxAttempts + 2); // 0 to 4 attempts disturbed: both outcomes covered
        var kinds = new List<string>();
        runner.CopyHook = (source, attempt) =>
        {
            if (attempt <= disturbedAttempts)
            {
                var mtime = File.GetLastWriteTimeUtc(source);
                var kind = random.Next(3);
                kinds.Add(kind switch { 0 => "truncate", 1 => "rewrite-same-size-same-mtime", _ => "append" });
                var bytes = File.ReadAllBytes(source);
                switch (kind)
                {
                    case 0:
                        File.WriteAllBytes(source, bytes[..(bytes.Length / 2)]);
                        break;
                    case 1:
                        // Same length and modification time: only the re-read hash can tell.
                        random.NextBytes(bytes);
                        using (var stream = new FileStream(source, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                        {
                            stream.Write(bytes);
                        }

                        File.SetLastWriteTimeUtc(source, mtime);
                        break;
                    default:
                        File.AppendAllText(source, "appended");
                        break;
                }
            }

            return ValueTask.CompletedTask;
        };

        var report = await runner.RunOnceAsync();

        var file = Assert.Single(report.Files);
        var final = await File.ReadAllBytesAsync(ModelPath);
        var todays = Path.Combine(BackupDir, "model_backup_20240802.onnx");
        if (disturbedAttempts < ModelBackupRunner.MaxAttempts)
        {
            Assert.True(report.Succeeded, $"seed {seed}, disturbances {string.Join(",", kinds)}: {file.Error}");
            Assert.Equal(todays, file.Destination);
            Assert.Equal(final, await File.ReadAllBytesAsync(todays));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(final)), file.Sha256);
        }
        else
        {
            Assert.False(report.Succeeded, $"seed {seed}, disturbances {string.Join(",", kinds)}");
            Assert.Contains("changed while it was copied", file.Error, StringComparison.Ordinal);
            Assert.Contains(ModelPath, file.Error, StringComparison.Ordinal);
            Assert.Null(file.Destination);
            Assert.False(File.Exists(todays));
        }

        Assert.Equal(yesterday, await File.ReadAllBytesAsync(earlier));
        Assert.DoesNotContain(Directory.GetFiles(BackupDir), f => Path.GetFileName(f).StartsWith('.'));
    }

    [Fact]
    public async Task RunOnceAsync_WriterRacingTheCopy_ReportedBackupMatchesStableSource()
    {
        // A real concurrent writer: rewrites the whole model (new content each time) until told to stop.
        WriteModel(1);
        using var runner = NewRunner();
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(() =>
        {
            var random = new Random(42);
            var bytes = new byte[ModelSize];
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(bytes);
                using var stream = new FileStream(ModelPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                stream.Write(bytes);
                Interlocked.Increment(ref writes);
            }
        });
        runner.CopyHook = async (_, attempt) =>
        {
            if (attempt == 1)
            {
                // Let the writer land at least one rewrite inside the first attempt, then stop it before the next.
                var seen = Volatile.Read(ref writes);
                while (Volatile.Read(ref writes) < seen + 2)
                {
                    await Task.Yield();
                }

                await stop.CancelAsync();
                await writer;
            }
        };

        var report = await runner.RunOnceAsync();

        var file = Assert.Single(report.Files);
        Assert.True(report.Succeeded, file.Error);
        Assert.Equal(await File.ReadAllBytesAsync(ModelPath), await File.ReadAllBytesAsync(file.Destination!));
    }

    [Fact]
    public async Task RunOnceAsync_TwiceOnOneDay_KeepsTheMorningBackupAndAddsSuffixedOne()
    {
        var morning = WriteModel(1);
        using var runner = NewRunner();
        var first = await runner.RunOnceAsync();
        _time.Advance(TimeSpan.FromHours(6));
        var afternoon = WriteModel(2);

        var second = await runner.RunOnceAsync();
        var third = await runner.RunOnceAsync();

        Assert.Equal(Path.Combine(BackupDir, "model_backup_20240801.onnx"), first.Files[0].Destination);
        Assert.Equal(Path.Combine(BackupDir, "model_backup_20240801.1.onnx"), second.Files[0].Destination);
        Assert.Equal(Path.Combine(BackupDir, "model_backup_20240801.2.onnx"), third.Files[0].Destination);
        Assert.Equal(morning, await File.ReadAllBytesAsync(first.Files[0].Destination!));
        Assert.Equal(afternoon, await File.ReadAllBytesAsync(second.Files[0].Destination!));
        Assert.Empty(second.DeletedBackups);
        Assert.Empty(third.DeletedBackups);
    }

    [Fact]
    public async Task RunOnceAsync_SeveralRunsPerDay_RetentionCountsDays()
    {
        WriteModel(1, 1000);
        using var runner = NewRunner(o => o.KeepPerFile = 2);
        foreach (var runsThatDay in (int[])[2, 1, 3])
        {
            for (var i = 0; i < runsThatDay; i++)
            {
                Assert.True((await runner.RunOnceAsync()).Succeeded);
            }

            _time.Advance(TimeSpan.FromDays(1));
        }

        Assert.Equal(
            ["model_backup_20240802.onnx", "model_backup_20240803.1.onnx", "model_backup_20240803.2.onnx", "model_backup_20240803.onnx"],
            Directory.GetFiles(BackupDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("model_backup_20240801.onnx", true)]
    [InlineData("model_backup_20240801.7.onnx", true)]
    [InlineData("model_backup_20240801.12.onnx", true)]
    [InlineData("model_backup_20240801.0.onnx", false)]
    [InlineData("model_backup_20240801.x.onnx", false)]
    [InlineData("model_backup_20240801..onnx", false)]
    [InlineData("model_backup_latest.onnx", false)]
    public async Task RunOnceAsync_OtherFilesInBackupFolder_OnlyBackupNamesArePruned(string name, bool isBackup)
    {
        WriteModel(1, 1000);
        Directory.CreateDirectory(BackupDir);
        var other = Path.Combine(BackupDir, name);
        await File.WriteAllTextAsync(other, "x");
        _time.Advance(TimeSpan.FromDays(30));
        using var runner = NewRunner(o => o.KeepPerFile = 1);

        await runner.RunOnceAsync();

        Assert.Equal(!isBackup, File.Exists(other));
    }
}
