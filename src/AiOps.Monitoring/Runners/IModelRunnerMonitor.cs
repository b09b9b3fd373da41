using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Monitoring.Runners;

/// <summary>
/// Wraps runners and catalogs with monitoring: each call's latency and outcome go to the metrics and the per-version
/// store, and successful calls are handed to every registered
/// <see cref="Observation.IInferenceObserver"/> (drift and quality trackers). Registered by
/// <c>AddAiOpsMonitoring()</c>. A runner's model name becomes an allowed <c>model</c> label value when it is wrapped.
/// </summary>
public interface IModelRunnerMonitor
{
    /// <summary>Returns <paramref name="runner"/> wrapped in a <see cref="MonitoredModelRunner"/> (or itself if it already is one).</summary>
    /// <param name="runner">The runner to monitor.</param>
    MonitoredModelRunner Wrap(IModelRunner runner);

    /// <summary>Returns a catalog whose runners are monitored (each wrapped once and cached).</summary>
    /// <param name="catalog">The catalog to wrap, typically the inference package's.</param>
    IModelRunnerCatalog Wrap(IModelRunnerCatalog catalog);
}

/// <summary>Extension methods that add monitoring to runners by composition.</summary>
public static class ModelRunnerMonitoringExtensions
{
    /// <summary>Wraps <paramref name="runner"/> with monitoring using the services registered by <c>AddAiOpsMonitoring()</c>.</summary>
    /// <param name="runner">The runner to monitor.</param>
    /// <param name="services">The service provider.</param>
    /// <example><code>IModelRunner monitored = onnxRunner.WithMonitoring(app.Services);</code></example>
    public static MonitoredModelRunner WithMonitoring(this IModelRunner runner, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<IModelRunnerMonitor>().Wrap(runner);
    }
}
