using AiOps.Checkpoints;
using AiOps.Release.Internal;
using AiOps.Release.Checkpoints;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the AiOps checkpoint manager.</summary>
public static class CheckpointServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ICheckpointManager"/> over a file-system <see cref="ICheckpointStore"/> (unless another store
    /// is registered), validates <see cref="CheckpointOptions"/> at start-up, and waits for pending saves when the host
    /// stops. Safe to call twice.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddAiOpsCheckpoints(o =&gt;
    /// {
    ///     o.Directory = "checkpoints";
    ///     o.SaveEveryNSteps = 100;
    ///     o.Retention.KeepLatest = 3;
    ///     o.Retention.KeepBest = 1;
    ///     o.Retention.BestMetric = "val_loss";
    /// });
    /// </code>
    /// </example>
    /// <param name="services">The services.</param>
    /// <param name="configure">
    /// Sets the options, after configuration section <c>AiOps:Release:Checkpoints</c> is bound (when the host has
    /// configuration); <see cref="CheckpointOptions.Directory"/> is required, and a relative one is taken against the
    /// host's content root.
    /// </param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddAiOpsCheckpoints(this IServiceCollection services, Action<CheckpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        HostingSurface.BindSection<CheckpointOptions>(services, null, CheckpointOptions.SectionName);
        var options = services.AddOptions<CheckpointOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        HostingSurface.ResolvePaths<CheckpointOptions>(services, static (o, resolve) => o.Directory = resolve(o.Directory)!);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckpointOptions>, CheckpointOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ICheckpointStore, FileCheckpointStore>();
        services.TryAddSingleton<CheckpointManager>();
        services.TryAddSingleton<ICheckpointManager>(sp => sp.GetRequiredService<CheckpointManager>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CheckpointFlushOnStop>());
        return services;
    }
}
