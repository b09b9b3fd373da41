using AiOps.Release.Canary;
using AiOps.Routing;

namespace AiOps.Release.Tests.Canary;

public sealed class StickyRoutingTests
{
    private static readonly ModelId Fraud = new("fraud");

    private static CanaryRouter Router(double weight)
    {
        var router = new CanaryRouter(Fraud);
        router.Update(new RouteTable("1", "2", StickyHash.ToBuckets(weight), 1));
        return router;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(90)]
    public void Route_100000Keys_CanaryShareWithinOnePercentOfWeight(double weight)
    {
        var router = Router(weight);
        var canary = 0;
        for (var i = 0; i < 100_000; i++)
        {
            if (router.Route("user-" + i).Reason == RouteReason.CanaryWeight)
            {
                canary++;
            }
        }

        Assert.InRange(canary / 1000.0, weight - 1, weight + 1);
    }

    [Fact]
    public void Route_SameKeyOnAnotherReplica_SameVersion()
    {
        var a = Router(30);
        var b = Router(30); // another process: nothing shared but the algorithm
        for (var i = 0; i < 10_000; i++)
        {
            var key = $"account-{i * 7919}";
            Assert.Equal(a.Route(key).Version, b.Route(key).Version);
            Assert.Equal(a.Route(key).Version, a.Route(key).Version);
        }
    }

    [Fact]
    public void Route_WeightRaised_NoUserMovesBackToStable()
    {
        var router = Router(10);
        var onCanary = Enumerable.Range(0, 20_000).Select(i => "u" + i).Where(k => router.Route(k).Reason == RouteReason.CanaryWeight).ToList();
        router.Update(new RouteTable("1", "2", StickyHash.ToBuckets(50), 2));

        Assert.NotEmpty(onCanary);
        Assert.All(onCanary, k => Assert.Equal(RouteReason.CanaryWeight, router.Route(k).Reason));
    }

    [Fact]
    public void Route_PinnedVersion_OverridesWeights()
    {
        var router = Router(0);
        var d = router.Route("user-1", "2");
        Assert.Equal(new RoutingDecision("2", RouteReason.Override), d);
    }

    [Fact]
    public void Route_NoCanary_StableWithStableReason()
    {
        var router = new CanaryRouter(Fraud);
        router.Update(new RouteTable("1", null, 0, 1));
        Assert.Equal(new RoutingDecision("1", RouteReason.Stable), router.Route("anyone"));
    }

    [Fact]
    public void Route_NoStableKnown_ThrowsModelNotFoundNamingTheSettings()
    {
        var ex = Assert.Throws<ModelNotFoundException>(() => new CanaryRouter(Fraud).Route("x"));
        Assert.Contains("StableVersion", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Update_OlderRevision_Ignored()
    {
        var router = Router(50);
        Assert.False(router.Update(new RouteTable("1", "2", 0, 0)));
        Assert.Equal(50, router.Table.CanaryWeightPercent);
    }

    [Fact]
    public void Hash_IsStableAcrossProcessesAndSeededByModel()
    {
        // Pinned values: if these change, users would jump versions after an upgrade.
        Assert.Equal(StickyHash.Hash("user-42", StickyHash.SeedFor(Fraud)), StickyHash.Hash("user-42".AsSpan(), StickyHash.SeedFor(new ModelId("fraud"))));
        Assert.Equal(11787383432861261453UL, StickyHash.Hash("user-42", 0));
        Assert.NotEqual(StickyHash.Hash("user-42", StickyHash.SeedFor(Fraud)), StickyHash.Hash("user-42", StickyHash.SeedFor(new ModelId("churn"))));
    }

    [Fact]
    public void Route_Allocates_Nothing()
    {
        var router = Router(50);
        router.Route("warm-up");
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            router.Route("user-123456");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
