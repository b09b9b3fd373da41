using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace AiOps.Inference.Serving;

/// <summary>
/// The served model versions as the model repository extension of the protocol sees them (Triton's "model
/// repository"): it lets an operator unload a model (it reports not ready and refuses calls, so a load balancer drains
/// it) and load it again, re-reading its files, which hot-swaps a replaced file without failing calls in flight. The
/// gate is a runner decorator below monitoring (<see cref="ModelGates"/>), so the catalog, the canary router and every
/// keyed runner see it. Registered by <c>AddOpenInferenceProtocol()</c>; usable from code whether or not the HTTP
/// repository endpoints are mapped.
/// </summary>
public sealed class ModelRepository
{
    private readonly IModelRunnerCatalog _inner;
    private readonly ModelGates _gates;

    /// <summary>Reads <paramref name="catalog"/> and gates its runners through <paramref name="gates"/>.</summary>
    /// <param name="catalog">The served versions (the inference package's catalog, decorated).</param>
    /// <param name="gates">The gate decorator registered for the catalog.</param>
    internal ModelRepository(IModelRunnerCatalog catalog, ModelGates gates)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(gates);
        _inner = catalog;
        _gates = gates;
    }

    /// <summary>The model names served, in order.</summary>
    public IReadOnlyList<ModelId> Models => [.. _inner.Keys.Select(k => k.Model).Distinct().Order()];

    /// <summary>The versions of <paramref name="model"/>, oldest first; empty when the model is unknown.</summary>
    /// <param name="model">The model.</param>
    public IReadOnlyList<ModelVersion> VersionsOf(ModelId model)
    {
        // On every inference request: one dictionary look-up, no allocation. The table is rebuilt when the catalog
        // hands out another key collection (the inference catalog's is fixed at start-up).
        var keys = _inner.Keys;
        var table = Volatile.Read(ref _versions);
        if (table is null || !ReferenceEquals(table.Source, keys))
        {
            table = new VersionTable(keys);
            Volatile.Write(ref _versions, table);
        }

        return table.ByModel.TryGetValue(model, out var versions) ? versions : [];
    }

    private VersionTable? _versions;
    private int _generation;

    /// <summary>Counts the loads and unloads through this repository: what the endpoints keep per model is current while it is unchanged.</summary>
    internal int Generation => Volatile.Read(ref _generation);

    /// <summary>The versions of each model, oldest first, read from one key collection of the catalog.</summary>
    private sealed class VersionTable(IReadOnlyCollection<ModelKey> source)
    {
        public IReadOnlyCollection<ModelKey> Source { get; } = source;

        public Dictionary<ModelId, IReadOnlyList<ModelVersion>> ByModel { get; } = source
            .GroupBy(k => k.Model)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<ModelVersion>)Array.AsReadOnly(g.Select(k => k.Version).Order().ToArray()));
    }

    /// <summary>Whether <paramref name="key"/> was unloaded through <see cref="Unload"/>.</summary>
    /// <param name="key">The model version.</param>
    public bool IsUnloaded(ModelKey key) => TryGetGated(key, out var gated) && gated.IsUnloaded;

    /// <summary>Marks every version of <paramref name="model"/> unloaded: not ready, calls refused with <see cref="ModelNotReadyException"/>.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The versions unloaded.</returns>
    /// <exception cref="ModelNotFoundException">The model is not served.</exception>
    public IReadOnlyList<ModelVersion> Unload(ModelId model)
    {
        var versions = RequireVersions(model);
        foreach (var v in versions)
        {
            _ = TryGetGated(new ModelKey(model, v), out var gated);
            gated!.IsUnloaded = true;
        }

        Interlocked.Increment(ref _generation);
        return versions;
    }

    /// <summary>
    /// Loads every version of <paramref name="model"/> again: each ONNX runner re-reads its file and swaps it in (calls in
    /// flight finish on the old session, none fails), then the version serves again if it had been unloaded.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the load (the previous files keep serving).</param>
    /// <returns>The versions loaded.</returns>
    /// <exception cref="ModelNotFoundException">The model is not served.</exception>
    /// <exception cref="ModelLoadException">A file could not be loaded; the previous one keeps serving.</exception>
    public async Task<IReadOnlyList<ModelVersion>> LoadAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        var versions = RequireVersions(model);
        try
        {
            foreach (var v in versions)
            {
                _ = TryGetGated(new ModelKey(model, v), out var gated);
                if (gated!.Onnx is { } onnx)
                {
                    await onnx.ReloadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                gated.IsUnloaded = false;
            }
        }
        finally
        {
            // A reloaded file may declare other inputs or outputs: the endpoints' per-model limits are worked out again.
            Interlocked.Increment(ref _generation);
        }

        return versions;
    }

    /// <summary>The ONNX runner behind <paramref name="key"/>, for operations the contract does not cover (hot swap, status details).</summary>
    /// <param name="key">The model version.</param>
    /// <returns>The runner, or <see langword="null"/> when the version is not served by ONNX Runtime.</returns>
    public OnnxModelRunner? GetOnnxRunner(ModelKey key) => TryGetGated(key, out var gated) ? gated.Onnx : null;

    private List<ModelVersion> RequireVersions(ModelId model)
    {
        var versions = VersionsOf(model);
        if (versions.Count == 0)
        {
            throw new ModelNotFoundException($"Model '{model}' is not served; served: {string.Join(", ", Models)}.");
        }

        return [.. versions];
    }

    private bool TryGetGated(ModelKey key, [NotNullWhen(true)] out ModelGates.GatedModelRunner? gated)
    {
        // Looking the version up in the catalog decorates it, so its gate exists from then on.
        gated = null;
        return _inner.TryGetRunner(key, out _) && _gates.TryGet(key, out gated);
    }
}

/// <summary>
/// The repository's gate as an <see cref="IModelRunnerDecorator"/>: every served version is wrapped in a runner that
/// the repository API can take out of service. Below monitoring, so refused calls are counted.
/// </summary>
internal sealed class ModelGates : IModelRunnerDecorator
{
    private readonly ConcurrentDictionary<ModelKey, GatedModelRunner> _gated = new();

    /// <inheritdoc />
    public int Order => ModelRunnerDecoratorOrder.BeforeMonitoring;

    /// <inheritdoc />
    public IModelRunner Decorate(IModelRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var gated = new GatedModelRunner(runner);
        _gated[runner.Key] = gated;
        return gated;
    }

    internal bool TryGet(ModelKey key, [NotNullWhen(true)] out GatedModelRunner? gated) => _gated.TryGetValue(key, out gated);

    /// <summary>A runner that can be taken out of service by the repository API.</summary>
    internal sealed class GatedModelRunner(IModelRunner inner) : DelegatingModelRunner(inner)
    {
        private volatile bool _unloaded;

        public bool IsUnloaded
        {
            get => _unloaded;
            set => _unloaded = value;
        }

        public OnnxModelRunner? Onnx => Inner as OnnxModelRunner;

        public override ModelRunnerStatus Status =>
            _unloaded ? new ModelRunnerStatus(ModelReadiness.NotReady, null, $"{Key} was unloaded through the repository API.") : Inner.Status;

        public override ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default) =>
            _unloaded
                ? ValueTask.FromException<ModelResponse>(new ModelNotReadyException($"{Key} is unloaded; load it again through POST /v2/repository/models/{Key.Model}/load.") { Key = Key })
                : Inner.RunAsync(request, cancellationToken);
    }
}
