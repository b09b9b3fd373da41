using System.Diagnostics.Metrics;
using AiOps.Monitoring.Internal;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Quality;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers model-quality tracking.</summary>
public static class QualityServiceCollectionExtensions
{
    /// <summary>
    /// Adds the model-quality tracker: <see cref="IModelQualityTracker"/> (call <see cref="IModelQualityTracker.RecordLabel"/>
    /// when ground truth arrives), an <see cref="IInferenceObserver"/> recording the predictions of requests with a
    /// <see cref="AiOps.ModelRequest.RequestId"/>, an <see cref="IVersionAccuracyProvider"/> for rollout gates, a hosted
    /// service closing windows on the <see cref="TimeProvider"/> and <c>accuracy_drop</c> alerts through every registered
    /// <c>IAlertPublisher</c>. Works with or without <c>AddAiOpsMonitoring</c>; safe to call twice.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the options (after configuration section <c>AiOps:Monitoring:Quality</c> is bound); validated at start-up.</param>
    public static IServiceCollection AddAiOpsModelQuality(this IServiceCollection services, Action<ModelQualityOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ModelQualityOptions>().ValidateOnStart();

        // Configuration first (AiOps:Monitoring:Quality, when the host has configuration), then the code delegates.
        HostingSurface.BindSection<ModelQualityOptions>(services, null, ModelQualityOptions.SectionName);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(ModelQualityTracker)))
        {
            return services;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelQualityOptions>, ModelQualityOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ModelQualityTracker(
            sp.GetRequiredService<IOptions<ModelQualityOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp,
            sp.GetService<ILogger<ModelQualityTracker>>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IModelQualityTracker>(sp => sp.GetRequiredService<ModelQualityTracker>());
        services.TryAddSingleton<IVersionAccuracyProvider>(sp => sp.GetRequiredService<ModelQualityTracker>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceObserver, ModelQualityTracker>(sp => sp.GetRequiredService<ModelQualityTracker>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ModelQualityTracker>(sp => sp.GetRequiredService<ModelQualityTracker>()));
        return services;
    }
}
