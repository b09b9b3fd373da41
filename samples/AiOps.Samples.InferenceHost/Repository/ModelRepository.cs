using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AiOps.Inference;

namespace AiOps.Samples.InferenceHost.Repository;

/// <summary>
/// The host's view of the served model versions (Triton's "model repository"): a catalog decorator over the inference
/// package's catalog that lets an operator unload a model (it reports not ready and refuses calls, so a load balancer
/// drains it) and load it again, re-reading its files, which hot-swaps a replaced file without failing calls in flight.
/// Everything else (monitoring, canary routing) composes over it through <see cref="IModelRunnerCatalog"/>.
/// </summary>
public sealed class ModelRepository : IModelRunnerCatalog
{
    private readonly IModelRunnerCatalog _inner;
    private readonly ConcurrentDictionary<ModelKey, GatedModelRunner> _runners = new();

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The catalog that owns the runners (the inference package's).</param>
    public ModelRepository(IModelRunnerCatalog inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<ModelKey> Keys => _inner.Keys;

    /// <summary>The model names served, in order.</summary>
    public IReadOnlyList<ModelId> Models => [.. _inner.Keys.Select(k => k.Model).Distinct().Order()];

    /// <summary>The versions of <paramref name="model"/>, oldest first; empty when the model is unknown.</summary>
    /// <param name="model">The model.</param>
    public IReadOnlyList<ModelVersion> VersionsOf(ModelId model) => [.. _inner.Keys.Where(k => k.Model == model).Select(k => k.Version).Order()];

    /// <inheritdoc />
    public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner)
    {
        if (_runners.TryGetValue(key, out var gated))
        {
            runner = gated;
            return true;
        }

        if (!_inner.TryGetRunner(key, out var inner))
        {
            runner = null;
            return false;
        }

        runner = _runners.GetOrAdd(key, static (_, r) => new GatedModelRunner(r), inner);
        return true;
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
        foreach (var v in versions)
        {
            _ = TryGetGated(new ModelKey(model, v), out var gated);
            if (gated!.Onnx is { } onnx)
            {
                await onnx.ReloadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            gated.IsUnloaded = false;
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

    private bool TryGetGated(ModelKey key, [NotNullWhen(true)] out GatedModelRunner? gated)
    {
        if (TryGetRunner(key, out var runner))
        {
            gated = (GatedModelRunner)runner;
            return true;
        }

        gated = null;
        return false;
    }

    /// <summary>A runner that can be taken out of service by the repository API.</summary>
    private sealed class GatedModelRunner(IModelRunner inner) : DelegatingModelRunner(inner)
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
