using System.Text;
using AiOps.Data;
using AiOps.Data.Gates;
using AiOps.Data.History;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Data.Versions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AiOps.Data.</summary>
public static class AiOpsDataServiceCollectionExtensions
{
    /// <summary>Adds the validator (<see cref="IDataValidator"/>), the gate (<see cref="IDataGate"/>), the PII masker (<see cref="IPiiMasker"/>),
    /// the dataset store (<see cref="IDatasetStore"/>) and the metrics history (<see cref="IMetricsRepository"/>), with options validated at
    /// start-up. Settings are bound from configuration section <c>AiOps:Data</c> when the host has configuration, then each
    /// call's <paramref name="configure"/> is applied; relative paths are taken against the host's content root. Safe to call twice.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets <see cref="AiOpsDataOptions"/>.</param>
    /// <returns>A builder for chaining.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddAiOpsData(o =&gt;
    /// {
    ///     o.DatasetStorePath = "/var/lib/aiops/datasets";
    ///     o.PiiHashKey = builder.Configuration["PiiHashKey"];
    /// });
    /// </code>
    /// </example>
    public static AiOpsDataBuilder AddAiOpsData(this IServiceCollection services, Action<AiOpsDataOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<AiOpsDataOptions>();

        // Configuration first (AiOps:Data, when the host has configuration), then the code delegates.
        HostingSurface.BindSection<AiOpsDataOptions>(services, null, AiOpsDataOptions.SectionName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(AiOpsDataMarker)))
        {
            return new AiOpsDataBuilder(services);
        }

        services.AddSingleton<AiOpsDataMarker>();
        HostingSurface.ResolvePaths<AiOpsDataOptions>(services, static (o, resolve) =>
        {
            o.DatasetStorePath = resolve(o.DatasetStorePath)!;
            o.AdmittedDirectory = resolve(o.AdmittedDirectory)!;
            o.QuarantineDirectory = resolve(o.QuarantineDirectory)!;
            o.MetricsHistoryPath = resolve(o.MetricsHistoryPath)!;
        });
        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AiOpsDataOptions>, AiOpsDataOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DataMetrics>();
        services.TryAddSingleton<RuleSetCatalog>();
        services.TryAddSingleton<IPiiMasker>(sp =>
        {
            var key = sp.GetRequiredService<IOptions<AiOpsDataOptions>>().Value.PiiHashKey;
            return new PiiMasker(key is null ? null : Encoding.UTF8.GetBytes(key), sp.GetServices<PiiRecognizer>());
        });
        services.TryAddSingleton<DataValidator>();
        services.TryAddSingleton<IDataValidator>(sp => sp.GetRequiredService<DataValidator>());
        services.TryAddSingleton<IDataGate, DataGate>();
        services.TryAddSingleton<IDatasetStore, FileDatasetStore>();
        services.TryAddSingleton<IMetricsRepository, FileMetricsRepository>();
        return new AiOpsDataBuilder(services);
    }

    private sealed class AiOpsDataMarker;
}
