using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Tests.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Backup;

public sealed class ModelBackupHostingTests : IDisposable
{
    // Guards against a hang only; no test asserts on elapsed time.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(1);
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 8, 1, 3, 0, 0, TimeSpan.Zero));

    public void Dispose() => _folder.Dispose();

    private string WriteModel()
    {
        var path = _folder.Sub("model.onnx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        return path;
    }

    private IHost BuildHost(Action<ModelBackupOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddAiOpsModelBackup(o =>
        {
            o.BackupDirectory = _folder.Sub("backups");
            configure(o);
        });
        return builder.Build();
    }

    [Fact]
    public async Task HostedService_EveryInterval_RunsAgainAsFakeTimeAdvances()
    {
        var model = WriteModel();
        using var host = BuildHost(o =>
        {
            o.ModelFiles.Add(model);
            o.Interval = TimeSpan.FromDays(1);
        });
        using var runs = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CheckpointMetrics.MeterName, "aiops.backup.runs");
        await host.StartAsync();

        await runs.WaitForMeasurementsAsync(1, HangGuard);
        Assert.True(File.Exists(_folder.Sub("backups/model_backup_20240801.onnx")));
        _time.Advance(TimeSpan.FromHours(23));
        Assert.Single(runs.GetMeasurementSnapshot());
        _time.Advance(TimeSpan.FromHours(1));
        await runs.WaitForMeasurementsAsync(2, HangGuard);

        Assert.True(File.Exists(_folder.Sub("backups/model_backup_20240802.onnx")));
        await host.StopAsync();
    }

    [Fact]
    public async Task HealthCheck_SuccessThenFailureThenTooOld_HealthyDegradedUnhealthy()
    {
        var model = WriteModel();
        using var host = BuildHost(o =>
        {
            o.ModelFiles.Add(model);
            o.RunOnStart = false;
            o.Interval = TimeSpan.FromHours(1);
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var backup = host.Services.GetRequiredService<IModelBackup>();
        async Task<HealthReportEntry> CheckAsync() => (await health.CheckHealthAsync()).Entries[ModelBackupServiceCollectionExtensions.HealthCheckName];

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);
        Assert.True((await backup.RunOnceAsync()).Succeeded);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);

        File.Delete(model);
        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.False((await backup.RunOnceAsync()).Succeeded);
        var degraded = await CheckAsync();
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains(model, degraded.Description, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromHours(2));
        var unhealthy = await CheckAsync();
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Contains("MaxBackupAge", unhealthy.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_NoBackupEverWithinMaxAge_UnhealthyAfterIt()
    {
        using var host = BuildHost(o =>
        {
            o.ModelFiles.Add(_folder.Sub("missing.onnx"));
            o.RunOnStart = false;
            o.MaxBackupAge = TimeSpan.FromHours(3);
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();

        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        _time.Advance(TimeSpan.FromHours(4));

        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task AddAiOpsModelBackup_CalledTwice_RegistersOnceAndStarts()
    {
        var model = WriteModel();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddAiOpsModelBackup(o => o.BackupDirectory = _folder.Sub("backups"));
        builder.Services.AddAiOpsModelBackup(o => o.ModelFiles.Add(model));
        using var host = builder.Build();

        Assert.Single(host.Services.GetServices<IHostedService>().OfType<ModelBackupHostedService>());
        Assert.Single((await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries);
        Assert.Equal([model], host.Services.GetRequiredService<IOptions<ModelBackupOptions>>().Value.ModelFiles);
    }

    [Fact]
    public async Task HostedService_NotScheduled_NeverRunsByItselfButRunOnceAsyncStillWorks()
    {
        var model = WriteModel();
        using var host = BuildHost(o =>
        {
            o.ModelFiles.Add(model);
            o.Scheduled = false; // RunOnStart stays true: it belongs to the schedule
        });
        using var runs = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), CheckpointMetrics.MeterName, "aiops.backup.runs");
        await host.StartAsync();

        _time.Advance(TimeSpan.FromDays(3));
        Assert.True((await host.Services.GetRequiredService<IModelBackup>().RunOnceAsync()).Succeeded);
        await host.StopAsync(); // waits for any run the job started: a scheduled run would be counted by now

        Assert.Single(runs.GetMeasurementSnapshot());
        Assert.Equal(["model_backup_20240804.onnx"], Directory.EnumerateFiles(_folder.Sub("backups")).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("BackupDirectory", "AiOps:Release:Backup:BackupDirectory is empty; expected the folder backups are copied to.")]
    [InlineData("ModelFiles",
        "AiOps:Release:Backup:ModelFiles:1 is '/b/model.onnx'; expected a file name other than that of AiOps:Release:Backup:ModelFiles:0 ('/a/model.onnx'): their backups would overwrite each other.")]
    [InlineData("KeepPerFile", "AiOps:Release:Backup:KeepPerFile is 0; expected 1 or more.")]
    [InlineData("LogRetentionDays", "AiOps:Release:Backup:LogRetentionDays is 0; expected 1 day or more.")]
    [InlineData("Interval",
        "AiOps:Release:Backup:Interval is 00:00:00; expected a positive interval of at most 49.17:02:47.2940000 (e.g. 1.00:00:00); to run backups only when the host asks, set AiOps:Release:Backup:Scheduled to false.")]
    [InlineData("LongInterval",
        "AiOps:Release:Backup:Interval is 60.00:00:00; expected a positive interval of at most 49.17:02:47.2940000 (e.g. 1.00:00:00); to run backups only when the host asks, set AiOps:Release:Backup:Scheduled to false.")]
    public async Task Start_BadOptions_FailsNamingTheSetting(string setting, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAiOpsModelBackup(o =>
        {
            o.BackupDirectory = setting == "BackupDirectory" ? " " : _folder.Sub("backups");
            o.ModelFiles.Add("/a/model.onnx");
            if (setting == "ModelFiles")
            {
                o.ModelFiles.Add("/b/model.onnx");
            }

            o.KeepPerFile = setting == "KeepPerFile" ? 0 : 7;
            o.LogRetentionDays = setting == "LogRetentionDays" ? 0 : 7;
            o.Interval = setting switch
            {
                "Interval" => TimeSpan.Zero,
                "LongInterval" => TimeSpan.FromDays(60), // a timer cannot wait that long: refused at start, not at the first tick
                _ => TimeSpan.FromDays(1),
            };
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal([expected], ex.Failures);
    }
}
