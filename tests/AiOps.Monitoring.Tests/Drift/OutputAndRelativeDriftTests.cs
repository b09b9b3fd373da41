using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>Issue 16, item 5: outputs are watched (prediction drift), and a canary is judged against stable's drift.</summary>
public sealed class OutputAndRelativeDriftTests
{
    private static readonly ModelKey s_stable = new("fraud", "1");
    private static readonly ModelKey s_canary = new("fraud", "2");

    private static ReferenceProfile Profile()
    {
        var rng = new Random(11);
        var amount = ReferenceProfileBuilder.Numeric("amount", Enumerable.Range(0, 5_000).Select(_ => rng.NextDouble()).ToArray()) with { Input = "features", Column = 0 };
        var score = ReferenceProfileBuilder.Numeric("score", Enumerable.Range(0, 5_000).Select(_ => 0.2 * rng.NextDouble()).ToArray()) with { Output = "probabilities", Column = 1 };
        return new ReferenceProfile([amount, score]);
    }

    private static (ServiceProvider Provider, IDriftMonitor Monitor, FakeTimeProvider Time) Build()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddAiOpsDrift(o => o.PublishAlerts = false);
        var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.SetProfile(s_stable.Model, Profile());
        return (provider, monitor, time);
    }

    private static void Traffic(IDriftMonitor monitor, ModelKey key, int seed, double amountShift, double scoreShift, int rows = 500)
    {
        var rng = new Random(seed);
        var features = new float[rows];
        var probabilities = new float[rows * 2];
        for (var r = 0; r < rows; r++)
        {
            features[r] = (float)(rng.NextDouble() + amountShift);
            var p = (float)((0.2 * rng.NextDouble()) + scoreShift);
            probabilities[(r * 2) + 1] = p;
            probabilities[r * 2] = 1 - p;
        }

        var request = new ModelRequest(ModelTensor.Create("features", features.AsMemory(), rows, 1));
        var response = new ModelResponse(key, [ModelTensor.Create("probabilities", probabilities.AsMemory(), rows, 2)]);
        ((IInferenceObserver)monitor).OnInference(key, request, response);
    }

    [Fact]
    public async Task OnInference_ShiftedScores_OutputFeatureIsSevere_InputsStable()
    {
        var (provider, monitor, _) = Build();
        await using var _ = provider;
        Traffic(monitor, s_stable, 1, amountShift: 0, scoreShift: 0.3);

        var result = Assert.Single(await monitor.CloseWindowsAsync());

        Assert.Equal(DriftSeverity.Severe, result.Find("score", DriftStatisticNames.Psi)!.Severity);
        Assert.Equal(500, result.Find("score", DriftStatisticNames.Psi)!.SampleCount);
        Assert.Equal(DriftSeverity.Stable, result.Find("amount", DriftStatisticNames.Psi)!.Severity);

        // Observe without the response counts the inputs only: the output feature is not judged.
        monitor.Observe(s_stable, new ModelRequest(ModelTensor.Create("features", new float[200].AsMemory(), 200, 1)));
        var inputsOnly = Assert.Single(await monitor.CloseWindowsAsync());
        Assert.Equal(DriftSeverity.InsufficientData, inputsOnly.Find("score", DriftStatisticNames.Psi)!.Severity);
    }

    [Fact]
    public async Task CanaryWithTheSameDriftAsStable_IsRelativelyStable_CanaryOnlyDrift_IsSevere()
    {
        var (provider, monitor, time) = Build();
        await using var _ = provider;
        var drift = provider.GetRequiredService<IVersionDriftProvider>();

        // Both versions see the same shifted traffic (the world changed, not the canary).
        Traffic(monitor, s_stable, 1, amountShift: 0.5, scoreShift: 0);
        Traffic(monitor, s_canary, 2, amountShift: 0.5, scoreShift: 0);
        await monitor.CloseWindowsAsync();
        var since = time.GetUtcNow() - TimeSpan.FromHours(1);

        Assert.Equal(DriftSeverity.Severe, drift.GetWorstSeverity(s_canary, since));
        Assert.Equal(DriftSeverity.Severe, drift.GetWorstSeverity(s_stable, since));
        Assert.Equal(DriftSeverity.Stable, drift.GetRelativeSeverity(s_canary, s_stable, since));

        // Now only the canary's inputs move (e.g. it is routed a different population) - relative drift sees it.
        time.Advance(TimeSpan.FromHours(1));
        Traffic(monitor, s_stable, 3, amountShift: 0, scoreShift: 0);
        Traffic(monitor, s_canary, 4, amountShift: 0.5, scoreShift: 0);
        await monitor.CloseWindowsAsync();
        var latest = time.GetUtcNow() - TimeSpan.FromMinutes(1);
        Assert.Equal(DriftSeverity.Severe, drift.GetRelativeSeverity(s_canary, s_stable, latest));
        Assert.Equal(DriftSeverity.Severe, monitor.CompareVersions(s_canary, s_stable, latest)!.Find("amount", DriftStatisticNames.Psi)!.Severity);

        // No windows for a version: nothing to compare.
        Assert.Null(drift.GetRelativeSeverity(s_canary, new ModelKey("fraud", "9"), since));
    }
}
