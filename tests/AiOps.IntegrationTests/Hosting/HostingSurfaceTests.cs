using System.Collections.Concurrent;
using System.Diagnostics;
using AiOps.Data;
using AiOps.Inference;
using AiOps.Monitoring;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Runners;
using AiOps.Release;
using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Rollout;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.IntegrationTests.Hosting;

/// <summary>
/// The hosting surface as a service sees it: real hosts, real ONNX models from the kit, the packages added in either
/// order, settings from configuration, relative paths, logging added late, tracing through an ActivityListener.
/// </summary>
public sealed class HostingSurfaceTests : IDisposable
{
    private static readonly ModelKey Fraud1 = new("fraud", "1");
    private readonly string _root = Path.Combine(Path.GetTempPath(), "aiops-hosting-tests", Guid.NewGuid().ToString("N"));

    public HostingSurfaceTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "models"));
        TestModels.TestModels.Classifier(1).WriteTo(Path.Combine(_root, "models", "fraud-1.onnx"));
        TestModels.TestModels.Classifier(2).WriteTo(Path.Combine(_root, "models", "fraud-2.onnx"));
        TestModels.TestModels.Classifier(3, inputSize: 5).WriteTo(Path.Combine(_root, "models", "fraud-3.onnx"));
    }

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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KeyedRunner_EitherRegistrationOrder_IsMonitored(bool inferenceFirst)
    {
        var builder = NewBuilder();
        if (inferenceFirst)
        {
            AddFraud(builder.Services);
            builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        }
        else
        {
            builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
            AddFraud(builder.Services);
        }

        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var keyed = host.Services.GetRequiredKeyedService<IModelRunner>("fraud");
            Assert.IsType<MonitoredModelRunner>(keyed);
            Assert.True(host.Services.GetRequiredService<IModelRunnerCatalog>().TryGetRunner(Fraud1, out var fromCatalog));
            Assert.Same(fromCatalog, keyed);

            await keyed.RunAsync(Request(1));
            await keyed.RunAsync(Request(2));

            var text = await host.Services.GetRequiredService<AiOpsPrometheusExporter>().ScrapeAsync();
            Assert.Contains("aiops_model_requests_total{model=\"fraud\",version=\"1\",outcome=\"ok\"} 2", text);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Release_LoggingAddedAfterwards_ReceivesReleaseLogs()
    {
        var builder = NewBuilder();
        builder.Logging.ClearProviders();
        AddFraud(builder.Services);
        builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        builder.Services.AddAiOpsRelease(o => o.EnableController = false).AddModel("fraud", o => o.StableVersion = "1");

        // The host's logging comes after AddAiOpsRelease(): it must still be the logging the release services use.
        var sink = new CapturingLoggerProvider();
        builder.Services.AddLogging(b => b.AddProvider(sink));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            await host.Services.GetRequiredService<IRolloutManager>().StartAsync(new ModelId("fraud"), new ModelVersion("2"));
        }
        finally
        {
            await host.StopAsync();
        }

        Assert.Contains(sink.Entries, e => e.Category.StartsWith("AiOps.Release.", StringComparison.Ordinal) && e.Message.Contains("fraud", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Canary_InputsDifferFromStable_RefusedBeforeAnyTrafficMoves()
    {
        var builder = NewBuilder();
        builder.Services.AddAiOpsInference().AddOnnxModel("fraud", o =>
        {
            o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = "models/fraud-1.onnx" });
            o.Versions.Add(new OnnxModelVersionOptions { Version = "3", Path = "models/fraud-3.onnx" });
            o.DefaultVersion = "1";
        });
        builder.Services.AddAiOpsRelease(o => o.EnableController = false).AddModel("fraud", o => o.StableVersion = "1");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var manager = host.Services.GetRequiredService<IRolloutManager>();
            var error = await Assert.ThrowsAsync<ModelSignatureMismatchException>(async () => await manager.StartAsync(new ModelId("fraud"), new ModelVersion("3")));

            Assert.Contains("fraud:3", error.Message, StringComparison.Ordinal);
            Assert.Contains("input 'features' dimension 1 is 4 today but 5 in the replacement", error.Message, StringComparison.Ordinal);
            Assert.False(error.Compatibility.IsCompatible);
            Assert.Null(await manager.GetStateAsync(new ModelId("fraud")));

            var client = host.Services.GetRequiredKeyedService<IModelClient>("fraud");
            for (var i = 0; i < 50; i++)
            {
                var response = await client.InferAsync(new ModelRequest(ModelTensor.Create(TestModels.ClassifierModel.InputName, TestModels.TestModels.Features(1, seed: (ulong)i).AsMemory(), 1, 4)) { RoutingKey = $"user-{i}" });
                Assert.Equal(new ModelVersion("1"), response.Key.Version);
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task EveryPackage_SettingsFromConfiguration_AreBoundAndCodeWins()
    {
        var builder = NewBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Models:fraud:Path"] = "models/fraud-1.onnx",
            ["AiOps:Models:fraud:MaxQueueLength"] = "77",
            ["AiOps:Monitoring:Models:0"] = "fraud",
            ["AiOps:Monitoring:Gpu:Enabled"] = "false",
            ["AiOps:Monitoring:Drift:MinimumSampleCount"] = "321",
            ["AiOps:Monitoring:Quality:MinimumLabels"] = "17",
            ["AiOps:Data:MaxHistoryRuns"] = "9",
            ["AiOps:Data:FailingRowSampleSize"] = "5",
            ["AiOps:Release:StateDirectory"] = "state/rollouts",
            ["AiOps:Release:EnableController"] = "false",
            ["AiOps:Release:Models:fraud:StableVersion"] = "1",
            ["AiOps:Release:Checkpoints:Directory"] = "ckpt",
            ["AiOps:Release:Checkpoints:SaveEveryNSteps"] = "40",
            ["AiOps:Release:Backup:BackupDirectory"] = "backups",
            ["AiOps:Release:Backup:ModelFiles:0"] = "models/fraud-1.onnx",
        });
        builder.Services.AddAiOpsInference().AddOnnxModel("fraud");
        builder.Services.AddAiOpsMonitoring();
        builder.Services.AddAiOpsDrift();
        builder.Services.AddAiOpsModelQuality();
        builder.Services.AddAiOpsData(o => o.FailingRowSampleSize = 6); // code after configuration wins
        builder.Services.AddAiOpsRelease().AddModel("fraud");
        builder.Services.AddAiOpsCheckpoints();
        builder.Services.AddAiOpsModelBackup();
        using var host = builder.Build();
        var sp = host.Services;

        Assert.Equal(77, sp.GetRequiredService<IOptionsMonitor<OnnxModelOptions>>().Get("fraud").MaxQueueLength);
        Assert.Contains("fraud", sp.GetRequiredService<IOptions<AiOpsMonitoringOptions>>().Value.Models);
        Assert.False(sp.GetRequiredService<IOptions<AiOpsMonitoringOptions>>().Value.Gpu.Enabled);
        Assert.Equal(321, sp.GetRequiredService<IOptions<DriftOptions>>().Value.MinimumSampleCount);
        Assert.Equal(17, sp.GetRequiredService<IOptions<AiOps.Monitoring.Quality.ModelQualityOptions>>().Value.MinimumLabels);
        var data = sp.GetRequiredService<IOptions<AiOpsDataOptions>>().Value;
        Assert.Equal(9, data.MaxHistoryRuns);
        Assert.Equal(6, data.FailingRowSampleSize);
        Assert.Equal(Path.Combine(_root, "aiops-data", "datasets"), data.DatasetStorePath);
        var release = sp.GetRequiredService<IOptions<AiOpsReleaseOptions>>().Value;
        Assert.False(release.EnableController);
        Assert.Equal(Path.Combine(_root, "state", "rollouts"), release.StateDirectory);
        Assert.Equal("1", sp.GetRequiredService<IOptionsMonitor<ModelReleaseOptions>>().Get("fraud").StableVersion);
        var checkpoints = sp.GetRequiredService<IOptions<CheckpointOptions>>().Value;
        Assert.Equal(Path.Combine(_root, "ckpt"), checkpoints.Directory);
        Assert.Equal(40, checkpoints.SaveEveryNSteps);
        var backup = sp.GetRequiredService<IOptions<ModelBackupOptions>>().Value;
        Assert.Equal(Path.Combine(_root, "backups"), backup.BackupDirectory);
        Assert.Equal([Path.Combine(_root, "models", "fraud-1.onnx")], backup.ModelFiles);
    }

    [Fact]
    public async Task RelativeModelPath_ContentRootIsNotWorkingDirectory_LoadsFromContentRoot()
    {
        // The process's working directory (the test bin folder) holds no models/ folder: only the content root does.
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine("models", "fraud-1.onnx"))));
        var builder = NewBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Models:fraud:Path"] = "models/fraud-1.onnx",
            ["AiOps:Models:fraud:OptimizedModelFilePath"] = "cache/optimised/fraud-1.ort",
            ["AiOps:Models:fraud:ExecutionProviders:0"] = "Cpu",
        });
        builder.Services.AddAiOpsInference().AddOnnxModel("fraud");
        builder.Services.AddAiOpsRelease(o => o.EnableController = false).AddModel("fraud", o => o.StableVersion = "1");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var runner = host.Services.GetRequiredKeyedService<OnnxModelRunner>("fraud");
            Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
            Assert.Equal(Path.Combine(_root, "models", "fraud-1.onnx"), runner.ModelPath);

            // The optimised copy's folder did not exist: it is created under the content root, not the working directory.
            Assert.True(File.Exists(Path.Combine(_root, "cache", "optimised", "fraud-1.ort")));
            var response = await host.Services.GetRequiredKeyedService<IModelClient>("fraud").InferAsync(Request(3));
            Assert.Equal(Fraud1, response.Key);
            Assert.Equal(Path.Combine(_root, "aiops-state", "rollouts"), host.Services.GetRequiredService<IOptions<AiOpsReleaseOptions>>().Value.StateDirectory);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InferenceCall_WithListener_ProducesActivityUnderCallersTrace(bool batching)
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == AiOpsInferenceDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var builder = NewBuilder();
        builder.Services.AddAiOpsInference().AddOnnxModel("fraud", o =>
        {
            o.Path = "models/fraud-1.onnx";
            o.Batching.Enabled = batching;
        });
        builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var runner = host.Services.GetRequiredKeyedService<IModelRunner>("fraud");
            using var caller = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();
            await runner.RunAsync(Request(4));
            await Assert.ThrowsAsync<ModelInputException>(async () =>
                await runner.RunAsync(new ModelRequest(ModelTensor.Create("features", new float[3].AsMemory(), 1, 3))));
            caller.Stop();

            var runs = stopped.Where(a => a.OperationName == AiOpsInferenceDiagnostics.RunActivityName && a.TraceId == caller.TraceId).ToList();
            Assert.Equal(2, runs.Count);
            var ok = runs.Single(a => (string?)a.GetTagItem("aiops.outcome") == "ok");
            Assert.Equal("fraud", ok.GetTagItem("aiops.model"));
            Assert.Equal("1", ok.GetTagItem("aiops.model.version"));
            Assert.Equal(caller.SpanId, ok.ParentSpanId);
            Assert.Equal(ActivityStatusCode.Unset, ok.Status);
            var bad = runs.Single(a => (string?)a.GetTagItem("aiops.outcome") == "bad_input");
            Assert.Equal(ActivityStatusCode.Error, bad.Status);
            Assert.Contains(bad.Events, e => e.Name == "exception");
            if (batching)
            {
                Assert.NotNull(ok.GetTagItem("aiops.queue_wait_seconds"));
                // A lone call on an idle batched runner runs on the caller's thread: a batch of one, with no batch span
                // of its own (the listener is process-wide, so look for one linked to this call).
                Assert.Equal(1, ok.GetTagItem("aiops.batch.calls"));
                Assert.DoesNotContain(stopped, a => a.OperationName == AiOpsInferenceDiagnostics.BatchActivityName && a.Links.Any(l => l.Context.SpanId == ok.SpanId));
            }

            // The caller's context is its own again once the call returns.
            Assert.Null(Activity.Current);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HealthChecks_SelfRegistered_NamedAndTaggedAlikeAndCanBeTurnedOff(bool enabled)
    {
        var builder = NewBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Release:EnableHealthCheck"] = enabled ? "true" : "false",
            ["AiOps:Monitoring:Drift:EnableHealthCheck"] = enabled ? "true" : "false",
            ["AiOps:Release:Backup:EnableHealthCheck"] = enabled ? "true" : "false",
            ["AiOps:Release:Backup:BackupDirectory"] = "backups",
        });
        AddFraud(builder.Services);
        builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        builder.Services.AddAiOpsDrift();
        builder.Services.AddAiOpsRelease().AddModel("fraud", o => o.StableVersion = "1");
        builder.Services.AddAiOpsModelBackup();
        builder.Services.AddHealthChecks().AddAiOpsInferenceHealthChecks().AddAiOpsMonitoringHealthChecks();
        using var host = builder.Build();

        var registrations = host.Services.GetRequiredService<IOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>().Value.Registrations;

        foreach (var r in registrations)
        {
            Assert.StartsWith("aiops-", r.Name, StringComparison.Ordinal);
            Assert.DoesNotContain('_', r.Name);
            Assert.Contains(AiOpsHealthTags.All, r.Tags);
            Assert.Contains(r.Tags, t => t is AiOpsHealthTags.Inference or AiOpsHealthTags.Monitoring or AiOpsHealthTags.Release or AiOpsHealthTags.Data);
        }

        var names = registrations.Select(r => r.Name).ToHashSet();
        Assert.Contains("aiops-inference", names);
        Assert.Contains("aiops-model-fraud-1", names);
        Assert.Contains("aiops-models", names);
        Assert.Equal(enabled, names.Contains("aiops-release"));
        Assert.Equal(enabled, names.Contains("aiops-drift-monitor"));
        Assert.Equal(enabled, names.Contains("aiops-model-backup"));
    }

    private static ModelRequest Request(ulong seed) =>
        new(ModelTensor.Create(TestModels.ClassifierModel.InputName, TestModels.TestModels.Features(1, seed: seed).AsMemory(), 1, 4));

    private static void AddFraud(IServiceCollection services) =>
        services.AddAiOpsInference().AddOnnxModel("fraud", o =>
        {
            o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = "models/fraud-1.onnx" });
            o.Versions.Add(new OnnxModelVersionOptions { Version = "2", Path = "models/fraud-2.onnx" });
            o.DefaultVersion = "1";
        });

    private HostApplicationBuilder NewBuilder()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = _root,
            EnvironmentName = Environments.Production,
            DisableDefaults = true,
        });
        return builder;
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((category, formatter(state, exception)));
        }
    }
}
