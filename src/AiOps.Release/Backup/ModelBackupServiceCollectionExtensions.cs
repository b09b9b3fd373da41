using AiOps.Release.Backup;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the AiOps model backup job.</summary>
public static class ModelBackupServiceCollectionExtensions
{
    /// <summary>The name of the backup health check.</summary>
    public const string HealthCheckName = "aiops-model-backup";

    /// <summary>
    /// Registers <see cref="IModelBackup"/>, a hosted service that runs it on a schedule, and a health check named
    /// <see cref="HealthCheckName"/> (tags <c>aiops</c>, <c>backup</c>); validates <see cref="ModelBackupOptions"/> at
    /// start-up. Safe to call twice.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddAiOpsModelBackup(o =&gt;
    /// {
    ///     o.BackupDirectory = "/backups";
    ///     o.ModelFiles.Add("/models/model.onnx");     // backed up as /backups/model_backup_20240801.onnx
    ///     o.LogDirectories.Add("/var/log/my-service"); // *.log older than 7 days deleted
    /// });
    /// </code>
    /// </example>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="ModelBackupOptions.BackupDirectory"/> is required.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddAiOpsModelBackup(this IServiceCollection services, Action<ModelBackupOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ModelBackupOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelBackupOptions>, ModelBackupOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ModelBackupState>();
        services.TryAddSingleton<IModelBackup, ModelBackupRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ModelBackupHostedService>());
        if (!services.Any(d => d.ServiceType == typeof(ModelBackupHealthCheck)))
        {
            services.AddSingleton<ModelBackupHealthCheck>();
            services.AddHealthChecks().AddCheck<ModelBackupHealthCheck>(HealthCheckName, tags: ["aiops", "backup"]);
        }

        return services;
    }
}
