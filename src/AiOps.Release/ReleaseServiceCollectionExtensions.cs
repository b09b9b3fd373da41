using System.Diagnostics.Metrics;
using AiOps;
using AiOps.Alerts;
using AiOps.Release.Internal;
using AiOps.Registry;
using AiOps.Release;
using AiOps.Release.Api;
using AiOps.Release.Canary;
using AiOps.Release.Registry;
using AiOps.Release.Resilience;
using AiOps.Release.Rollout;
using AiOps.Release.Shadow;
using AiOps.Release.State;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AiOps.Release: keyed model clients with canary routing, the rollout controller, state stores and the registry.</summary>
public static class AiOpsReleaseServiceCollectionExtensions
{
    /// <summary>
    /// Adds the release services: the rollout manager and its background controller, the P1 alert handler, the shadow
    /// dispatcher, the health check <c>aiops-release</c> (tags <c>aiops</c>, <c>release</c>, <c>ready</c>; off with <see cref="AiOpsReleaseOptions.EnableHealthCheck"/>), the <c>AiOps.Release</c> meter and (unless replaced) the file
    /// state store. The host must register an <see cref="IModelRunnerCatalog"/> (AiOps.Inference does) and, for the
    /// gates, an <c>IVersionMetricsSource</c> (AiOps.Monitoring does). Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the shared options.</param>
    /// <returns>A builder to add models and choose stores.</returns>
    public static AiOpsReleaseBuilder AddAiOpsRelease(this IServiceCollection services, Action<AiOpsReleaseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<AiOpsReleaseOptions>();

        // Configuration first (AiOps:Release, when the host has configuration), then the code delegates.
        HostingSurface.BindSection<AiOpsReleaseOptions>(services, null, AiOpsReleaseOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(ReleaseMarker)))
        {
            return new AiOpsReleaseBuilder(services);
        }

        services.AddSingleton<ReleaseMarker>();
        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        // The framework's own logging registration (TryAdd throughout): a host's AddLogging(), before or after, configures
        // the same factory, and a host-registered ILoggerFactory replaces it. Never a NullLoggerFactory that would win.
        services.AddLogging();
        HostingSurface.ResolvePaths<AiOpsReleaseOptions>(services, static (o, resolve) => o.StateDirectory = resolve(o.StateDirectory)!);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AiOpsReleaseOptions>, AiOpsReleaseOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelReleaseOptions>, ModelReleaseOptionsValidator>());
        HostingSurface.BindSection<RolloutApiOptions>(services, null, RolloutApiOptions.SectionName);
        services.AddOptions<RolloutApiOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RolloutApiOptions>, RolloutApiOptionsValidator>());
        services.TryAddSingleton(sp => new ReleaseMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IRolloutStateStore>(sp => new FileRolloutStateStore(
            sp.GetRequiredService<IOptions<AiOpsReleaseOptions>>().Value.StateDirectory,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<AiOpsReleaseOptions>>().Value.OwnerOnlyStateFiles));
        services.TryAddSingleton<RolloutStateMonitor>();
        services.TryAddSingleton<AttemptLedger>();
        services.TryAddSingleton<ShadowDispatcher>();
        services.TryAddSingleton<IShadowComparisonLog>(sp => sp.GetRequiredService<ShadowDispatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<ShadowDispatcher>());
        services.TryAddSingleton<RolloutManager>();
        services.TryAddSingleton<IRolloutManager>(sp => sp.GetRequiredService<RolloutManager>());
        services.AddHostedService<RolloutControllerService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertHandler, ReleaseAlertHandler>());
        HostingSurface.AddHealthCheck<ReleaseHealthCheck, AiOpsReleaseOptions>(
            services,
            ReleaseHealthCheck.Name,
            [AiOpsHealthTags.All, AiOpsHealthTags.Release, AiOpsHealthTags.Ready],
            static o => o.EnableHealthCheck);
        return new AiOpsReleaseBuilder(services);
    }

    /// <summary>
    /// Adds a model to release: its options (named by the model), its resilience pipelines, and a keyed
    /// <see cref="IModelClient"/> (<c>[FromKeyedServices("fraud")] IModelClient fraud</c>). Calling it again for the same
    /// model only adds configuration.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The model name (see <see cref="ModelId"/> for the allowed characters).</param>
    /// <param name="configure">Configures steps, hold times, gates, resilience and shadow.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The model name is not valid.</exception>
    public static AiOpsReleaseBuilder AddModel(this AiOpsReleaseBuilder builder, string name, Action<ModelReleaseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var model = new ModelId(name);
        var services = builder.Services;
        var options = services.AddOptions<ModelReleaseOptions>(name);

        // Configuration first (AiOps:Release:Models:<name>, when the host has configuration), then the code delegates.
        HostingSurface.BindSection<ModelReleaseOptions>(services, name, $"{ModelReleaseOptions.SectionPrefix}:{name}");
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(ReleaseModelRegistration) && d.ImplementationInstance is ReleaseModelRegistration r && r.Model == model))
        {
            return builder;
        }

        options.ValidateOnStart();
        services.AddSingleton(new ReleaseModelRegistration(model));
        ReleasePipelines.Register(services, model);
        services.AddKeyedSingleton<IModelClient>(name, (sp, _) => ActivatorUtilities.CreateInstance<CanaryModelClient>(sp, model));
        return builder;
    }

    /// <summary>
    /// Configures the rollout operator HTTP API (<c>app.MapAiOpsRolloutApi()</c>) in code, after configuration section
    /// <c>AiOps:Release:Api</c>: the authorization policy, loopback access without one, the body size limit.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static AiOpsReleaseBuilder ConfigureRolloutApi(this AiOpsReleaseBuilder builder, Action<RolloutApiOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Sends a JSON webhook (<see cref="RolloutNotification"/>) to <paramref name="url"/> for every rollout decision that
    /// changes something: <c>pre-rollout</c>, <c>step</c>, <c>promotion</c>, <c>rollback</c> (also aborts and undos),
    /// <c>pause</c>, <c>resume</c>, <c>approval</c>, <c>reseed</c>. Delivered in the background with retries through
    /// Polly; never delays a decision. Call it again for more URLs.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="url">An absolute http or https URL.</param>
    /// <param name="configure">Retries, attempt timeout and queue size.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The URL is not an absolute http(s) URL, or a setting is out of range.</exception>
    public static AiOpsReleaseBuilder AddRolloutWebhook(this AiOpsReleaseBuilder builder, Uri url, Action<RolloutWebhookOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Expected an absolute http or https URL for the rollout webhook; got '{url}'.", nameof(url));
        }

        var o = new RolloutWebhookOptions { Url = url };
        configure?.Invoke(o);
        if (o.MaxRetryAttempts is < 0 or > 10 || o.RetryDelay < TimeSpan.Zero || o.AttemptTimeout <= TimeSpan.Zero || o.QueueCapacity < 1 || o.Url is null)
        {
            throw new ArgumentException(
                $"Invalid rollout webhook settings (MaxRetryAttempts {o.MaxRetryAttempts}, RetryDelay {o.RetryDelay}, AttemptTimeout {o.AttemptTimeout}, QueueCapacity {o.QueueCapacity}); expected MaxRetryAttempts 0 to 10, RetryDelay 0 or more, a positive AttemptTimeout, QueueCapacity 1 or more and a Url.",
                nameof(configure));
        }

        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp => ActivatorUtilities.CreateInstance<RolloutWebhookNotifier>(sp, o));
        return builder;
    }

    /// <summary>Keeps rollout state in files under <paramref name="directory"/> (the embedded default; one replica, or replicas sharing a volume). A relative path is taken against the host's content root.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="directory">The folder.</param>
    /// <returns>The builder.</returns>
    public static AiOpsReleaseBuilder UseFileStateStore(this AiOpsReleaseBuilder builder, string directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        builder.Services.Configure<AiOpsReleaseOptions>(o => o.StateDirectory = directory);
        builder.Services.Replace(ServiceDescriptor.Singleton<IRolloutStateStore>(sp => new FileRolloutStateStore(HostingSurface.ResolvePath(sp, directory)!, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<AiOpsReleaseOptions>>().Value.OwnerOnlyStateFiles)));
        return builder;
    }

    /// <summary>
    /// Keeps rollout state in Redis so several replicas share it: routers see a change within a second (pub/sub, with
    /// polling as fallback) and one controller acts at a time (a lease).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="connectionString">A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c>.</param>
    /// <param name="keyPrefix">The prefix of every key and channel. Default: <c>aiops:release:</c>.</param>
    /// <returns>The builder.</returns>
    public static AiOpsReleaseBuilder UseRedisStateStore(this AiOpsReleaseBuilder builder, string connectionString, string keyPrefix = "aiops:release:")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyPrefix);
        builder.Services.Replace(ServiceDescriptor.Singleton<IRolloutStateStore>(sp =>
            new RedisRolloutStateStore(connectionString, sp.GetRequiredService<ILogger<RedisRolloutStateStore>>(), keyPrefix)));
        return builder;
    }

    /// <summary>
    /// Keeps the model registry (versions, hashes, aliases) in files under <paramref name="directory"/>. A relative path is
    /// taken against the host's content root. Adds the health check <c>aiops-release-registry</c> (tags <c>aiops</c>,
    /// <c>release</c>, <c>ready</c>, <c>registry</c>; off with <see cref="AiOpsReleaseOptions.EnableHealthCheck"/>): Degraded
    /// while a registry file cannot be used, naming it.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="directory">The folder.</param>
    /// <param name="ownerOnlyPermissions">
    /// On Unix, write the registry's files owner-only (0600) in owner-only folders (0700, those it creates). Default
    /// <see langword="true"/>; <see langword="false"/> keeps the process's umask.
    /// </param>
    /// <returns>The builder.</returns>
    public static AiOpsReleaseBuilder UseFileRegistry(this AiOpsReleaseBuilder builder, string directory, bool ownerOnlyPermissions = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        builder.Services.Replace(ServiceDescriptor.Singleton<IModelRegistry>(sp =>
            new FileModelRegistry(HostingSurface.ResolvePath(sp, directory)!, sp.GetService<ILogger<FileModelRegistry>>(), ownerOnlyPermissions)));
        HostingSurface.AddHealthCheck<ModelRegistryHealthCheck, AiOpsReleaseOptions>(
            builder.Services,
            ModelRegistryHealthCheck.Name,
            [AiOps.AiOpsHealthTags.All, AiOps.AiOpsHealthTags.Release, AiOps.AiOpsHealthTags.Ready, "registry"],
            static o => o.EnableHealthCheck);
        return builder;
    }

    private sealed class ReleaseMarker;
}
