using System.Threading.Channels;
using AiOps.Release.Rollout;
using AiOps.Release.Shadow;
using AiOps.Release.State;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Infrastructure;

/// <summary>
/// One "replica": a service provider with AiOps.Release over a fake catalog (model "fraud": stable 1, candidate 2),
/// a fake metrics source and fake time. Several harnesses may share a state directory, a clock and a catalog.
/// </summary>
internal sealed class ReleaseHarness : IAsyncDisposable
{
    public const string Model = "fraud";

    private readonly List<IHostedService> _started = [];
    private readonly Lazy<RolloutManager> _manager;

    public ReleaseHarness(
        string stateDirectory,
        Action<ModelReleaseOptions>? model = null,
        Action<AiOpsReleaseOptions>? release = null,
        FakeTimeProvider? time = null,
        FakeCatalog? catalog = null,
        FakeMetricsSource? metrics = null,
        Action<IServiceCollection>? services = null,
        Action<AiOpsReleaseBuilder>? builder = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero));
        Catalog = catalog ?? DefaultCatalog();
        Metrics = metrics ?? new FakeMetricsSource();
        var sc = new ServiceCollection();
        sc.AddLogging();
        sc.AddMetrics();
        sc.AddSingleton<TimeProvider>(Time);
        sc.AddSingleton<IModelRunnerCatalog>(Catalog);
        sc.AddSingleton<AiOps.Metrics.IVersionMetricsSource>(Metrics);
        var b = sc.AddAiOpsRelease(o =>
        {
            o.StateDirectory = stateDirectory;
            o.EvaluationInterval = TimeSpan.FromMinutes(1);
            release?.Invoke(o);
        }).AddModel(Model, o =>
        {
            o.StableVersion = "1";
            o.Steps = [10, 50, 100];
            o.StepHold = TimeSpan.FromHours(24);
            o.Resilience.RetryDelay = TimeSpan.Zero;
            model?.Invoke(o);
        });
        builder?.Invoke(b);
        services?.Invoke(sc);
        Services = sc.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        _manager = new Lazy<RolloutManager>(() =>
        {
            var manager = Services.GetRequiredService<RolloutManager>();
            manager.DecisionMade += (_, d) => Decisions.Writer.TryWrite(d);
            return manager;
        });
    }

    public FakeTimeProvider Time { get; }

    public FakeCatalog Catalog { get; }

    public FakeMetricsSource Metrics { get; }

    public ServiceProvider Services { get; }

    public RolloutManager Manager => _manager.Value;

    public Channel<RolloutDecision> Decisions { get; } = Channel.CreateUnbounded<RolloutDecision>();

    public IModelClient Client => Services.GetRequiredKeyedService<IModelClient>(Model);

    public RolloutStateMonitor Monitor => Services.GetRequiredService<RolloutStateMonitor>();

    public ShadowDispatcher Shadow => Services.GetRequiredService<ShadowDispatcher>();

    public IRolloutStateStore Store => Services.GetRequiredService<IRolloutStateStore>();

    public static FakeCatalog DefaultCatalog()
    {
        var catalog = new FakeCatalog();
        catalog.Add(Model, "1", 1f);
        catalog.Add(Model, "2", 2f);
        return catalog;
    }

    public static ModelRequest Request(string? routingKey = null, ModelVersion? pinned = null) =>
        new(ModelTensor.Create<float>("x", new float[] { 0.5f, 1.5f }, 1, 2)) { RoutingKey = routingKey, PinnedVersion = pinned, RequestId = routingKey };

    /// <summary>Sets both versions to healthy, equal figures with enough samples.</summary>
    public void HealthyMetrics(long requests = 1000)
    {
        Metrics.Set(Model, "1", new FakeBehaviour(requests, 2, 40));
        Metrics.Set(Model, "2", new FakeBehaviour(requests, 2, 40));
    }

    public async Task StartHostedAsync()
    {
        _ = Manager;
        foreach (var service in Services.GetServices<IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
            _started.Add(service);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _started)
        {
            await service.StopAsync(CancellationToken.None);
        }

        await Services.DisposeAsync();
    }
}
