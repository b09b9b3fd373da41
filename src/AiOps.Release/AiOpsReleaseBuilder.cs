using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Release;

/// <summary>Chains the configuration of AiOps.Release after <c>AddAiOpsRelease</c>.</summary>
public sealed class AiOpsReleaseBuilder
{
    internal AiOpsReleaseBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }
}
