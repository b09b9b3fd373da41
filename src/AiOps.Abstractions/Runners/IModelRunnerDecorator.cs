using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace AiOps;

/// <summary>
/// Wraps every model version a catalog serves with cross-cutting behaviour (monitoring, a simulated serving node, an
/// operator's gate). Register implementations as enumerable singletons; the catalog applies all of them to every
/// version, in ascending <see cref="Order"/>, so the order in which packages are added to the host never matters.
/// </summary>
public interface IModelRunnerDecorator
{
    /// <summary>
    /// Where the decorator sits: decorators are applied in ascending order, so the lowest wraps the model's runner
    /// directly and the highest is what callers reach first. See <see cref="ModelRunnerDecoratorOrder"/>.
    /// </summary>
    int Order { get; }

    /// <summary>Returns <paramref name="runner"/> wrapped (or itself when this decorator does not apply to it).</summary>
    /// <param name="runner">The runner to wrap: the model's runner, or a runner already wrapped by lower-ordered decorators.</param>
    /// <returns>The wrapped runner.</returns>
    IModelRunner Decorate(IModelRunner runner);
}

/// <summary>The <see cref="IModelRunnerDecorator.Order"/> values the AiOps packages use.</summary>
public static class ModelRunnerDecoratorOrder
{
    /// <summary>Decorators that change what the model does or whether it answers (gates, simulations): below monitoring, so monitoring sees their effect.</summary>
    public const int BeforeMonitoring = -100;

    /// <summary>AiOps.Monitoring's latency, outcome and drift-sample recording.</summary>
    public const int Monitoring = 0;

    /// <summary>Decorators that should not be measured as model time (caches, request logging): above monitoring.</summary>
    public const int AfterMonitoring = 100;
}

/// <summary>
/// A catalog that applies every <see cref="IModelRunnerDecorator"/> to every version of an inner catalog, once per
/// version (the decorated runner is cached; a version the inner catalog replaces is decorated again). The inference
/// package registers its catalog through this type; a host that supplies its own catalog wraps it the same way.
/// Thread-safe.
/// </summary>
public sealed class DecoratedModelRunnerCatalog : IModelRunnerCatalog
{
    private readonly IModelRunnerCatalog _inner;
    private readonly Lazy<IModelRunnerDecorator[]> _decorators;
    private readonly ConcurrentDictionary<ModelKey, (IModelRunner Inner, IModelRunner Decorated)> _decorated = new();

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The catalog that owns the runners.</param>
    /// <param name="decorators">
    /// The decorators. Enumerated once, on the first lookup (not here), so a decorator may depend on services that
    /// themselves consume the catalog.
    /// </param>
    public DecoratedModelRunnerCatalog(IModelRunnerCatalog inner, IEnumerable<IModelRunnerDecorator> decorators)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(decorators);
        _inner = inner;
        _decorators = new Lazy<IModelRunnerDecorator[]>(() => [.. decorators.OrderBy(d => d.Order)], LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The catalog that owns the runners.</summary>
    public IModelRunnerCatalog Inner => _inner;

    /// <inheritdoc />
    public IReadOnlyCollection<ModelKey> Keys => _inner.Keys;

    /// <inheritdoc />
    public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner)
    {
        if (!_inner.TryGetRunner(key, out var innerRunner))
        {
            runner = null;
            return false;
        }

        if (_decorated.TryGetValue(key, out var entry) && ReferenceEquals(entry.Inner, innerRunner))
        {
            runner = entry.Decorated;
            return true;
        }

        var decorated = innerRunner;
        foreach (var decorator in _decorators.Value)
        {
            decorated = decorator.Decorate(decorated)
                ?? throw new InvalidOperationException($"The runner decorator {decorator.GetType().FullName} returned null for {key}; expected a runner.");
        }

        // Two racing first calls may both decorate; the first stored wins so every caller shares one decorated runner.
        entry = _decorated.AddOrUpdate(
            key,
            static (_, pair) => pair,
            static (_, existing, pair) => ReferenceEquals(existing.Inner, pair.Inner) ? existing : pair,
            (Inner: innerRunner, Decorated: decorated));
        runner = entry.Decorated;
        return true;
    }
}
