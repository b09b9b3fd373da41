using AiOps;
using AiOps.Monitoring.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the AiOps monitoring health checks.</summary>
public static class AiOpsMonitoringHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds <c>aiops-models</c> (every monitored version ready; degraded when one serves on a fallback provider; unhealthy
    /// when one cannot serve), <c>aiops-drift</c> (degraded on moderate, unhealthy on severe drift), <c>aiops-slo</c>
    /// (error-budget burn rate of the success-rate SLO over the alert window) — tagged <see cref="AiOpsHealthTags.Ready"/> —
    /// and <c>aiops-gpu</c> (GPU presence, degraded when none is found; tagged <see cref="AiOpsHealthTags.Live"/>).
    /// Map <c>/health/ready</c> with a predicate on the <c>ready</c> tag and <c>/health/live</c> on <c>live</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddAiOpsMonitoringHealthChecks(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOnce<ModelReadinessHealthCheck>(builder, "aiops-models", [AiOpsHealthTags.Ready, AiOpsHealthTags.All, AiOpsHealthTags.Monitoring]);
        AddOnce<DriftHealthCheck>(builder, "aiops-drift", [AiOpsHealthTags.Ready, AiOpsHealthTags.All, AiOpsHealthTags.Monitoring]);
        AddOnce<SloHealthCheck>(builder, "aiops-slo", [AiOpsHealthTags.Ready, AiOpsHealthTags.All, AiOpsHealthTags.Monitoring]);
        AddOnce<GpuHealthCheck>(builder, "aiops-gpu", [AiOpsHealthTags.Live, AiOpsHealthTags.All, AiOpsHealthTags.Monitoring]);
        return builder;
    }

    private static void AddOnce<T>(IHealthChecksBuilder builder, string name, string[] tags)
        where T : class, IHealthCheck
    {
        builder.Services.Configure<HealthCheckServiceOptions>(o =>
        {
            if (!o.Registrations.Any(r => r.Name == name))
            {
                o.Registrations.Add(new HealthCheckRegistration(name, sp => ActivatorUtilities.CreateInstance<T>(sp), null, tags));
            }
        });
    }
}
