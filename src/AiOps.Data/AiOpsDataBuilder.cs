using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Data;

/// <summary>Returned by <c>AddAiOpsData</c> for chaining.</summary>
/// <param name="services">The services.</param>
public sealed class AiOpsDataBuilder(IServiceCollection services)
{
    /// <summary>The services.</summary>
    public IServiceCollection Services { get; } = services;
}
