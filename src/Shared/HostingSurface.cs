using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Hosting;

/// <summary>
/// The hosting surface every AiOps package shares (linked into each package, not public): binding an options type from
/// its <c>AiOps:&lt;Area&gt;</c> configuration section when the host has configuration, and resolving relative paths
/// against the host's content root.
/// </summary>
internal static class HostingSurface
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> (named <paramref name="name"/>, or the default options when
    /// <see langword="null"/>) from <paramref name="sectionPath"/> of the host's <see cref="IConfiguration"/>, if one is
    /// registered. Configuration is applied where this is called in the options pipeline: call it before the code
    /// delegates, so settings made in code win over configuration. Registering the same binding twice binds once.
    /// </summary>
    public static void BindSection<TOptions>(IServiceCollection services, string? name, string sectionPath)
        where TOptions : class
    {
        var optionsName = name ?? Options.DefaultName;
        foreach (var d in services)
        {
            if (d.ServiceType == typeof(SectionBinding<TOptions>) && d.ImplementationInstance is SectionBinding<TOptions> b
                && b.Name == optionsName && b.SectionPath == sectionPath)
            {
                return;
            }
        }

        services.AddSingleton(new SectionBinding<TOptions>(optionsName, sectionPath));
        services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfiguredFrom<TOptions>(optionsName, sectionPath, sp.GetService<IConfiguration>()));
    }

    /// <summary>
    /// Makes <paramref name="path"/> absolute: rooted paths are kept, relative ones are taken against the host's
    /// content root (<see cref="IHostEnvironment.ContentRootPath"/>) when a host is present, else against the process
    /// working directory. Null or blank paths are returned as they are (validation reports them).
    /// </summary>
    public static string? ResolvePath(IServiceProvider services, string? path)
    {
        if (string.IsNullOrWhiteSpace(path) || Path.IsPathRooted(path))
        {
            return path;
        }

        var root = services.GetService<IHostEnvironment>()?.ContentRootPath;
        return string.IsNullOrWhiteSpace(root) ? Path.GetFullPath(path) : Path.GetFullPath(path, root);
    }

    /// <summary>
    /// Registers a post-configuration of every <typeparamref name="TOptions"/> instance (all names) that rewrites its
    /// relative paths through <see cref="ResolvePath"/>; <paramref name="resolve"/> is given the options and a function
    /// that resolves one path. Registered once per options type.
    /// </summary>
    public static void ResolvePaths<TOptions>(IServiceCollection services, Action<TOptions, Func<string?, string?>> resolve)
        where TOptions : class
    {
        foreach (var d in services)
        {
            if (d.ServiceType == typeof(PathResolutionMarker<TOptions>))
            {
                return;
            }
        }

        services.AddSingleton<PathResolutionMarker<TOptions>>();
        services.AddSingleton<IPostConfigureOptions<TOptions>>(sp =>
            new PostConfigureOptions<TOptions>(null, o => resolve(o, p => ResolvePath(sp, p))));
    }

    /// <summary>Marks a registered binding so a second call does not bind twice.</summary>
    private sealed class SectionBinding<TOptions>(string name, string sectionPath)
        where TOptions : class
    {
        public string Name { get; } = name;

        public string SectionPath { get; } = sectionPath;
    }

    private sealed class ConfiguredFrom<TOptions>(string optionsName, string sectionPath, IConfiguration? configuration) : IConfigureNamedOptions<TOptions>
        where TOptions : class
    {
        public void Configure(TOptions options) => Configure(Options.DefaultName, options);

        public void Configure(string? name, TOptions options)
        {
            if (configuration is null || !string.Equals(name ?? Options.DefaultName, optionsName, StringComparison.Ordinal))
            {
                return;
            }

            var section = configuration.GetSection(sectionPath);
            if (section.Exists())
            {
                section.Bind(options);
            }
        }
    }

    private sealed class PathResolutionMarker<TOptions>;
}
