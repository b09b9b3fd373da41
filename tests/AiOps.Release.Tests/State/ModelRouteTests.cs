using AiOps.Release.Canary;
using AiOps.Release.State;

namespace AiOps.Release.Tests.State;

public sealed class ModelRouteTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Apply_ReadStartedBeforeANewerFailedRead_KeepsTheStoreMarkedUnreachable()
    {
        var route = new ModelRoute(new ModelId("fraud"), null, null!);
        var older = route.BeginRead();
        var newer = route.BeginRead();

        route.RecordFailure(new IOException("down"), T0, newer);
        route.Apply(new RouteTable(new ModelVersion("1"), null, 0, 3), null, T0.AddSeconds(1), older);

        Assert.Equal(T0, route.FailingSince);
        Assert.Contains("down", route.LastError, StringComparison.Ordinal);
        Assert.Equal(new ModelVersion("1"), route.Router.Table.Stable); // the data it read still moves the table forward
    }

    [Fact]
    public void RecordFailure_ReadStartedBeforeANewerGoodRead_IsIgnored()
    {
        var route = new ModelRoute(new ModelId("fraud"), null, null!);
        var older = route.BeginRead();
        var newer = route.BeginRead();

        route.Apply(new RouteTable(new ModelVersion("1"), null, 0, 3), null, T0, newer);
        var first = route.RecordFailure(new IOException("stale"), T0.AddSeconds(1), older);

        Assert.False(first);
        Assert.Null(route.FailingSince);
        Assert.Null(route.LastError);
    }

    [Fact]
    public void Apply_AfterFailureByALaterRead_ClearsTheFailure()
    {
        var route = new ModelRoute(new ModelId("fraud"), null, null!);
        route.RecordFailure(new IOException("down"), T0, route.BeginRead());
        route.Apply(new RouteTable(new ModelVersion("1"), null, 0, 3), null, T0.AddSeconds(5), route.BeginRead());

        Assert.Null(route.FailingSince);
        Assert.Equal(T0.AddSeconds(5), route.LastRefreshAt);
    }
}
