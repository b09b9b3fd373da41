using System.Diagnostics.Metrics;
using AiOps;
using AiOps.Alerts;
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
    /// (<see cref="IIncidentLog"/>), the rule and dashboard generator (<see cref="PrometheusRulesGenerator"/>) and GPU telemetry (<see cref="IGpuTelemetry"/>). Safe to call more than once; each
    /// <paramref name="configure"/> is applied. Options are validated when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options.</param>
    /// <returns>A builder for chaining.</returns>
    public static AiOpsMonitoringBuilder AddAiOpsMonitoring(this IServiceCollection services, Action<AiOpsMonitoringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<AiOpsMonitoringOptions>();
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
            sp.GetRequiredService<MetricLabelPolicy>()));
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
        return new AiOpsMonitoringBuilder(services);
    }

    /// <summary>
    /// Replaces the registered <see cref="IModelRunnerCatalog"/> (e.g. the inference package's) with one whose runners
    /// are monitored, so every consumer of the catalog (the canary router, the host) gets monitoring by composition.
    /// Call it after the catalog is registered. Calling it twice wraps once.
    /// </summary>
    /// <param name="builder">The monitoring builder.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">No <see cref="IModelRunnerCatalog"/> is registered yet.</exception>
    public static AiOpsMonitoringBuilder MonitorModelCatalog(this AiOpsMonitoringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var index = -1;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IModelRunnerCatalog) && !services[i].IsKeyedService)
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            throw new InvalidOperationException(
                "MonitorModelCatalog() found no IModelRunnerCatalog registration; register the catalog first (e.g. AddAiOpsInference().AddOnnxModel(…)), then call MonitorModelCatalog().");
        }

        var original = services[index];
        if (original.ImplementationFactory?.Target is MonitoredCatalogFactory)
        {
            return builder;
        }

        var factory = new MonitoredCatalogFactory(original);
        services[index] = ServiceDescriptor.Describe(typeof(IModelRunnerCatalog), factory.Create, original.Lifetime);
        return builder;
    }

    private sealed class MonitoredCatalogFactory(ServiceDescriptor original)
    {
        public IModelRunnerCatalog Create(IServiceProvider sp)
        {
            IModelRunnerCatalog inner;
            if (original.ImplementationInstance is IModelRunnerCatalog instance)
            {
                inner = instance;
            }
            else if (original.ImplementationFactory is not null)
            {
                inner = (IModelRunnerCatalog)original.ImplementationFactory(sp);
            }
            else
            {
                inner = (IModelRunnerCatalog)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!);
            }

            return sp.GetRequiredService<IModelRunnerMonitor>().Wrap(inner);
        }
    }
}
