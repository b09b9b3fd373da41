// Linked into several assemblies (src/Shared/Shared.props): each copy lives in its assembly's own namespace.
// Types are spelled in full (no using directives): the implicit usings differ between the projects that compile this.
#if AIOPS_SHARED_RELEASE
namespace AiOps.Release.Internal;
#elif AIOPS_SHARED_MONITORING
namespace AiOps.Monitoring.Internal;
#elif AIOPS_SHARED_DATA
namespace AiOps.Data.Internal;
#elif AIOPS_SHARED_INFERENCE
namespace AiOps.Inference.Internal;
#else
namespace AiOps.Internal;
#endif

/// <summary>
/// The hosting surface every AiOps package shares (linked into each package, not public): binding an options type from
/// its <c>AiOps:&lt;Area&gt;</c> configuration section when the host has configuration, and resolving relative paths
/// against the host's content root.
/// </summary>
internal static class HostingSurface
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> (named <paramref name="name"/>, or the default options when
    /// <see langword="null"/>) from <paramref name="sectionPath"/> of the host's <see cref="Microsoft.Extensions.Configuration.IConfiguration"/>, if one is
    /// registered. Configuration is applied where this is called in the options pipeline: call it before the code
    /// delegates, so settings made in code win over configuration. Registering the same binding twice binds once.
    /// </summary>
    public static void BindSection<TOptions>(Microsoft.Extensions.DependencyInjection.IServiceCollection services, string? name, string sectionPath)
        where TOptions : class
    {
        var optionsName = name ?? Microsoft.Extensions.Options.Options.DefaultName;
        foreach (var d in services)
        {
            if (d.ServiceType == typeof(SectionBinding<TOptions>) && d.ImplementationInstance is SectionBinding<TOptions> b
                && b.Name == optionsName && b.SectionPath == sectionPath)
            {
                return;
            }
        }

        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton(services, new SectionBinding<TOptions>(optionsName, sectionPath));
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<TOptions>>(services, sp => new ConfiguredFrom<TOptions>(optionsName, sectionPath, sp.GetService(typeof(Microsoft.Extensions.Configuration.IConfiguration)) as Microsoft.Extensions.Configuration.IConfiguration));
    }

    /// <summary>
    /// Makes <paramref name="path"/> absolute: rooted paths are kept, relative ones are taken against the host's
    /// content root (<see cref="Microsoft.Extensions.Hosting.IHostEnvironment.ContentRootPath"/>) when a host is present, else against the process
    /// working directory. Null or blank paths are returned as they are (validation reports them).
    /// </summary>
    public static string? ResolvePath(IServiceProvider services, string? path)
    {
        if (string.IsNullOrWhiteSpace(path) || System.IO.Path.IsPathRooted(path))
        {
            return path;
        }

        var root = (services.GetService(typeof(Microsoft.Extensions.Hosting.IHostEnvironment)) as Microsoft.Extensions.Hosting.IHostEnvironment)?.ContentRootPath;
        return string.IsNullOrWhiteSpace(root) ? System.IO.Path.GetFullPath(path) : System.IO.Path.GetFullPath(path, root);
    }

    /// <summary>
    /// Registers a post-configuration of every <typeparamref name="TOptions"/> instance (all names) that rewrites its
    /// relative paths through <see cref="ResolvePath"/>; <paramref name="resolve"/> is given the options and a function
    /// that resolves one path. Registered once per options type.
    /// </summary>
    public static void ResolvePaths<TOptions>(Microsoft.Extensions.DependencyInjection.IServiceCollection services, Action<TOptions, Func<string?, string?>> resolve)
        where TOptions : class
    {
        foreach (var d in services)
        {
            if (d.ServiceType == typeof(PathResolutionMarker<TOptions>))
            {
                return;
            }
        }

        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<PathResolutionMarker<TOptions>>(services);
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Microsoft.Extensions.Options.IPostConfigureOptions<TOptions>>(services, sp =>
            new Microsoft.Extensions.Options.PostConfigureOptions<TOptions>(null, o => resolve(o, p => ResolvePath(sp, p))));
    }

#if AIOPS_SHARED_INFERENCE || AIOPS_SHARED_MONITORING || AIOPS_SHARED_DATA || AIOPS_SHARED_RELEASE
    /// <summary>
    /// Adds the health check <typeparamref name="TCheck"/> as <paramref name="name"/> with <paramref name="tags"/>, unless
    /// <paramref name="enabled"/> says no for the options in force when health checks are first resolved (the opt-out
    /// of a check a package adds by itself). Registered once per name.
    /// </summary>
    public static void AddHealthCheck<TCheck, TOptions>(Microsoft.Extensions.DependencyInjection.IServiceCollection services, string name, string[] tags, System.Func<TOptions, bool> enabled)
        where TCheck : class, Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
        where TOptions : class
    {
        Microsoft.Extensions.DependencyInjection.HealthCheckServiceCollectionExtensions.AddHealthChecks(services);
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>(services, sp =>
            new Microsoft.Extensions.Options.ConfigureOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>(o =>
            {
                var options = (Microsoft.Extensions.Options.IOptions<TOptions>)sp.GetService(typeof(Microsoft.Extensions.Options.IOptions<TOptions>))!;
                if (!enabled(options.Value) || System.Linq.Enumerable.Any(o.Registrations, r => r.Name == name))
                {
                    return;
                }

                o.Registrations.Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
                    name,
                    s => Microsoft.Extensions.DependencyInjection.ActivatorUtilities.GetServiceOrCreateInstance<TCheck>(s),
                    failureStatus: null,
                    tags));
            }));
    }

#endif
    /// <summary>Marks a registered binding so a second call does not bind twice.</summary>
    private sealed class SectionBinding<TOptions>(string name, string sectionPath)
        where TOptions : class
    {
        public string Name { get; } = name;

        public string SectionPath { get; } = sectionPath;
    }

    private sealed class ConfiguredFrom<TOptions>(string optionsName, string sectionPath, Microsoft.Extensions.Configuration.IConfiguration? configuration) : Microsoft.Extensions.Options.IConfigureNamedOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options) => Configure(Microsoft.Extensions.Options.Options.DefaultName, options);

        public void Configure(string? name, TOptions options)
        {
            if (configuration is null || !string.Equals(name ?? Microsoft.Extensions.Options.Options.DefaultName, optionsName, System.StringComparison.Ordinal))
            {
                return;
            }

            var section = configuration.GetSection(sectionPath);
            if (Microsoft.Extensions.Configuration.ConfigurationExtensions.Exists(section))
            {
                Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(section, options);
            }
        }
    }

    private sealed class PathResolutionMarker<TOptions>;
}
