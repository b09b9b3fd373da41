using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AiOps.Inference.Hosting;

/// <summary>Adds the per-model readiness checks once the registered models are known (when health checks are first resolved).</summary>
internal sealed class InferenceHealthCheckRegistrar(IEnumerable<OnnxModelRegistration> registrations, IServiceProvider services) : IConfigureOptions<HealthCheckServiceOptions>
{
    public void Configure(HealthCheckServiceOptions options)
    {
        if (!registrations.Any())
        {
            return;
        }

        var catalog = (OnnxModelCatalog)services.GetService(typeof(OnnxModelCatalog))!;
        foreach (var runner in catalog.Runners)
        {
            var name = $"aiops-model-{runner.Key.Model}-{runner.Key.Version}";
            if (options.Registrations.Any(r => r.Name == name))
            {
                continue;
            }

            options.Registrations.Add(new HealthCheckRegistration(name, new ModelReadinessHealthCheck(runner), HealthStatus.Unhealthy, [AiOpsHealthTags.Ready, AiOpsHealthTags.All, AiOpsHealthTags.Inference, "model"]));
        }

        if (!options.Registrations.Any(r => r.Name == "aiops-inference"))
        {
            options.Registrations.Add(new HealthCheckRegistration("aiops-inference", new InferenceLivenessHealthCheck(catalog), HealthStatus.Unhealthy, [AiOpsHealthTags.Live, AiOpsHealthTags.All, AiOpsHealthTags.Inference]));
        }
    }
}

/// <summary>Readiness of one model version.</summary>
internal sealed class ModelReadinessHealthCheck(OnnxModelRunner runner) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = runner.Status;
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["model"] = runner.Key.Model.Value,
            ["version"] = runner.Key.Version.Value,
            ["readiness"] = status.Readiness.ToString(),
            ["path"] = runner.ModelPath,
            ["pending_calls"] = runner.PendingCalls,
        };
        if (status.ExecutionProvider is { } provider)
        {
            data["execution_provider"] = provider;
        }

        if (runner.Sha256 is { } sha)
        {
            data["sha256"] = sha;
        }

        var result = status.Readiness switch
        {
            ModelReadiness.Ready => HealthCheckResult.Healthy($"{runner.Key} is ready on {status.ExecutionProvider}.", data),
            ModelReadiness.Degraded => HealthCheckResult.Degraded($"{runner.Key} is serving but degraded: {status.Reason}", data: data),
            ModelReadiness.NotReady => new HealthCheckResult(context.Registration.FailureStatus, $"{runner.Key} is not ready: {status.Reason}", data: data),
            _ => new HealthCheckResult(context.Registration.FailureStatus, $"{runner.Key} cannot serve: {status.Reason}", data: data),
        };
        return Task.FromResult(result);
    }
}

/// <summary>Liveness: the inference service is up; lists each version's readiness (a failed model does not make the process unlive).</summary>
internal sealed class InferenceLivenessHealthCheck(OnnxModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var runner in catalog.Runners)
        {
            data[runner.Key.ToString()] = runner.Status.Readiness.ToString();
        }

        return Task.FromResult(HealthCheckResult.Healthy($"AiOps inference is live with {data.Count} model version(s).", data));
    }
}
