using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Quality;
using AiOps.Monitoring.Runners;
using AiOps.Monitoring.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Tests.Health;

public sealed class HealthAndOptionsTests
{
    private static MonitoringHarness Harness(Action<IServiceCollection>? services = null) =>
        new(o => o.Alerts.MinRequests = 10, s =>
        {
            s.AddHealthChecks().AddAiOpsMonitoringHealthChecks().AddAiOpsMonitoringHealthChecks();
            services?.Invoke(s);
        });

    private static Task<HealthReport> Check(MonitoringHarness h, string tag) =>
        h.Get<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains(tag));

    [Fact]
    public async Task HealthChecks_RegisteredTwice_EachCheckOnceWithTags()
    {
        using var h = Harness();

        var ready = await Check(h, AiOpsHealthTags.Ready);
        var live = await Check(h, AiOpsHealthTags.Live);

        Assert.Equal(["aiops-drift", "aiops-models", "aiops-slo"], ready.Entries.Keys.Order());
        Assert.Equal(["aiops-gpu"], live.Entries.Keys);
    }

    [Fact]
    public async Task ModelsCheck_FallbackProvider_DegradedWithReason()
    {
        using var h = Harness();
        var inner = new FakeRunner(new ModelKey("fraud", "1"), h.Time) { Status = new ModelRunnerStatus(ModelReadiness.Degraded, "CPU", "CUDA unavailable: libcudart.so.12 not found") };
        inner.WithMonitoring(h.Provider);

        var entry = (await Check(h, AiOpsHealthTags.Ready)).Entries["aiops-models"];

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("CUDA unavailable", entry.Description);
    }

    [Fact]
    public async Task DriftCheck_SevereDrift_Unhealthy()
    {
        var drift = new FakeDrift { Severity = DriftSeverity.Severe };
        using var h = Harness(s => s.AddSingleton<IVersionDriftProvider>(drift));
        new FakeRunner(new ModelKey("fraud", "1"), h.Time).WithMonitoring(h.Provider);

        Assert.Equal(HealthStatus.Unhealthy, (await Check(h, AiOpsHealthTags.Ready)).Entries["aiops-drift"].Status);
        drift.Severity = DriftSeverity.Moderate;
        Assert.Equal(HealthStatus.Degraded, (await Check(h, AiOpsHealthTags.Ready)).Entries["aiops-drift"].Status);
    }

    [Fact]
    public async Task SloCheck_FastBurn_UnhealthyThenHealthyWhenWindowPasses()
    {
        using var h = Harness();
        var inner = new FakeRunner(new ModelKey("fraud", "1"), h.Time);
        var runner = inner.WithMonitoring(h.Provider);
        for (var i = 0; i < 50; i++)
        {
            inner.Failure = i % 10 == 0 ? new InvalidOperationException("x") : null;
            try
            {
                await runner.RunAsync(FakeRunner.Request());
            }
            catch (InvalidOperationException)
            {
            }
        }

        var burning = (await Check(h, AiOpsHealthTags.Ready)).Entries["aiops-slo"];
        Assert.Equal(HealthStatus.Unhealthy, burning.Status);         // 10 % errors = 100x the 0.1 % budget
        Assert.Contains("100x", burning.Description);

        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HealthStatus.Healthy, (await Check(h, AiOpsHealthTags.Ready)).Entries["aiops-slo"].Status);
    }

    [Fact]
    public async Task GpuCheck_NoGpu_DegradedNotUnhealthy()
    {
        using var h = Harness();
        await h.Get<IGpuTelemetry>().PollAsync();

        var entry = (await Check(h, AiOpsHealthTags.Live)).Entries["aiops-gpu"];

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("No GPU", entry.Description);
    }

    [Theory]
    [InlineData("Models", "AiOps:Monitoring:Models:0 is 'Fraud!'; expected a model name of 1 to 64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit, without '..'.")]
    [InlineData("SuccessRate", "AiOps:Monitoring:Alerts:SuccessRateThreshold is 1.5; expected a fraction between 0 and 1.")]
    [InlineData("Latency", "AiOps:Monitoring:Alerts:LatencyP1Threshold is 00:00:00.1000000; expected more than AiOps:Monitoring:Alerts:LatencyP95Threshold (00:00:00.5000000).")]
    [InlineData("Gpu", "AiOps:Monitoring:Alerts:GpuIdleThreshold is 0.9; expected less than AiOps:Monitoring:Alerts:GpuHotThreshold (0.85).")]
    [InlineData("Buckets", "AiOps:Monitoring:Prometheus:LatencyBuckets:17 is 0.001; expected increasing positive finite bounds in seconds.")]
    public async Task StartAsync_BadOption_FailsNamingTheSetting(string what, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAiOpsMonitoring(o =>
        {
            switch (what)
            {
                case "Models": o.Models.Add("Fraud!"); break;
                case "SuccessRate": o.Alerts.SuccessRateThreshold = 1.5; break;
                case "Latency": o.Alerts.LatencyP1Threshold = TimeSpan.FromMilliseconds(100); break;
                case "Gpu": o.Alerts.GpuIdleThreshold = 0.9; break;
                case "Buckets": o.Prometheus.LatencyBuckets.Add(0.001); break;
            }
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, ex.Failures);
    }

    [Fact]
    public void BadSettingsFromConfiguration_FailNamingTheKeyAndValue()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Monitoring:Gpu:PollInterval"] = "00:00:00",
            ["AiOps:Monitoring:Alerts:AccuracyBaselines:fraud"] = "1.2",
            ["AiOps:Monitoring:Drift:MinimumSampleCount"] = "0",
            ["AiOps:Monitoring:Drift:Psi:Severe"] = "0.05",
            ["AiOps:Monitoring:Quality:MinimumLabels"] = "-3",
        }).Build();
        var services = new ServiceCollection();
        services.AddAiOpsMonitoring();
        services.AddAiOpsDrift();
        services.AddAiOpsModelQuality();
        services.Configure<AiOpsMonitoringOptions>(config.GetSection(AiOpsMonitoringOptions.SectionName));
        services.Configure<DriftOptions>(config.GetSection(DriftOptions.SectionName));
        services.Configure<ModelQualityOptions>(config.GetSection(ModelQualityOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var monitoring = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AiOpsMonitoringOptions>>().Value);
        var drift = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DriftOptions>>().Value);
        var quality = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ModelQualityOptions>>().Value);

        Assert.Equal(
            ["AiOps:Monitoring:Gpu:PollInterval is 00:00:00; expected a positive duration.",
             "AiOps:Monitoring:Alerts:AccuracyBaselines:fraud is 1.2; expected an accuracy between 0 and 1."],
            monitoring.Failures);
        Assert.Equal(
            ["AiOps:Monitoring:Drift:Psi:Severe is 0.05; expected a finite value of at least AiOps:Monitoring:Drift:Psi:Moderate (0.1).",
             "AiOps:Monitoring:Drift:MinimumSampleCount is 0; expected 1 or more (default 100)."],
            drift.Failures);
        Assert.Equal(["AiOps:Monitoring:Quality:MinimumLabels is -3; expected 1 or more (default 100)."], quality.Failures);
    }

    [Fact]
    public void AddAiOpsMonitoring_CalledTwice_SingleRegistrations()
    {
        var services = new ServiceCollection();
        services.AddAiOpsMonitoring();
        services.AddAiOpsMonitoring(o => o.Models.Add("fraud"));

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Name == "MonitoringHostedService");
        Assert.Single(services, d => d.ServiceType == typeof(IModelRunnerMonitor));
        Assert.Single(services, d => d.ServiceType == typeof(AiOps.Metrics.IVersionMetricsSource));
    }
}
