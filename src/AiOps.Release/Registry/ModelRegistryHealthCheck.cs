using AiOps.Registry;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiOps.Release.Registry;

/// <summary>
/// Degraded while any file of the file registry cannot be used (each named with its reason); Healthy otherwise. The
/// registry is scanned on each check, so a repaired file clears the report.
/// </summary>
internal sealed class ModelRegistryHealthCheck(IModelRegistry registry) : IHealthCheck
{
    /// <summary>The name of the check.</summary>
    public const string Name = "aiops-release-registry";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (registry is not FileModelRegistry files)
        {
            return HealthCheckResult.Healthy("The model registry is not file based; nothing to check.");
        }

        IReadOnlyList<ModelRegistryCorruptException> problems;
        try
        {
            problems = await files.ScanAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Degraded($"The model registry '{files.Root}' cannot be read: {ex.Message}", ex);
        }

        if (problems.Count == 0)
        {
            return HealthCheckResult.Healthy($"Every file of the model registry '{files.Root}' is readable.");
        }

        var data = problems.ToDictionary(p => p.FilePath, p => (object)p.Message, StringComparer.Ordinal);
        return HealthCheckResult.Degraded(
            $"{problems.Count} file(s) of the model registry cannot be used: " + string.Join(" ", problems.Select(p => p.Message)),
            data: data);
    }
}
