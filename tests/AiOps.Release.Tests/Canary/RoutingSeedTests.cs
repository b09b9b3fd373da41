using AiOps.Release.Tests.Infrastructure;
using AiOps.Routing;

namespace AiOps.Release.Tests.Canary;

/// <summary>Each release samples its own canary users; within one rollout a user keeps its side at every step.</summary>
public sealed class RoutingSeedTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static HashSet<int> CanaryUsers(ReleaseHarness h) =>
        [.. Enumerable.Range(0, 20_000).Where(i => h.Monitor.Get(Fraud).Router.Route("user-" + i).Reason == RouteReason.CanaryWeight)];

    private static async Task<(HashSet<int> First, HashSet<int> Second)> TwoReleasesAsync(ReleaseHarness h)
    {
        h.Catalog.Add(ReleaseHarness.Model, "3", 3f);
        await h.Manager.StartAsync(Fraud, "2");
        var first = CanaryUsers(h);
        await h.Manager.AbortAsync(Fraud, "ops", "next release");
        await h.Manager.StartAsync(Fraud, "3");
        return (first, CanaryUsers(h));
    }

    [Fact]
    public async Task DefaultSeed_DifferentReleasesSampleDifferentUsers()
    {
        await using var h = new ReleaseHarness(_dir.Path);

        var (first, second) = await TwoReleasesAsync(h);

        // 10 % each; independent samples share ~10 % of their users (1 % of all), the same seed would share all of them.
        Assert.InRange(first.Count, 1800, 2200);
        Assert.InRange(second.Count, 1800, 2200);
        var shared = first.Intersect(second).Count() / (double)first.Count;
        Assert.InRange(shared, 0.05, 0.16);
    }

    [Fact]
    public async Task FixedSeed_ReleasesShareTheirCanaryUsers()
    {
        await using var h = new ReleaseHarness(_dir.Path, model: o => o.RoutingSeed = "beta-testers");

        var (first, second) = await TwoReleasesAsync(h);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task WithinARollout_UsersOfEarlierStepsStayOnTheCanary()
    {
        await using var h = new ReleaseHarness(_dir.Path);
        await h.Manager.StartAsync(Fraud, "2");
        var at10 = CanaryUsers(h);

        var state = await h.Manager.SkipStepAsync(Fraud, "ops", "faster");
        Assert.Equal(50, state.CanaryWeightPercent);
        var at50 = CanaryUsers(h);

        Assert.Subset(at50, at10);
        Assert.InRange(at50.Count, 9500, 10500);
    }
}
