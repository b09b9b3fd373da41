namespace AiOps.Monitoring.Runners;

/// <summary>Monitors every version the catalog serves (registered by <c>AddAiOpsMonitoring()</c>).</summary>
internal sealed class MonitoringRunnerDecorator(IModelRunnerMonitor monitor) : IModelRunnerDecorator
{
    public int Order => ModelRunnerDecoratorOrder.Monitoring;

    public IModelRunner Decorate(IModelRunner runner) => monitor.Wrap(runner);
}
