using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using AiOps.Inference.Diagnostics;
using AiOps.Inference.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Inference.Hosting;

/// <summary>Every model version registered through DI, by <see cref="ModelKey"/>; created unloaded, loaded by <see cref="OnnxModelLoaderService"/>.</summary>
internal sealed class OnnxModelCatalog : IModelRunnerCatalog, IAsyncDisposable, IDisposable
{
    private readonly Dictionary<ModelKey, OnnxModelRunner> _runners = [];
    private readonly Dictionary<string, OnnxModelRunner> _defaults = new(StringComparer.Ordinal);
    private readonly InferenceMetrics _metrics;
    private int _disposed;

    public OnnxModelCatalog(
        IEnumerable<OnnxModelRegistration> registrations,
        IOptionsMonitor<OnnxModelOptions> options,
        ExecutionProviderReporter reporter,
        TimeProvider timeProvider,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory)
    {
        _metrics = new InferenceMetrics(meterFactory);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<OnnxModelRunner>();
        foreach (var registration in registrations.DistinctBy(r => r.Name))
        {
            var modelOptions = options.Get(registration.Name);
            OnnxModelRunner? newest = null;
            foreach (var version in modelOptions.AllVersions())
            {
                var runnerOptions = new OnnxRunnerOptions();
                runnerOptions.CopyFrom(modelOptions);
                runnerOptions.ExpectedSha256 = version.ExpectedSha256;
                var key = new ModelKey(registration.Name, version.Version!);
                var runner = new OnnxModelRunner(key, version.Path!, runnerOptions, logger, _metrics, ownsMetrics: false, reporter, timeProvider);
                _runners.Add(key, runner);
                if (newest is null || key.Version > newest.Key.Version)
                {
                    newest = runner;
                }
            }

            var chosen = modelOptions.DefaultVersion is { } v ? _runners[new ModelKey(registration.Name, v)] : newest;
            if (chosen is not null)
            {
                _defaults[registration.Name] = chosen;
            }
        }

        Keys = [.. _runners.Keys.Order(ModelKeyComparer.Instance)];
    }

    public IReadOnlyCollection<ModelKey> Keys { get; }

    public IEnumerable<OnnxModelRunner> Runners => _runners.Values;

    public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner)
    {
        if (_runners.TryGetValue(key, out var found))
        {
            runner = found;
            return true;
        }

        runner = null;
        return false;
    }

    /// <summary>The default version's runner of <paramref name="name"/>.</summary>
    /// <exception cref="ModelNotFoundException">No model of that name is registered.</exception>
    public OnnxModelRunner GetDefault(string name) =>
        _defaults.TryGetValue(name, out var runner)
            ? runner
            : throw new ModelNotFoundException($"No ONNX model '{name}' is registered; expected one of: {string.Join(", ", _defaults.Keys.Order(StringComparer.Ordinal))}.");

    /// <summary>
    /// Loads every version. A model that fails to load is reported Failed and the others still load; a mandatory GPU
    /// that cannot be used fails the start-up.
    /// </summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        foreach (var runner in _runners.Values)
        {
            try
            {
                await runner.LoadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ModelLoadException)
            {
                // Logged and reported by the runner's Status and readiness check; the other models keep loading.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var runner in _runners.Values)
        {
            await runner.DisposeAsync().ConfigureAwait(false);
        }

        _metrics.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private sealed class ModelKeyComparer : IComparer<ModelKey>
    {
        public static readonly ModelKeyComparer Instance = new();

        public int Compare(ModelKey x, ModelKey y)
        {
            var byModel = x.Model.CompareTo(y.Model);
            return byModel != 0 ? byModel : x.Version.CompareTo(y.Version);
        }
    }
}

/// <summary>Loads the registered models when the host starts (before it reports started).</summary>
internal sealed class OnnxModelLoaderService(OnnxModelCatalog catalog) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => catalog.LoadAllAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
