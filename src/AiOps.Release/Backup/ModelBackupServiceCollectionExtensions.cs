using AiOps.Release.Internal;
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
    /// <see cref="HealthCheckName"/> (tags <c>aiops</c>, <c>release</c>, <c>backup</c>; off with <see cref="ModelBackupOptions.EnableHealthCheck"/>); validates <see cref="ModelBackupOptions"/> at
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
    /// <param name="configure">
    /// Sets the options, after configuration section <c>AiOps:Release:Backup</c> is bound (when the host has
    /// configuration); <see cref="ModelBackupOptions.BackupDirectory"/> is required. Relative paths are taken against
    /// the host's content root.
    /// </param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddAiOpsModelBackup(this IServiceCollection services, Action<ModelBackupOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        HostingSurface.BindSection<ModelBackupOptions>(services, null, ModelBackupOptions.SectionName);
        var options = services.AddOptions<ModelBackupOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        HostingSurface.ResolvePaths<ModelBackupOptions>(services, static (o, resolve) =>
        {
            o.BackupDirectory = resolve(o.BackupDirectory)!;
            ResolveAll(o.ModelFiles, resolve);
            ResolveAll(o.LogDirectories, resolve);
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelBackupOptions>, ModelBackupOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ModelBackupState>();
        services.TryAddSingleton<IModelBackup, ModelBackupRunner>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ModelBackupHostedService>());
        services.TryAddSingleton<ModelBackupHealthCheck>();
        HostingSurface.AddHealthCheck<ModelBackupHealthCheck, ModelBackupOptions>(
            services,
            HealthCheckName,
            [AiOps.AiOpsHealthTags.All, AiOps.AiOpsHealthTags.Release, "backup"],
            static o => o.EnableHealthCheck);

        return services;
    }

    private static void ResolveAll(IList<string> paths, Func<string?, string?> resolve)
    {
        for (var i = 0; i < paths.Count; i++)
        {
            paths[i] = resolve(paths[i])!;
        }
    }
}
