using AiOps.Monitoring.Capacity;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Capacity;

public sealed class CapacityTests
{
    [Fact]
    public void ReplicasForPeak_TenMillionCallsADayWithDiurnalPeak_WorkedExample()
    {
        // 10 M calls/day = 115.7 req/s on average; the busiest hour runs at 3x that = 347.2 req/s.
        var peak = CapacityPlanner.PeakRequestsPerSecond(10_000_000, peakFactor: 3);
        Assert.Equal(347.22, peak, 2);

        // Little's law: 347.2 req/s x 50 ms = 17.4 calls in flight.
        Assert.Equal(17.36, CapacityPlanner.ConcurrentRequests(peak, TimeSpan.FromMilliseconds(50)), 2);

        // 4 calls per replica at 75 % = 3 per replica -> ceil(5.79) = 6 replicas.
        Assert.Equal(6, CapacityPlanner.ReplicasForPeak(peak, TimeSpan.FromMilliseconds(50), concurrencyPerReplica: 4, targetUtilization: 0.75));

        // A 200 ms model at 70 % on single-slot replicas needs ceil(69.44 / 0.7) = 100.
        Assert.Equal(100, CapacityPlanner.ReplicasForPeak(peak, TimeSpan.FromMilliseconds(200), concurrencyPerReplica: 1, targetUtilization: 0.7));
    }

    [Fact]
    public void ReplicasForPeak_NoTraffic_StillOneReplica() =>
        Assert.Equal(1, CapacityPlanner.ReplicasForPeak(0, TimeSpan.FromMilliseconds(10), 1));

    [Theory]
    [InlineData(0.0, "targetUtilization")]
    [InlineData(1.5, "targetUtilization")]
    public void ReplicasForPeak_BadUtilization_ThrowsNamingParameter(double utilization, string parameter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CapacityPlanner.ReplicasForPeak(10, TimeSpan.FromMilliseconds(10), 1, utilization));

        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains("0.7-0.8", ex.Message);
    }

    [Fact]
    public void PeakRequestsPerSecond_PeakFactorBelowOne_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CapacityPlanner.PeakRequestsPerSecond(1000, 0.5));

    [Theory]
    [InlineData(4, 0.9, 0.7, 6)]   // ceil(4 x 0.9 / 0.7) = ceil(5.14) = 6
    [InlineData(5, 0.35, 0.7, 3)]  // ceil(2.5) = 3
    [InlineData(3, 0.7, 0.7, 3)]
    public void Desired_KubernetesFormula_Matches(int current, double metric, double target, int expected) =>
        Assert.Equal(expected, HpaRecommender.Desired(current, metric, target));

    [Fact]
    public void Recommend_ClampsToDefaultMinAndMax()
    {
        var hpa = new HpaRecommender(new HpaOptions(), new FakeTimeProvider());

        var up = hpa.Recommend(8, 2.0, 0.7);
        Assert.Equal(10, up.Replicas);
        Assert.Equal(23, up.Raw);
        Assert.Equal("clamped to max", up.Reason);

        var hpa2 = new HpaRecommender(new HpaOptions { StabilizationWindow = TimeSpan.Zero }, new FakeTimeProvider());
        var down = hpa2.Recommend(3, 0.05, 0.7);
        Assert.Equal(2, down.Replicas);
        Assert.Equal("clamped to min", down.Reason);
    }

    [Fact]
    public void Recommend_WithinTolerance_KeepsReplicas()
    {
        var hpa = new HpaRecommender(new HpaOptions(), new FakeTimeProvider());

        var r = hpa.Recommend(5, 0.75, 0.7);

        Assert.Equal(5, r.Replicas);
        Assert.Equal("within tolerance", r.Reason);
    }

    [Fact]
    public void Recommend_DipInsideStabilisationWindow_HoldsReplicasThenScalesDown()
    {
        var time = new FakeTimeProvider();
        var hpa = new HpaRecommender(new HpaOptions(), time);

        Assert.Equal(6, hpa.Recommend(4, 1.0, 0.7).Replicas);        // scale up immediately
        time.Advance(TimeSpan.FromMinutes(1));
        var dip = hpa.Recommend(6, 0.3, 0.7);                          // raw ceil(2.57) = 3
        Assert.Equal(3, dip.Raw);
        Assert.Equal(6, dip.Replicas);
        Assert.Equal("held by stabilisation window", dip.Reason);

        time.Advance(TimeSpan.FromMinutes(5));                          // the high recommendation left the window
        var later = hpa.Recommend(6, 0.3, 0.7);
        Assert.Equal(3, later.Replicas);
        Assert.Equal("scale down", later.Reason);
    }

    [Fact]
    public void Constructor_MaxBelowMin_ThrowsNamingSetting()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new HpaRecommender(new HpaOptions { MinReplicas = 5, MaxReplicas = 3 }, TimeProvider.System));

        Assert.StartsWith("HpaOptions.MaxReplicas is 3; expected at least HpaOptions.MinReplicas (5).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SloBurnRate_ErrorRateAgainstTarget_IsBudgetMultiple()
    {
        Assert.Equal(1, AiOps.Monitoring.SloBurnRate.Compute(0.001, 0.999), 9);
        Assert.Equal(20, AiOps.Monitoring.SloBurnRate.Compute(0.02, 0.999), 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => AiOps.Monitoring.SloBurnRate.Compute(0.1, 1));
    }
}
