using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Tests;

public sealed class OptionsValidationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("decreasing", "Steps:1 is 5; expected more than AiOps:Release:Models:fraud:Steps:0 (10): steps must increase.")]
    [InlineData("over100", "Steps:2 is 150; expected a canary weight above 0 and at most 100 (percent).")]
    [InlineData("zero", "Steps:0 is 0; expected a canary weight above 0 and at most 100 (percent).")]
    [InlineData("empty", "Steps is empty; expected at least one canary weight, e.g. [10, 50, 100].")]
    [InlineData("scores", "Gates:JudgeMarginalScore is 90; expected less than AiOps:Release:Models:fraud:Gates:JudgePassScore (80).")]
    [InlineData("errorRate", "Gates:MaxErrorRate is 5; expected a rate between 0 and 1 (0.05 = 5 %).")]
    [InlineData("ratio", "Gates:MaxP95LatencyRatio is 0.5; expected at least 1 (1.25 = canary p95 up to 25 % above stable's).")]
    [InlineData("minSamples", "Gates:MinSamples is 0; expected 1 or more (a gate without data never passes).")]
    [InlineData("attempt", "Resilience:AttemptTimeout is 00:00:10; expected positive and at most AiOps:Release:Models:fraud:Resilience:Timeout (00:00:03).")]
    [InlineData("shadow", "Shadow:QueueCapacity is 0; expected 1 or more.")]
    [InlineData("holds", "StepHolds has 1 entries; expected none or one per step (3).")]
    public async Task Start_BadModelSetting_FailsWithMessageNamingTheSetting(string kind, string expected)
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o =>
        {
            switch (kind)
            {
                case "decreasing": o.Steps = [10, 5, 100]; break;
                case "over100": o.Steps = [10, 50, 150]; break;
                case "zero": o.Steps = [0, 50]; break;
                case "empty": o.Steps = []; break;
                case "scores": o.Gates.JudgeMarginalScore = 90; break;
                case "errorRate": o.Gates.MaxErrorRate = 5; break;
                case "ratio": o.Gates.MaxP95LatencyRatio = 0.5; break;
                case "minSamples": o.Gates.MinSamples = 0; break;
                case "attempt": o.Resilience.AttemptTimeout = TimeSpan.FromSeconds(10); break;
                case "shadow": o.Shadow.QueueCapacity = 0; break;
                case "holds": o.StepHolds = [TimeSpan.FromHours(1)]; break;
            }
        });

        var ex = Assert.Throws<OptionsValidationException>(() => h.Services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("AiOps:Release:Models:fraud:" + expected, ex.Failures);
    }

    [Fact]
    public async Task Start_RefreshIntervalOverOneSecond_FailsNamingTheSetting()
    {
        await using var h = new ReleaseHarness(_dir.Path, release: o => o.RefreshInterval = TimeSpan.FromSeconds(5));
        var ex = Assert.Throws<OptionsValidationException>(() => h.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(
            "AiOps:Release:RefreshInterval is 00:00:05; expected more than 0 and at most 00:00:01 so every replica sees a weight change within a second.",
            ex.Failures);
    }

    [Fact]
    public async Task Start_Defaults_AreValid()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        h.Services.GetRequiredService<IStartupValidator>().Validate();
        var o = h.Services.GetRequiredService<IOptionsMonitor<ModelReleaseOptions>>().Get("fraud");
        Assert.Equal(TimeSpan.FromHours(24), o.HoldFor(0));
    }

    [Fact]
    public async Task Host_BadSetting_FailsAtStartNotAtFirstRequest()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<IModelRunnerCatalog>(ReleaseHarness.DefaultCatalog());
        builder.Services.AddAiOpsRelease(o => o.StateDirectory = _dir.Path).AddModel("fraud", o => o.Steps = [50, 10]);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("AiOps:Release:Models:fraud:Steps:1 is 10; expected more than AiOps:Release:Models:fraud:Steps:0 (50): steps must increase.", ex.Failures);
    }

    [Fact]
    public void BadSettingsFromConfiguration_FailNamingTheKeyAndValue()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Release:MaxHistory"] = "0",
            ["AiOps:Release:Models:fraud:Gates:MinSamples"] = "0",
            ["AiOps:Release:Models:fraud:Resilience:MaxRetryAttempts"] = "11",
            ["AiOps:Release:Models:fraud:Shadow:Version"] = "bad version",
            ["AiOps:Release:Checkpoints:MaxPendingSaves"] = "100",
            ["AiOps:Release:Checkpoints:Retention:KeepLatest"] = "-1",
            ["AiOps:Release:Backup:KeepPerFile"] = "0",
        }).Build();
        var services = new ServiceCollection();
        services.AddAiOpsRelease(o => o.StateDirectory = _dir.Path).AddModel("fraud");
        services.AddAiOpsCheckpoints(o => o.Directory = _dir.Path);
        services.AddAiOpsModelBackup(o => o.BackupDirectory = _dir.Path);
        services.Configure<AiOpsReleaseOptions>(config.GetSection(AiOpsReleaseOptions.SectionName));
        services.Configure<ModelReleaseOptions>("fraud", config.GetSection($"{ModelReleaseOptions.SectionPrefix}:fraud"));
        services.Configure<CheckpointOptions>(config.GetSection(CheckpointOptions.SectionName));
        services.Configure<ModelBackupOptions>(config.GetSection(ModelBackupOptions.SectionName));
        using var sp = services.BuildServiceProvider();

        var release = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<AiOpsReleaseOptions>>().Value);
        var model = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptionsMonitor<ModelReleaseOptions>>().Get("fraud"));
        var checkpoints = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<CheckpointOptions>>().Value);
        var backup = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<ModelBackupOptions>>().Value);

        Assert.Equal(["AiOps:Release:MaxHistory is 0; expected 1 or more."], release.Failures);
        Assert.Equal(
            ["AiOps:Release:Models:fraud:Gates:MinSamples is 0; expected 1 or more (a gate without data never passes).",
             "AiOps:Release:Models:fraud:Resilience:MaxRetryAttempts is 11; expected 0 to 10.",
             "AiOps:Release:Models:fraud:Shadow:Version is 'bad version'; expected a version of 1 to 32 letters, digits, '.', '-' or '_', not starting with '.' and without '..' (e.g. '2.1')."],
            model.Failures);
        Assert.Equal(
            ["AiOps:Release:Checkpoints:MaxPendingSaves is 100; expected 1 to 64.",
             "AiOps:Release:Checkpoints:Retention:KeepLatest is -1; expected 0 (off) or more."],
            checkpoints.Failures);
        Assert.Equal(["AiOps:Release:Backup:KeepPerFile is 0; expected 1 or more."], backup.Failures);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("Fraud")]
    [InlineData("")]
    public void AddModel_InvalidName_ThrowsArgumentException(string name)
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentException>(() => services.AddAiOpsRelease().AddModel(name));
    }

    [Fact]
    public async Task AddAiOpsRelease_CalledTwice_RegistersServicesOnce()
    {
        var services = new ServiceCollection();
        services.AddLogging().AddMetrics().AddSingleton<IModelRunnerCatalog>(ReleaseHarness.DefaultCatalog());
        services.AddAiOpsRelease(o => o.StateDirectory = _dir.Path).AddModel("fraud", o => o.StableVersion = "1");
        services.AddAiOpsRelease().AddModel("fraud", o => o.Steps = [20, 100]);
        await using var sp = services.BuildServiceProvider();

        var hosted = sp.GetServices<IHostedService>().ToList();
        Assert.Single(hosted.OfType<AiOps.Release.Rollout.RolloutControllerService>());
        Assert.Single(hosted.OfType<AiOps.Release.Shadow.ShadowDispatcher>());
        Assert.Single(sp.GetServices<AiOps.Alerts.IAlertHandler>());
        var o = sp.GetRequiredService<IOptionsMonitor<ModelReleaseOptions>>().Get("fraud");
        Assert.Equal("1", o.StableVersion);
        Assert.Equal([20.0, 100.0], o.Steps);
        var health = await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Single(health.Entries);
        Assert.NotNull(sp.GetKeyedService<IModelClient>("fraud"));
    }
}
