using AiOps;
using AiOps.Inference.Internal;
using AiOps.Inference;
using AiOps.Inference.Hosting;
using AiOps.Inference.Sessions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chains model registrations after <see cref="AiOpsInferenceServiceCollectionExtensions.AddAiOpsInference"/>.</summary>
public sealed class AiOpsInferenceBuilder
{
    internal AiOpsInferenceBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers the ONNX model <paramref name="name"/>: every declared version is loaded side by side at host start
    /// and listed in <see cref="IModelRunnerCatalog"/>; the default version is also registered as keyed
    /// <see cref="IModelRunner"/> (decorated like the catalog's runners) and <see cref="OnnxModelRunner"/> under
    /// <paramref name="name"/>. Settings come from configuration section <c>AiOps:Models:&lt;name&gt;</c> when present,
    /// then from <paramref name="configure"/>; relative paths are taken against the host's content root.
    /// </summary>
    /// <param name="name">The model name (a <see cref="ModelId"/>): the options name and the DI key.</param>
    /// <param name="configure">Sets the versions and runner settings.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid model name.</exception>
    public AiOpsInferenceBuilder AddOnnxModel(string name, Action<OnnxModelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Register(name).Configure(configure);
        return this;
    }

    /// <summary>
    /// Registers the ONNX model <paramref name="name"/> with its settings bound from configuration section
    /// <c>AiOps:Models:&lt;name&gt;</c> of the host's configuration (every overload binds it when present; this one adds
    /// nothing in code). Relative paths are taken against the host's content root.
    /// </summary>
    /// <param name="name">The model name: the options name, the DI key and the configuration section.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid model name.</exception>
    public AiOpsInferenceBuilder AddOnnxModel(string name)
    {
        Register(name);
        return this;
    }

    /// <summary>Registers the ONNX model <paramref name="name"/> with its settings bound from <paramref name="configuration"/>.</summary>
    /// <param name="name">The model name: the options name and the DI key.</param>
    /// <param name="configuration">The section holding <see cref="OnnxModelOptions"/> (e.g. <c>Path</c>, <c>Versions</c>, <c>Batching</c>).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid model name.</exception>
    public AiOpsInferenceBuilder AddOnnxModel(string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Register(name).Bind(configuration);
        return this;
    }

    private OptionsBuilder<OnnxModelOptions> Register(string name)
    {
        if (!ModelId.IsValid(name, out var error))
        {
            throw new ArgumentException(error, nameof(name));
        }

        var known = Services.Any(d => d.ServiceType == typeof(OnnxModelRegistration) && d.ImplementationInstance is OnnxModelRegistration r && r.Name == name);
        if (!known)
        {
            Services.AddSingleton(new OnnxModelRegistration(name));

            // Both keyed services resolve through the catalog: IModelRunner is the decorated runner (monitoring and every
            // other IModelRunnerDecorator applied), OnnxModelRunner the concrete one for its ONNX-specific members.
            Services.AddKeyedSingleton<OnnxModelRunner>(name, static (sp, key) => sp.GetRequiredService<OnnxModelCatalog>().GetDefault((string)key!));
            Services.AddKeyedSingleton<IModelRunner>(name, static (sp, key) =>
            {
                var runnerKey = sp.GetRequiredKeyedService<OnnxModelRunner>(key).Key;
                return sp.GetRequiredService<IModelRunnerCatalog>().TryGetRunner(runnerKey, out var runner)
                    ? runner
                    : throw new ModelNotFoundException($"The registered IModelRunnerCatalog does not serve {runnerKey}, the default version of model '{key}'; a catalog that replaces the inference package's must serve its versions.") { Key = runnerKey };
            });

            // Configuration first (AiOps:Models:<name>, when the host has configuration), then the code delegates.
            HostingSurface.BindSection<OnnxModelOptions>(Services, name, $"{OnnxModelOptions.SectionPrefix}:{name}");
        }

        return Services.AddOptions<OnnxModelOptions>(name).ValidateOnStart();
    }
}

/// <summary>Registers AiOps ONNX inference.</summary>
public static class AiOpsInferenceServiceCollectionExtensions
{
    /// <summary>
    /// Adds the ONNX model catalog (<see cref="IModelRunnerCatalog"/>: every version with every registered
    /// <see cref="IModelRunnerDecorator"/> applied, whatever order the packages are added in), the start-up loader (an
    /// <see cref="IHostedService"/> that loads and warms every registered model) and option validation. Safe to call
    /// more than once. Register models on the returned builder.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to register models with.</returns>
    public static AiOpsInferenceBuilder AddAiOpsInference(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ExecutionProviderReporter>();
        services.TryAddSingleton(sp => new OnnxModelCatalog(
            sp.GetServices<OnnxModelRegistration>(),
            sp.GetRequiredService<IOptionsMonitor<OnnxModelOptions>>(),
            sp.GetRequiredService<ExecutionProviderReporter>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IModelRunnerCatalog>(static sp => new DecoratedModelRunnerCatalog(
            sp.GetRequiredService<OnnxModelCatalog>(),
            LazyDecorators(sp)));
        HostingSurface.ResolvePaths<OnnxModelOptions>(services, static (o, resolve) =>
        {
            o.Path = resolve(o.Path);
            o.OptimizedModelFilePath = resolve(o.OptimizedModelFilePath);
            foreach (var v in o.Versions)
            {
                if (v is not null)
                {
                    v.Path = resolve(v.Path);
                }
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, OnnxModelLoaderService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OnnxModelOptions>, OnnxModelOptionsValidator>());
        return new AiOpsInferenceBuilder(services);
    }

    // Deferred: decorators may depend on services that consume the catalog (a shadow dispatcher, a rollout manager).
    private static IEnumerable<IModelRunnerDecorator> LazyDecorators(IServiceProvider sp)
    {
        foreach (var decorator in sp.GetServices<IModelRunnerDecorator>())
        {
            yield return decorator;
        }
    }
}

/// <summary>Registers the AiOps inference health checks.</summary>
public static class AiOpsInferenceHealthChecksBuilderExtensions
{
    /// <summary>The tag of the per-model readiness checks (Triton's "model ready").</summary>
    public const string ReadyTag = AiOpsHealthTags.Ready;

    /// <summary>The tag of the liveness check (Triton's "server live").</summary>
    public const string LiveTag = AiOpsHealthTags.Live;

    /// <summary>
    /// Adds one readiness check per loaded model version, named <c>aiops-model-&lt;model&gt;-&lt;version&gt;</c> and tagged
    /// <c>ready</c> (Healthy when serving on the preferred provider, Degraded with the reason on a fallback provider or
    /// after a failed reload, Unhealthy while loading or after a failed load), and a liveness check
    /// <c>aiops-inference</c> tagged <c>live</c>. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddAiOpsInferenceHealthChecks(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HealthCheckServiceOptions>, InferenceHealthCheckRegistrar>());
        return builder;
    }
}
