using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Monitoring;

/// <summary>Returned by <c>AddAiOpsMonitoring()</c> for chaining.</summary>
public sealed class AiOpsMonitoringBuilder
{
    internal AiOpsMonitoringBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }
}
