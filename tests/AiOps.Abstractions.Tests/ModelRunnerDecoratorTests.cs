using System.Diagnostics.CodeAnalysis;

namespace AiOps.Abstractions.Tests;

public sealed class ModelRunnerDecoratorTests
{
    private static readonly ModelKey A1 = new("a", "1");

    [Fact]
    public void TryGetRunner_Decorators_AppliedInAscendingOrderWhateverTheRegistrationOrder()
    {
        var inner = new Catalog(new Runner(A1));
        var catalog = new DecoratedModelRunnerCatalog(inner, [new Tagging("outer", 100), new Tagging("inner", -100), new Tagging("middle", 0)]);

        Assert.True(catalog.TryGetRunner(A1, out var runner));

        // Callers reach the highest order first; the lowest wraps the model's runner.
        var outer = Assert.IsType<Tagged>(runner);
        Assert.Equal("outer", outer.Tag);
        var middle = Assert.IsType<Tagged>(outer.InnerRunner);
        Assert.Equal("middle", middle.Tag);
        var innermost = Assert.IsType<Tagged>(middle.InnerRunner);
        Assert.Equal("inner", innermost.Tag);
        Assert.Same(inner.Runners[A1], innermost.InnerRunner);
    }

    [Fact]
    public void TryGetRunner_SecondLookup_SameDecoratedInstance_ReplacedInnerIsDecoratedAgain()
    {
        var inner = new Catalog(new Runner(A1));
        var decorator = new Tagging("m", 0);
        var catalog = new DecoratedModelRunnerCatalog(inner, [decorator]);

        Assert.True(catalog.TryGetRunner(A1, out var first));
        Assert.True(catalog.TryGetRunner(A1, out var second));
        Assert.Same(first, second);
        Assert.Equal(1, decorator.Calls);

        inner.Runners[A1] = new Runner(A1);
        Assert.True(catalog.TryGetRunner(A1, out var third));
        Assert.NotSame(first, third);
        Assert.Same(inner.Runners[A1], ((Tagged)third).InnerRunner);
        Assert.False(catalog.TryGetRunner(new ModelKey("a", "2"), out _));
    }

    [Fact]
    public void Constructor_DecoratorsEnumeratedOnFirstLookupOnly()
    {
        var enumerated = 0;
        IEnumerable<IModelRunnerDecorator> Lazy()
        {
            enumerated++;
            yield return new Tagging("m", 0);
        }

        var catalog = new DecoratedModelRunnerCatalog(new Catalog(new Runner(A1)), Lazy());
        Assert.Equal(0, enumerated);
        Assert.Equal([A1], catalog.Keys);
        Assert.Equal(0, enumerated);

        catalog.TryGetRunner(A1, out _);
        catalog.TryGetRunner(A1, out _);
        Assert.Equal(1, enumerated);
    }

    [Fact]
    public void TryGetRunner_DecoratorReturnsNull_ThrowsNamingTheDecorator()
    {
        var catalog = new DecoratedModelRunnerCatalog(new Catalog(new Runner(A1)), [new NullDecorator()]);

        var error = Assert.Throws<InvalidOperationException>(() => catalog.TryGetRunner(A1, out _));

        Assert.Contains(nameof(NullDecorator), error.Message, StringComparison.Ordinal);
        Assert.Contains("a:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryGetRunner_RacingFirstLookups_AllCallersShareOneRunner()
    {
        for (var round = 0; round < 50; round++)
        {
            var catalog = new DecoratedModelRunnerCatalog(new Catalog(new Runner(A1)), [new Tagging("m", 0)]);
            using var start = new ManualResetEventSlim();
            var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.Wait();
                return catalog.TryGetRunner(A1, out var r) ? r : null;
            })).ToArray();
            start.Set();
            var runners = await Task.WhenAll(tasks);

            Assert.Single(runners.Distinct());
        }
    }

    private sealed class Runner(ModelKey key) : IModelRunner
    {
        public ModelKey Key { get; } = key;

        public ModelMetadata Metadata { get; } = new([], []);

        public ModelRunnerStatus Status { get; } = new(ModelReadiness.Ready, "CPU", null);

        public ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new ModelResponse(Key, []));
    }

    private sealed class Catalog(params IModelRunner[] runners) : IModelRunnerCatalog
    {
        public Dictionary<ModelKey, IModelRunner> Runners { get; } = runners.ToDictionary(r => r.Key);

        public IReadOnlyCollection<ModelKey> Keys => Runners.Keys;

        public bool TryGetRunner(ModelKey key, [NotNullWhen(true)] out IModelRunner? runner) => Runners.TryGetValue(key, out runner);
    }

    private sealed class Tagged(IModelRunner inner, string tag) : DelegatingModelRunner(inner)
    {
        public string Tag { get; } = tag;

        public IModelRunner InnerRunner => Inner;
    }

    private sealed class Tagging(string tag, int order) : IModelRunnerDecorator
    {
        private int _calls;

        public int Calls => _calls;

        public int Order { get; } = order;

        public IModelRunner Decorate(IModelRunner runner)
        {
            Interlocked.Increment(ref _calls);
            return new Tagged(runner, tag);
        }
    }

    private sealed class NullDecorator : IModelRunnerDecorator
    {
        public int Order => 0;

        public IModelRunner Decorate(IModelRunner runner) => null!;
    }
}
