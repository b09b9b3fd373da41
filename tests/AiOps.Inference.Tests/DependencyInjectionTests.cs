using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Inference.Tests;

public sealed class DependencyInjectionTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public DependencyInjectionTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private static IHost BuildHost(Action<IServiceCollection> configure, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        configure(builder.Services);
        return builder.Build();
    }

    private void TwoVersions(OnnxModelOptions o)
    {
        o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
        o.WarmUpIterations = 1;
        o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = _files.ClassifierV1 });
        o.Versions.Add(new OnnxModelVersionOptions { Version = "2", Path = _files.ClassifierV2 });
    }

    [Fact]
    public async Task AddOnnxModel_TwoVersions_LoadsBothSideBySideAndKeysTheNewest()
    {
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("fraud", TwoVersions));
        await host.StartAsync();

        var catalog = host.Services.GetRequiredService<IModelRunnerCatalog>();
        Assert.Equal([new ModelKey("fraud", "1"), new ModelKey("fraud", "2")], catalog.Keys);
        var features = Kit.Features(3);
        foreach (var version in new[] { 1, 2 })
        {
            Assert.True(catalog.TryGetRunner(new ModelKey("fraud", version.ToString(System.Globalization.CultureInfo.InvariantCulture)), out var runner));
            var response = await runner.RunAsync(Requests.Features(features));
            Requests.AssertClose(Kit.Classifier(version).Predict(features), response.Probabilities());
        }

        Assert.False(catalog.TryGetRunner(new ModelKey("fraud", "3"), out _));
        var keyed = host.Services.GetRequiredKeyedService<IModelRunner>("fraud");
        Assert.Equal(new ModelKey("fraud", "2"), keyed.Key);
        Assert.Same(keyed, host.Services.GetRequiredKeyedService<OnnxModelRunner>("fraud"));
        await host.StopAsync();
    }

    [Fact]
    public async Task AddOnnxModel_DefaultVersionSet_KeyedRunnerServesIt()
    {
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("fraud", o =>
        {
            TwoVersions(o);
            o.DefaultVersion = "1";
        }));
        await host.StartAsync();

        Assert.Equal(new ModelKey("fraud", "1"), host.Services.GetRequiredKeyedService<IModelRunner>("fraud").Key);
    }

    [Fact]
    public async Task AddOnnxModel_FromConfiguration_BindsAiOpsModelsSection()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiOps:Models:churn:Path"] = _files.ClassifierV1,
            ["AiOps:Models:churn:Version"] = "3.1",
            ["AiOps:Models:churn:ExecutionProviders:0"] = "Cpu",
            ["AiOps:Models:churn:Batching:Enabled"] = "true",
            ["AiOps:Models:churn:Batching:MaxBatchSize"] = "16",
            ["AiOps:Models:churn:MaxQueueLength"] = "50",
        };
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("churn"), settings);
        await host.StartAsync();

        var runner = host.Services.GetRequiredKeyedService<OnnxModelRunner>("churn");
        Assert.Equal(new ModelKey("churn", "3.1"), runner.Key);
        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
        Assert.True(runner.IsBatching);
        var options = host.Services.GetRequiredService<IOptionsMonitor<OnnxModelOptions>>().Get("churn");
        Assert.Equal(16, options.Batching.MaxBatchSize);
        Assert.Equal(50, options.MaxQueueLength);
        var response = await runner.RunAsync(Requests.Features(Kit.Features(2)));
        Assert.Equal(6, response.Probabilities().Length);
    }

    [Fact]
    public async Task StartAsync_InvalidSetting_FailsNamingTheSetting()
    {
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("fraud", o =>
        {
            o.Path = _files.ClassifierV1;
            o.MaxQueueLength = 0;
            o.Batching.MaxQueueDelay = TimeSpan.FromSeconds(-1);
        }));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(
            ["AiOps:Models:fraud:Batching:MaxQueueDelay is -00:00:01; expected between 0 and 10 seconds.",
             "AiOps:Models:fraud:MaxQueueLength is 0; expected 1 or more."],
            error.Failures);
    }

    [Fact]
    public async Task StartAsync_BadSettingsFromConfiguration_FailNamingTheKeyAndValue()
    {
        var settings = new Dictionary<string, string?>
        {
            [$"{OnnxModelOptions.SectionPrefix}:fraud:Path"] = _files.ClassifierV1,
            ["AiOps:Models:fraud:MaxQueueLength"] = "-1",
            ["AiOps:Models:fraud:Cuda:DeviceId"] = "-2",
            ["AiOps:Models:fraud:Versions:0:Version"] = "2..1",
            ["AiOps:Models:fraud:Versions:0:Path"] = _files.ClassifierV2,
        };
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("fraud"), settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(
            ["AiOps:Models:fraud:Cuda:DeviceId is -2; expected 0 or more.",
             "AiOps:Models:fraud:MaxQueueLength is -1; expected 1 or more.",
             "AiOps:Models:fraud:Versions:0:Version is '2..1'; expected a version of 1 to 32 letters, digits, '.', '-' or '_', not starting with '.' and without '..' (e.g. '2.1')."],
            error.Failures);
    }

    [Fact]
    public async Task StartAsync_BadQueueBatchingAndWarmUpSettings_FailNamingTheKeys()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiOps:Models:fraud:Path"] = _files.ClassifierV1,
            ["AiOps:Models:fraud:MaxQueueTime"] = "-00:00:01",
            ["AiOps:Models:fraud:MaxConcurrentRuns"] = "-1",
            ["AiOps:Models:fraud:Batching:MaxBatchSize"] = "8",
            ["AiOps:Models:fraud:Batching:PreferredBatchSizes:0"] = "16",
            ["AiOps:Models:fraud:Batching:MaxConcurrentBatches"] = "0",
            ["AiOps:Models:fraud:WarmUp:DimensionSizes:samples"] = "0",
            ["AiOps:Models:fraud:WarmUp:Samples:0:Inputs:features:Shape:0"] = "2",
            ["AiOps:Models:fraud:WarmUp:Samples:0:Inputs:features:Values:0"] = "1",
            ["AiOps:Models:fraud:WarmUp:Samples:0:Inputs:features:Values:1"] = "2",
            ["AiOps:Models:fraud:WarmUp:Samples:0:Inputs:features:Values:2"] = "3",
        };
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("fraud"), settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("AiOps:Models:fraud:MaxQueueTime is -00:00:01; expected a positive duration or no limit.", error.Failures);
        Assert.Contains("AiOps:Models:fraud:MaxConcurrentRuns is -1; expected 0 (the number of processors) or more.", error.Failures);
        Assert.Contains("AiOps:Models:fraud:Batching:PreferredBatchSizes:0 is 16; expected between 1 and AiOps:Models:fraud:Batching:MaxBatchSize (8).", error.Failures);
        Assert.Contains("AiOps:Models:fraud:WarmUp:DimensionSizes:samples is 0; expected 1 or more.", error.Failures);
        Assert.Contains("AiOps:Models:fraud:WarmUp:Samples:0:Inputs:features:Values has 3 values; expected 1 (fills the tensor) or 2 (the shape's element count).", error.Failures);
        Assert.Contains("AiOps:Models:fraud:Batching:MaxConcurrentBatches is 0; expected between 1 and 64.", error.Failures);
        Assert.Equal(6, error.Failures.Count());
    }

    [Fact]
    public async Task StartAsync_NoVersionsOrDuplicateVersion_FailsNamingTheSetting()
    {
        using var host = BuildHost(s => s.AddAiOpsInference()
            .AddOnnxModel("empty", _ => { })
            .AddOnnxModel("dup", o =>
            {
                o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = _files.ClassifierV1 });
                o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = _files.ClassifierV2 });
            }));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        // The host stops at the first model that fails validation; either one names its key.
        Assert.Contains(
            Assert.Single(error.Failures),
            new[]
            {
                "AiOps:Models:empty:Versions is empty; expected at least one version with a Path (or set AiOps:Models:empty:Path).",
                "AiOps:Models:dup:Versions:1:Version is '1', which is declared twice; expected each version once.",
            });
    }

    [Fact]
    public async Task StartAsync_RequireGpuOnCpuBuild_FailsStartUpWithTheReason()
    {
        using var host = BuildHost(s => s.AddAiOpsInference().AddOnnxModel("fraud", o =>
        {
            o.Path = _files.ClassifierV1;
            o.RequireGpu = true;
        }));

        var error = await Assert.ThrowsAsync<ExecutionProviderUnavailableException>(() => host.StartAsync());

        Assert.Equal("CUDA", error.Provider);
        Assert.Equal(new ModelKey("fraud", "1"), error.Key);
    }

    [Fact]
    public async Task StartAsync_OneCorruptModel_OthersServeAndHealthReportsIt()
    {
        using var host = BuildHost(s =>
        {
            s.AddAiOpsInference()
                .AddOnnxModel("good", o =>
                {
                    o.Path = _files.ClassifierV1;
                    o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
                })
                .AddOnnxModel("fallback", o => o.Path = _files.ClassifierV1)
                .AddOnnxModel("broken", o =>
                {
                    o.Path = _files.Corrupt;
                    o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
                });
            s.AddHealthChecks().AddAiOpsInferenceHealthChecks().AddAiOpsInferenceHealthChecks();
        });
        await host.StartAsync();

        var broken = host.Services.GetRequiredKeyedService<IModelRunner>("broken");
        Assert.Equal(ModelReadiness.Failed, broken.Status.Readiness);
        var notReady = await Assert.ThrowsAsync<ModelNotReadyException>(() => broken.RunAsync(Requests.Features(Kit.Features(1))).AsTask());
        Assert.IsType<ModelLoadException>(notReady.InnerException);
        await host.Services.GetRequiredKeyedService<IModelRunner>("good").RunAsync(Requests.Features(Kit.Features(1)));

        var health = host.Services.GetRequiredService<HealthCheckService>();
        var ready = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
        Assert.Equal(3, ready.Entries.Count);
        Assert.Equal(HealthStatus.Healthy, ready.Entries["aiops-model-good-1"].Status);
        Assert.Equal(HealthStatus.Degraded, ready.Entries["aiops-model-fallback-1"].Status);
        Assert.Contains("CUDA", ready.Entries["aiops-model-fallback-1"].Description, StringComparison.Ordinal);
        Assert.Equal("CPU", ready.Entries["aiops-model-fallback-1"].Data["execution_provider"]);
        Assert.Equal(HealthStatus.Unhealthy, ready.Entries["aiops-model-broken-1"].Status);
        Assert.Contains(_files.Corrupt, ready.Entries["aiops-model-broken-1"].Description, StringComparison.Ordinal);
        var live = await health.CheckHealthAsync(r => r.Tags.Contains("live"));
        Assert.Equal(HealthStatus.Healthy, Assert.Single(live.Entries).Value.Status);
        Assert.Equal("Failed", live.Entries["aiops-inference"].Data["broken:1"]);
    }

    [Fact]
    public async Task ReadinessCheck_BeforeStart_IsUnhealthyBecauseNotWarmedUp()
    {
        using var host = BuildHost(s =>
        {
            s.AddAiOpsInference().AddOnnxModel("fraud", o =>
            {
                o.Path = _files.ClassifierV1;
                o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
            });
            s.AddHealthChecks().AddAiOpsInferenceHealthChecks();
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var before = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
        await host.StartAsync();
        var after = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));

        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("not ready", before.Entries["aiops-model-fraud-1"].Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, after.Status);
    }

    [Fact]
    public void AddAiOpsInference_CalledTwiceAndModelAddedTwice_RegistersOnce()
    {
        var services = new ServiceCollection();
        services.AddAiOpsInference().AddOnnxModel("fraud", o => o.Path = _files.ClassifierV1);
        services.AddAiOpsInference().AddOnnxModel("fraud", o => o.WarmUpIterations = 0);

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(IModelRunnerCatalog));
        Assert.Single(services, d => d.ServiceType == typeof(IModelRunner) && Equals(d.ServiceKey, "fraud"));
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<OnnxModelOptions>>().Get("fraud");
        Assert.Equal(_files.ClassifierV1, options.Path);
        Assert.Equal(0, options.WarmUpIterations);
        Assert.Single(provider.GetRequiredService<IModelRunnerCatalog>().Keys);
    }

    [Fact]
    public void AddOnnxModel_InvalidName_ThrowsNamingTheRule()
    {
        var builder = new ServiceCollection().AddAiOpsInference();

        var error = Assert.Throws<ArgumentException>(() => builder.AddOnnxModel("Fraud Model", o => { }));

        Assert.Contains("lower-case", error.Message, StringComparison.Ordinal);
    }
}
