using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AiOps.Monitoring.Metrics;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.Logging;

namespace AiOps.Monitoring.Runners;

/// <summary>The services a monitored runner records into.</summary>
internal sealed class MonitoringRuntime(
    TimeProvider time,
    MonitoringMetrics metrics,
    VersionMetricsStore store,
    IEnumerable<IInferenceObserver> observers,
    ILogger<MonitoredModelRunner> logger)
{
    public TimeProvider Time { get; } = time;

    public MonitoringMetrics Metrics { get; } = metrics;

    public VersionMetricsStore Store { get; } = store;

    public IInferenceObserver[] Observers { get; } = [.. observers];

    public ILogger Logger { get; } = logger;
}

/// <summary>Default <see cref="IModelRunnerMonitor"/>.</summary>
internal sealed class ModelRunnerMonitor(MonitoringRuntime runtime) : IModelRunnerMonitor
{
    public MonitoredModelRunner Wrap(IModelRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return runner as MonitoredModelRunner ?? new MonitoredModelRunner(runner, runtime);
    }

    public IModelRunnerCatalog Wrap(IModelRunnerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog as MonitoredModelRunnerCatalog ?? new MonitoredModelRunnerCatalog(catalog, this);
    }
}

/// <summary>A catalog whose runners are wrapped with monitoring once, and re-wrapped if the inner catalog replaces a runner.</summary>
internal sealed class MonitoredModelRunnerCatalog(IModelRunnerCatalog inner, ModelRunnerMonitor monitor) : IModelRunnerCatalog
{
    private readonly ConcurrentDictionary<ModelKey, MonitoredModelRunner> _wrapped = new();

    public IModelRunnerCatalog Inner => inner;

    public IReadOnlyCollection<ModelKey> Keys => inner.Keys;

    public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner)
    {
        if (!inner.TryGetRunner(key, out var innerRunner))
        {
            runner = null;
            return false;
        }

        if (innerRunner is MonitoredModelRunner alreadyMonitored)
        {
            runner = alreadyMonitored;
            return true;
        }

        if (!_wrapped.TryGetValue(key, out var monitored) || !ReferenceEquals(monitored.InnerRunner, innerRunner))
        {
            monitored = monitor.Wrap(innerRunner);
            _wrapped[key] = monitored;
        }

        runner = monitored;
        return true;
    }
}
