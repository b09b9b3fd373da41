using System.Diagnostics.Metrics;
using AiOps;
using AiOps.Alerts;
using AiOps.Monitoring.Internal;
using AiOps.Metrics;
using AiOps.Monitoring;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Incidents;
using AiOps.Monitoring.Metrics;
using AiOps.Monitoring.Runners;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AiOps monitoring.</summary>
public static class AiOpsMonitoringServiceCollectionExtensions
{
    /// <summary>
    /// Registers monitoring: the Prometheus export of every AiOps meter (<see cref="AiOpsPrometheusExporter"/>, with a
    /// standalone server when <see cref="PrometheusExportOptions.MetricServerPort"/> is set), the runner monitor
    /// (<see cref="IModelRunnerMonitor"/>), the per-version store (<see cref="IVersionMetricsSource"/>), the alert
    /// publisher (<see cref="IAlertPublisher"/>, fanning out to every <see cref="IAlertHandler"/>), the alert rule
    /// evaluator (<see cref="IAlertEvaluator"/>, run in the background), incident grading and log
    /// (<see cref="IIncidentLog"/>), the rule and dashboard generator (<see cref="PrometheusRulesGenerator"/>), GPU telemetry (<see cref="IGpuTelemetry"/>)
    /// and an <see cref="IModelRunnerDecorator"/> that monitors every version the model catalog serves (and so every
    /// keyed <see cref="IModelRunner"/>), whichever order <c>AddAiOpsInference</c> and this are called in. Settings are
    /// bound from configuration section <c>AiOps:Monitoring</c> when the host has configuration, then each
    /// <paramref name="configure"/> is applied. Safe to call more than once. Options are validated when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options.</param>
    /// <returns>A builder for chaining.</returns>
    public static AiOpsMonitoringBuilder AddAiOpsMonitoring(this IServiceCollection services, Action<AiOpsMonitoringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<AiOpsMonitoringOptions>();

        // Configuration first (AiOps:Monitoring, when the host has configuration), then the code delegates.
        HostingSurface.BindSection<AiOpsMonitoringOptions>(services, null, AiOpsMonitoringOptions.SectionName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AiOpsMonitoringOptions>, AiOpsMonitoringOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricLabelPolicy>();
        services.TryAddSingleton(sp => new AiOpsPrometheusExporter(
            sp.GetRequiredService<IOptions<AiOpsMonitoringOptions>>(),
            sp.GetRequiredService<MetricLabelPolicy>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<AiOpsPrometheusExporter>>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => new PrometheusRulesGenerator(
            sp.GetRequiredService<IOptions<AiOpsMonitoringOptions>>(),
            sp.GetRequiredService<MetricLabelPolicy>(),
            sp.GetService<IOptions<AiOps.Monitoring.Drift.DriftOptions>>()));
        services.TryAddSingleton<MonitoringMetrics>();
        services.TryAddSingleton<VersionMetricsStore>();
        services.TryAddSingleton<IVersionMetricsSource>(sp => sp.GetRequiredService<VersionMetricsStore>());
        services.TryAddSingleton<MonitoringRuntime>();
        services.TryAddSingleton<ModelRunnerMonitor>();
        services.TryAddSingleton<IModelRunnerMonitor>(sp => sp.GetRequiredService<ModelRunnerMonitor>());
        services.TryAddSingleton<IAlertPublisher, AlertPublisher>();
        services.TryAddSingleton<IncidentGrader>();
        services.TryAddSingleton<IncidentLog>();
        services.TryAddSingleton<IIncidentLog>(sp => sp.GetRequiredService<IncidentLog>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertHandler, IncidentLogAlertHandler>());
        services.TryAddSingleton<GpuTelemetrySourceChain>();
        services.TryAddSingleton<IGpuTelemetrySource>(sp => sp.GetRequiredService<GpuTelemetrySourceChain>());
        services.TryAddSingleton<GpuTelemetry>();
        services.TryAddSingleton<IGpuTelemetry>(sp => sp.GetRequiredService<GpuTelemetry>());
        services.TryAddSingleton<AlertEvaluator>();
        services.TryAddSingleton<IAlertEvaluator>(sp => sp.GetRequiredService<AlertEvaluator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MonitoringHostedService>());

        // Every runner the catalog serves (and every keyed IModelRunner) is monitored, whatever order the packages are added in.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelRunnerDecorator, MonitoringRunnerDecorator>());
        return new AiOpsMonitoringBuilder(services);
    }
}
