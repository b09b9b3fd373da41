using System.Diagnostics.Metrics;
using AiOps.Registry;
using AiOps.Release.Canary;
using AiOps.Release.Internal;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.State;

/// <summary>
/// Keeps every model's route table in memory, refreshed from the state store on change notifications and by
/// polling every <see cref="AiOpsReleaseOptions.RefreshInterval"/>. When the store cannot be read the last known
/// table stays in force and the failure is reported to the health check. A store found empty after it held a state
/// (Redis restarted without its data, the state file deleted) is a reset: the last known table stays in force, the
/// reset is reported (health Degraded, a warning, <see cref="StoreReset"/>) until the store is re-seeded, and the
/// state of the new generation is accepted whatever its revision.
/// </summary>
internal sealed class RolloutStateMonitor : IDisposable
{
    private readonly IRolloutStateStore _store;
    private readonly IModelRunnerCatalog _catalog;
    private readonly IServiceProvider _services;
    private readonly IOptionsMonitor<ModelReleaseOptions> _modelOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReleaseMetrics _metrics;
    private readonly Dictionary<ModelId, ModelRoute> _routes;
    private readonly PeriodicJob _poll;
    private int _disposed;

    public RolloutStateMonitor(
        IRolloutStateStore store,
        IModelRunnerCatalog catalog,
        IServiceProvider services,
        IEnumerable<ReleaseModelRegistration> models,
        IOptionsMonitor<ModelReleaseOptions> modelOptions,
        IOptions<AiOpsReleaseOptions> options,
        TimeProvider time,
        ReleaseMetrics metrics,
        ILogger<RolloutStateMonitor> logger)
    {
        _store = store;
        _catalog = catalog;
        _services = services;
        _modelOptions = modelOptions;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _routes = [];
        foreach (var m in models)
        {
            if (!_routes.ContainsKey(m.Model))
            {
                var shadow = modelOptions.Get(m.Model.Value).Shadow.Version;
                _routes[m.Model] = new ModelRoute(m.Model, shadow is null ? (ModelVersion?)null : new ModelVersion(shadow), this);
            }
        }

        _store.Changed += OnChanged;
        metrics.SetWeightSource(Weights);
        // First poll one interval after construction (the first request of a model reads the state itself); polls never
        // overlap: while one is slow (an unreachable store) the ticks that fall due merge into one poll after it.
        _poll = new PeriodicJob("rollout state poll", options.Value.RefreshInterval, runAtStart: false, RefreshAllAsync, time, logger);
        _poll.Start();
    }

    public IReadOnlyCollection<ModelRoute> Routes => _routes.Values;

    /// <summary>Raised when a model's store is found reset (empty after holding a state), with the last known state.</summary>
    public event Action<ModelId, RolloutState>? StoreReset;

    public ModelRoute Get(ModelId model) =>
        _routes.TryGetValue(model, out var route)
            ? route
            : throw new ModelNotFoundException(
                $"Model '{model}' is not configured for release; add it with AddAiOpsRelease().AddModel(\"{model}\", …). Configured: {string.Join(", ", _routes.Keys)}.");

    public bool TryGet(ModelId model, out ModelRoute? route) => _routes.TryGetValue(model, out route);

    /// <summary>Re-reads one model's state now.</summary>
    public async Task RefreshAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        if (!_routes.TryGetValue(model, out var route))
        {
            return;
        }

        var attempt = route.BeginRead();
        try
        {
            var state = await _store.GetAsync(model, cancellationToken).ConfigureAwait(false);
            if (state is null && route.LastState is { } known)
            {
                // The store held a state and now holds none: it was reset. Keep serving what we know until it is re-seeded.
                if (route.RecordReset(_time.GetUtcNow(), attempt))
                {
                    _metrics.StoreReset(model);
                    _logger.LogWarning(
                        "The rollout state store holds no state for {Model} although it held revision {Revision} (generation {Epoch}): it was reset. Serving the last known weights (stable {Stable}, canary {Canary} at {Weight} %) until the controller or an operator re-seeds it.",
                        model,
                        known.Revision,
                        known.Epoch ?? "none",
                        route.Router.Table.Stable,
                        route.Router.Table.Canary,
                        route.Router.Table.CanaryWeightPercent);
                    StoreReset?.Invoke(model, known);
                }

                return;
            }

            var table = await BuildTableAsync(model, state, cancellationToken).ConfigureAwait(false);
            var previousEpoch = route.LastState?.Epoch;
            if (route.Apply(table, state, _time.GetUtcNow(), attempt) && state is not null && previousEpoch is not null &&
                !string.Equals(previousEpoch, state.Epoch, StringComparison.Ordinal))
            {
                _logger.LogWarning(
                    "The rollout state store of {Model} is of a new generation ({Epoch}, was {Previous}): following it (revision {Revision}).",
                    model,
                    state.Epoch,
                    previousEpoch,
                    state.Revision);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var first = route.RecordFailure(ex, _time.GetUtcNow(), attempt);
            if (first)
            {
                _logger.LogWarning(
                    ex,
                    "Cannot read the rollout state of {Model}; serving the last known weights (stable {Stable}, canary {Canary} at {Weight} %).",
                    model,
                    route.Router.Table.Stable,
                    route.Router.Table.Canary,
                    route.Router.Table.CanaryWeightPercent);
            }

            if (route.Router.Table.Stable is null)
            {
                // Nothing known yet (the store was down from the start): serve the configured stable version.
                route.Router.Update(await BuildTableAsync(model, null, cancellationToken).ConfigureAwait(false) with { Revision = -1 });
            }
        }
    }

    /// <summary>
    /// Installs a state this process wrote (or, <paramref name="provisional"/>, decided but could not persist yet), so
    /// its routers follow it at once; <paramref name="force"/> installs it whatever its revision (the store's state
    /// after a kept decision was dropped).
    /// </summary>
    public void ApplyLocal(RolloutState state, bool provisional = false, bool force = false)
    {
        if (_routes.TryGetValue(state.Model, out var route))
        {
            route.ApplyLocal(TableFrom(state) with { Provisional = provisional }, state, force);
        }
    }

    public Task RefreshAllAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_routes.Keys.Select(m => RefreshAsync(m, cancellationToken)));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _store.Changed -= OnChanged;
            _poll.Dispose();
        }
    }

    internal RouteTable TableFrom(RolloutState state) =>
        new(
            state.Stable,
            state.Phase == RolloutPhase.Progressing ? state.Canary : null,
            state.Phase == RolloutPhase.Progressing && state.Canary is not null ? StickyHash.ToBuckets(state.CanaryWeightPercent) : 0,
            state.Revision)
        {
            Epoch = state.Epoch,
            Seed = state.Canary is { } canary ? SeedFor(state.Model, canary) : 0,
        };

    /// <summary>The routing seed of a rollout: <see cref="ModelReleaseOptions.RoutingSeed"/>, or one derived from the model and the candidate.</summary>
    internal ulong SeedFor(ModelId model, ModelVersion candidate) =>
        _modelOptions.Get(model.Value).RoutingSeed is { } configured
            ? StickyHash.Hash(configured, 0)
            : StickyHash.Hash(model.Value + "/" + candidate.ToString(), 0);

    /// <summary>Finds the stable version when no rollout state exists: options, then the registry alias, then the highest loaded version.</summary>
    internal async ValueTask<ModelVersion?> ResolveInitialStableAsync(ModelId model, CancellationToken cancellationToken)
    {
        if (_modelOptions.Get(model.Value).StableVersion is { } configured)
        {
            return new ModelVersion(configured);
        }

        if (_services.GetService<IModelRegistry>() is { } registry)
        {
            try
            {
                if (await registry.ResolveAliasAsync(model, "stable", cancellationToken).ConfigureAwait(false) is { } aliased)
                {
                    return aliased;
                }
            }
            catch (IOException ex)
            {
                _logger.LogWarning(ex, "Cannot read the registry alias 'stable' of {Model}.", model);
            }
        }

        ModelVersion? best = null;
        foreach (var key in _catalog.Keys)
        {
            if (key.Model == model && (best is null || key.Version > best.Value))
            {
                best = key.Version;
            }
        }

        return best;
    }

    private async ValueTask<RouteTable> BuildTableAsync(ModelId model, RolloutState? state, CancellationToken cancellationToken) =>
        state is not null
            ? TableFrom(state)
            : new RouteTable(await ResolveInitialStableAsync(model, cancellationToken).ConfigureAwait(false), null, 0, 0);

    private IEnumerable<Measurement<double>> Weights()
    {
        foreach (var route in _routes.Values)
        {
            yield return new Measurement<double>(route.Router.Table.CanaryWeightPercent, new KeyValuePair<string, object?>("model", route.Model.Value));
        }
    }

    private void OnChanged(object? sender, ModelId model) => _ = RefreshAsync(model);
}

/// <summary>One model's router with what the monitor knows about its freshness.</summary>
internal sealed class ModelRoute
{
    private readonly RolloutStateMonitor _monitor;
    private readonly Lock _gate = new();
    private Task? _initialLoad;
    private long _reads;
    private long _lastGoodRead;
    private long _lastFailedRead;
    private long _lastAppliedRead;

    public ModelRoute(ModelId model, ModelVersion? shadowVersion, RolloutStateMonitor monitor)
    {
        Model = model;
        ShadowVersion = shadowVersion;
        Router = new CanaryRouter(model);
        _monitor = monitor;
    }

    public ModelId Model { get; }

    public CanaryRouter Router { get; }

    public ModelVersion? ShadowVersion { get; }

    public RolloutState? LastState { get; private set; }

    public DateTimeOffset? LastRefreshAt { get; private set; }

    public string? LastError { get; private set; }

    public DateTimeOffset? FailingSince { get; private set; }

    /// <summary>Since when the store is found reset (empty after holding a state) and not re-seeded yet.</summary>
    public DateTimeOffset? ResetSince { get; private set; }

    public bool IsLoaded => LastRefreshAt is not null || Router.Table.Stable is not null;

    /// <summary>Waits for the first read of the state (only the first requests of a model pay for it).</summary>
    public ValueTask EnsureLoadedAsync(CancellationToken cancellationToken)
    {
        if (IsLoaded)
        {
            return ValueTask.CompletedTask;
        }

        lock (_gate)
        {
            _initialLoad ??= _monitor.RefreshAsync(Model, CancellationToken.None);
        }

        return new ValueTask(_initialLoad.WaitAsync(cancellationToken));
    }

    /// <summary>Numbers a read of the store, so reads that finish out of order cannot hide a newer outcome.</summary>
    public long BeginRead() => Interlocked.Increment(ref _reads);

    /// <summary>
    /// Applies a successful read; the table only moves forward (by generation and revision; a read that began before
    /// the last applied one cannot switch generations back), the failure flag only clears when this read started after
    /// the last failed one.
    /// </summary>
    /// <returns>Whether the table was installed.</returns>
    public bool Apply(RouteTable table, RolloutState? state, DateTimeOffset at, long attempt)
    {
        lock (_gate)
        {
            var installed = false;
            var otherEpoch = !string.Equals(table.Epoch, Router.Table.Epoch, StringComparison.Ordinal);
            if ((!otherEpoch || attempt >= _lastAppliedRead) && Router.Update(table))
            {
                LastState = state;
                installed = true;
            }

            _lastAppliedRead = Math.Max(_lastAppliedRead, attempt);
            if (state is not null)
            {
                ResetSince = null;
            }

            if (attempt < _lastFailedRead)
            {
                // A read that began before a newer one failed: the store is still believed unreachable.
                return installed;
            }

            _lastGoodRead = Math.Max(_lastGoodRead, attempt);
            LastRefreshAt = at;
            LastError = null;
            FailingSince = null;
            return installed;
        }
    }

    /// <summary>Installs a state this process wrote or decided.</summary>
    public void ApplyLocal(RouteTable table, RolloutState state, bool force)
    {
        lock (_gate)
        {
            if (Router.Update(table, force))
            {
                LastState = state;
                if (!table.Provisional)
                {
                    ResetSince = null;
                }
            }
        }
    }

    /// <summary>Records that the store was found empty after holding a state; returns whether it is newly found.</summary>
    public bool RecordReset(DateTimeOffset at, long attempt)
    {
        lock (_gate)
        {
            _lastGoodRead = Math.Max(_lastGoodRead, attempt);
            LastRefreshAt = at;
            LastError = null;
            FailingSince = null;
            var first = ResetSince is null;
            ResetSince ??= at;
            return first;
        }
    }

    /// <summary>Records a failed read; returns whether it is the first of a run of failures.</summary>
    public bool RecordFailure(Exception ex, DateTimeOffset at, long attempt)
    {
        lock (_gate)
        {
            if (attempt < _lastGoodRead)
            {
                // A newer read already succeeded: this stale failure says nothing about the store now.
                return false;
            }

            _lastFailedRead = Math.Max(_lastFailedRead, attempt);
            var first = FailingSince is null;
            FailingSince ??= at;
            LastError = ex.GetType().Name + ": " + ex.Message;
            return first;
        }
    }
}
