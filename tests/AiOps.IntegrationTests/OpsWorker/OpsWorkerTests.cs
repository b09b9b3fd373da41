using AiOps.Monitoring.Drift;
using AiOps.Samples.OpsWorker;
using AiOps.Samples.OpsWorker.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiOps.IntegrationTests.OpsWorker;

public sealed class OpsWorkerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "aiops-worker-tests", Guid.NewGuid().ToString("N"));

    public OpsWorkerTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private IHost BuildWorker() =>
        OpsWorkerApp.Build(
            [$"--contentRoot={_root}"],
            b =>
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OpsWorker:RootDirectory"] = "w" });
                b.Logging.ClearProviders();
            });

    private string Folder(string name) => Path.Combine(_root, "w", name);

    private static string Csv(int rows, Func<int, string> row) =>
        "id,age,amount\n" + string.Concat(Enumerable.Range(0, rows).Select(i => row(i) + "\n"));

    [Fact]
    public async Task RunCycleAsync_CleanAndBadFiles_AdmitsCleanQuarantinesBadAndEmptiesIncoming()
    {
        using var host = BuildWorker();
        var job = host.Services.GetRequiredService<CsvGateJob>();
        Directory.CreateDirectory(Folder("incoming"));

        // 100 rows, one out of range: within the 98 % accuracy the rules allow, so admitted with that row set aside.
        File.WriteAllText(Path.Combine(Folder("incoming"), "a-clean.csv"), Csv(100, i => $"{i},{(i == 7 ? 150 : 20 + (i % 50))},{i * 1.5}"));

        // Half the ages negative: the gate rejects the whole file.
        File.WriteAllText(Path.Combine(Folder("incoming"), "b-bad.csv"), Csv(40, i => $"{i},{(i % 2 == 0 ? -5 : 30)},{i}"));

        var results = await job.RunCycleAsync();

        Assert.Equal(["a-clean.csv", "b-bad.csv"], results.Select(r => r.File));
        Assert.Empty(Directory.EnumerateFiles(Folder("incoming")));

        var clean = results[0];
        Assert.True(clean.Admitted);
        Assert.Equal(Path.Combine(Folder("admitted"), "a-clean.csv"), clean.AdmittedPath);
        Assert.Equal(100, File.ReadAllLines(clean.AdmittedPath!).Length); // header + 99 passing rows
        Assert.Equal(1, clean.RowsQuarantined);
        Assert.Contains(File.ReadAllLines(clean.QuarantinePath).Skip(1), l => l.Contains(",150,", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(Folder("processed"), "a-clean.csv")));

        var bad = results[1];
        Assert.False(bad.Admitted);
        Assert.Null(bad.AdmittedPath);
        Assert.False(File.Exists(Path.Combine(Folder("admitted"), "b-bad.csv")));
        Assert.True(File.Exists(Path.Combine(Folder("quarantine"), "b-bad.csv")));
        Assert.Equal(20, bad.RowsQuarantined);
        Assert.Equal(21, File.ReadAllLines(bad.QuarantinePath).Length);
    }

    [Fact]
    public async Task RunCycleAsync_SecondAdmittedFileShifted_DriftIsMeasuredAgainstTheFirst()
    {
        using var host = BuildWorker();
        var job = host.Services.GetRequiredService<CsvGateJob>();
        var drift = host.Services.GetRequiredService<IDriftMonitor>();
        Directory.CreateDirectory(Folder("incoming"));
        File.WriteAllText(Path.Combine(Folder("incoming"), "day1.csv"), Csv(500, i => $"{i},{20 + (i % 40)},{i % 100}"));
        await job.RunCycleAsync();
        Assert.NotNull(drift.GetProfile(job.DriftKey));

        File.WriteAllText(Path.Combine(Folder("incoming"), "day2.csv"), Csv(500, i => $"{i},{80 + (i % 40)},{i % 100}"));
        await job.RunCycleAsync();

        var window = Assert.Single(drift.GetWindows(job.DriftKey));
        var age = window.Result.Features.First(f => f.Feature == "age" && f.Statistic == "psi");
        var amount = window.Result.Features.First(f => f.Feature == "amount" && f.Statistic == "psi");
        Assert.True(age.Value > 0.2, $"age moved by 60 years: PSI {age.Value}");
        Assert.True(amount.Value < 0.1, $"amount did not move: PSI {amount.Value}");
    }

    [Fact]
    public async Task StartAsync_FileWaiting_FirstScheduledCycleAdmitsItAndLogRetentionRuns()
    {
        Directory.CreateDirectory(Folder("incoming"));
        File.WriteAllText(Path.Combine(Folder("incoming"), "early.csv"), Csv(50, i => $"{i},{30 + (i % 10)},{i}"));
        Directory.CreateDirectory(Folder("logs"));
        var oldLog = Path.Combine(Folder("logs"), "old.log");
        var freshLog = Path.Combine(Folder("logs"), "fresh.log");
        File.WriteAllText(oldLog, "old");
        File.WriteAllText(freshLog, "fresh");
        File.SetLastWriteTimeUtc(oldLog, DateTime.UtcNow.AddDays(-30));
        using var host = BuildWorker();

        await host.StartAsync();
        var admitted = Path.Combine(Folder("admitted"), "early.csv");
        var cap = System.Diagnostics.Stopwatch.StartNew();
        while ((!File.Exists(admitted) || File.Exists(oldLog)) && cap.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(5);
        }

        await host.StopAsync();

        Assert.True(File.Exists(admitted), "the first cycle runs when the worker starts");
        Assert.Empty(Directory.EnumerateFiles(Folder("incoming")));
        Assert.False(File.Exists(oldLog), "log retention ran on start and deleted the 30-day-old log");
        Assert.True(File.Exists(freshLog));
    }

    [Fact]
    public async Task StatusCycle_NoGpuOnThisMachineOrOne_ReportsCleanly()
    {
        using var host = BuildWorker();
        var job = host.Services.GetRequiredService<OpsStatusJob>();

        var status = await job.RunCycleAsync();

        if (status.HasGpu)
        {
            Assert.NotEmpty(status.Devices);
            Assert.All(status.Devices, d => Assert.True(d.Utilization is null or (>= 0 and <= 1)));
        }
        else
        {
            Assert.Empty(status.Devices);
            Assert.False(string.IsNullOrWhiteSpace(status.Reason));
        }
    }
}
