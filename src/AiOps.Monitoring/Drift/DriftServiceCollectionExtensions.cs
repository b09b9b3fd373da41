using AiOps;
using AiOps.Monitoring.Internal;
using System.Diagnostics.Metrics;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chains drift settings after <see cref="DriftServiceCollectionExtensions.AddAiOpsDrift"/>.</summary>
public sealed class AiOpsDriftBuilder
{
    internal AiOpsDriftBuilder(IServiceCollection services) => Services = services;

    /// <summary>The name of this feature's options ("drift").</summary>
    public string Name { get; } = "drift";

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Registers the reference profile of one model version.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="profile">The profile.</param>
    public AiOpsDriftBuilder AddProfile(ModelKey key, ReferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Services.Configure<DriftOptions>(o => o.Profiles[key] = profile);
        return this;
    }

    /// <summary>Registers the reference profile every version of <paramref name="model"/> without its own profile uses.</summary>
    /// <param name="model">The model.</param>
    /// <param name="profile">The profile.</param>
    public AiOpsDriftBuilder AddProfile(ModelId model, ReferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Services.Configure<DriftOptions>(o => o.ModelProfiles[model] = profile);
        return this;
    }
}

/// <summary>Registers drift detection.</summary>
public static class DriftServiceCollectionExtensions
{
    /// <summary>
    /// Adds the streaming drift monitor: <see cref="IDriftMonitor"/>, an <see cref="IInferenceObserver"/> (the monitored
    /// runner of <c>AddAiOpsMonitoring</c> feeds it; without it call <see cref="IDriftMonitor.Observe(ModelKey, ModelRequest)"/>), an
    /// <see cref="IVersionDriftProvider"/> for rollout gates, a hosted service closing windows on the
    /// <see cref="TimeProvider"/>, the <c>aiops-drift-monitor</c> health check (tags <c>aiops</c>, <c>monitoring</c>, <c>drift</c>; Degraded at <see cref="DriftOptions.HealthDegradedSeverity"/>; off with <see cref="DriftOptions.EnableHealthCheck"/>) and the <c>aiops.drift.*</c> instruments.
    /// Works with or without <c>AddAiOpsMonitoring</c>; alerts go to every registered <c>IAlertPublisher</c> and results to
    /// every registered <see cref="AiOps.Drift.IDriftResultSink"/>. Safe to call twice. Model quality is added apart by
    /// <c>AddAiOpsModelQuality</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the options (after configuration section <c>AiOps:Monitoring:Drift</c> is bound); validated at start-up.</param>
    public static AiOpsDriftBuilder AddAiOpsDrift(this IServiceCollection services, Action<DriftOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new AiOpsDriftBuilder(services);
        services.AddOptions<DriftOptions>().ValidateOnStart();

        // Configuration first (AiOps:Monitoring:Drift, when the host has configuration), then the code delegates.
        HostingSurface.BindSection<DriftOptions>(services, null, DriftOptions.SectionName);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(DriftMonitor)))
        {
            return builder;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DriftOptions>, DriftOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DriftMonitor(
            sp.GetRequiredService<IOptions<DriftOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp,
            sp.GetService<ILogger<DriftMonitor>>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IDriftMonitor>(sp => sp.GetRequiredService<DriftMonitor>());
        services.TryAddSingleton<IVersionDriftProvider>(sp => sp.GetRequiredService<DriftMonitor>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceObserver, DriftMonitor>(sp => sp.GetRequiredService<DriftMonitor>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DriftMonitor>(sp => sp.GetRequiredService<DriftMonitor>()));
        HostingSurface.AddHealthCheck<DriftHealthCheck, DriftOptions>(
            services,
            DriftHealthCheck.Name,
            [AiOpsHealthTags.All, AiOpsHealthTags.Monitoring, "drift"],
            static o => o.EnableHealthCheck);
        return builder;
    }

    /// <summary>
    /// Adds <see cref="MultivariateDriftMonitor"/> (one PCA reconstruction drift score per watched model version, fed by
    /// monitored runners as an <see cref="IInferenceObserver"/>); watch a version with
    /// <see cref="MultivariateDriftMonitor.SetModel"/> and close windows with <see cref="MultivariateDriftMonitor.CloseWindows"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    public static IServiceCollection AddAiOpsMultivariateDrift(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => new MultivariateDriftMonitor(sp.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceObserver, MultivariateDriftMonitor>(sp => sp.GetRequiredService<MultivariateDriftMonitor>()));
        return services;
    }
}
