using AiOps.State;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Inference.Serving;

/// <summary>
/// The version policy of the serving endpoints: which version of a model an unversioned request is about. Unversioned
/// metadata, readiness and the input cap of an unversioned infer call all describe this version, and it is the version
/// the model's keyed <see cref="IModelClient"/> (the canary router when AiOps.Release is used) serves to traffic outside
/// a canary's share: the stable version. Replace it (register your own before or after
/// <c>AddOpenInferenceProtocol()</c>) when the stable version comes from elsewhere.
/// </summary>
public interface IServedVersionResolver
{
    /// <summary>Finds the stable (served) version of <paramref name="model"/>.</summary>
    /// <param name="model">The model; known to the catalog.</param>
    /// <param name="cancellationToken">Cancels the look-up.</param>
    /// <returns>The version, or <see langword="null"/> when the model has none loaded.</returns>
    ValueTask<ModelVersion?> ResolveAsync(ModelId model, CancellationToken cancellationToken = default);
}

/// <summary>
/// The default policy: the rollout state's stable version when an <see cref="IRolloutStateStore"/> is registered and
/// holds the model's state (what the canary router serves); otherwise the model's default version (the keyed
/// <see cref="IModelRunner"/>: <c>OnnxModelOptions.DefaultVersion</c>, else the newest); otherwise the newest loaded.
/// </summary>
internal sealed class DefaultServedVersionResolver(IServiceProvider services, IModelRunnerCatalog catalog) : IServedVersionResolver
{
    // The container does not change once built: whether a store is registered, and each model's keyed default runner,
    // are looked up once (the store itself is read on every call: the rollout's stable version changes).
    private readonly Lazy<IRolloutStateStore?> _store = new(services.GetService<IRolloutStateStore>);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ModelId, ModelVersion?> _keyedDefault = new();

    public ValueTask<ModelVersion?> ResolveAsync(ModelId model, CancellationToken cancellationToken = default) =>
        _store.Value is { } store ? ResolveWithStoreAsync(store, model, cancellationToken) : new(DefaultOf(model));

    private async ValueTask<ModelVersion?> ResolveWithStoreAsync(IRolloutStateStore store, ModelId model, CancellationToken cancellationToken)
    {
        try
        {
            if (await store.GetAsync(model, cancellationToken).ConfigureAwait(false) is { } state
                && catalog.TryGetRunner(new ModelKey(model, state.Stable), out _))
            {
                return state.Stable;
            }
        }
        catch (IOException)
        {
            // An unreadable store: the router keeps its last weights; the default version is the best guess here.
        }

        return DefaultOf(model);
    }

    private ModelVersion? DefaultOf(ModelId model)
    {
        if (!_keyedDefault.TryGetValue(model, out var keyed))
        {
            keyed = services.GetKeyedService<IModelRunner>(model.Value)?.Key.Version;
            _keyedDefault.TryAdd(model, keyed);
        }

        if (keyed is { } version)
        {
            return version;
        }

        ModelVersion? newest = null;
        foreach (var key in catalog.Keys)
        {
            if (key.Model == model && (newest is null || key.Version > newest.Value))
            {
                newest = key.Version;
            }
        }

        return newest;
    }
}
