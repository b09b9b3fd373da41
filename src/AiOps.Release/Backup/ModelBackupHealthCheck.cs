using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Backup;

/// <summary>
/// Healthy while the last backup succeeded recently; Degraded when the last run failed but the last success is within
/// <see cref="ModelBackupOptions.MaxBackupAge"/>; Unhealthy when no backup succeeded within it.
/// </summary>
internal sealed class ModelBackupHealthCheck(ModelBackupState state, IOptions<ModelBackupOptions> options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var maxAge = o.MaxBackupAge ?? o.Interval * 2;
        var s = state.Current;
        var now = timeProvider.GetUtcNow();
        var data = new Dictionary<string, object>
        {
            ["started_at"] = s.StartedAt.ToString("O", CultureInfo.InvariantCulture),
            ["max_backup_age"] = maxAge.ToString("c", CultureInfo.InvariantCulture),
        };
        if (s.LastSuccess is { } success)
        {
            data["last_success"] = success.ToString("O", CultureInfo.InvariantCulture);
        }

        if (s.LastFailure is { } failure)
        {
            data["last_failure"] = failure.ToString("O", CultureInfo.InvariantCulture);
            data["last_error"] = s.LastError ?? string.Empty;
        }

        var lastError = s.LastError is null ? string.Empty : $" Last error: {s.LastError}";
        if (now - (s.LastSuccess ?? s.StartedAt) > maxAge)
        {
            var description = s.LastSuccess is null
                ? $"No model backup has succeeded since start at {s.StartedAt:O}, more than ModelBackupOptions.MaxBackupAge ({maxAge}) ago.{lastError}"
                : $"The last successful model backup was at {s.LastSuccess:O}, more than ModelBackupOptions.MaxBackupAge ({maxAge}) ago.{lastError}";
            return Task.FromResult(HealthCheckResult.Unhealthy(description, data: data));
        }

        if (s.LastFailure is { } lastFailure && (s.LastSuccess is null || lastFailure > s.LastSuccess))
        {
            return Task.FromResult(HealthCheckResult.Degraded($"The model backup at {lastFailure:O} failed.{lastError}", data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy(
            s.LastSuccess is null ? "No model backup has run yet." : $"The last model backup succeeded at {s.LastSuccess:O}.",
            data));
    }
}
