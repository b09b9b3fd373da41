namespace AiOps.Monitoring.Capacity;

/// <summary>
/// Capacity arithmetic for sizing model replicas before launch, as pure functions.
/// </summary>
/// <example>
/// 10 million calls a day with a diurnal peak 3× the daily average, 50 ms per call, 4 concurrent calls per replica,
/// 75 % target utilisation:
/// <code>
/// var peak = CapacityPlanner.PeakRequestsPerSecond(10_000_000, peakFactor: 3);            // 347.2 req/s
/// var replicas = CapacityPlanner.ReplicasForPeak(peak, TimeSpan.FromMilliseconds(50), 4, 0.75); // 6
/// </code>
/// </example>
public static class CapacityPlanner
{
    /// <summary>Seconds in a day.</summary>
    public const double SecondsPerDay = 86_400;

    /// <summary>The average request rate of <paramref name="callsPerDay"/> spread evenly over a day.</summary>
    /// <param name="callsPerDay">Calls per day.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="callsPerDay"/> is negative or not finite.</exception>
    public static double AverageRequestsPerSecond(double callsPerDay)
    {
        NonNegative(callsPerDay, nameof(callsPerDay), "a number of calls per day of zero or more");
        return callsPerDay / SecondsPerDay;
    }

    /// <summary>The peak request rate: the daily average times the diurnal peak factor (peak hour rate / average rate).</summary>
    /// <param name="callsPerDay">Calls per day.</param>
    /// <param name="peakFactor">Peak rate over average rate, at least 1 (2–4 is common for user-facing traffic).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static double PeakRequestsPerSecond(double callsPerDay, double peakFactor)
    {
        if (!double.IsFinite(peakFactor) || peakFactor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(peakFactor), peakFactor, "Expected a peak factor of at least 1 (peak rate / average rate).");
        }

        return AverageRequestsPerSecond(callsPerDay) * peakFactor;
    }

    /// <summary>
    /// Calls in flight at a rate and latency, by Little's law: <c>L = λ × W</c>.
    /// </summary>
    /// <param name="requestsPerSecond">The arrival rate λ.</param>
    /// <param name="latency">The time each call spends in the system W.</param>
    public static double ConcurrentRequests(double requestsPerSecond, TimeSpan latency)
    {
        NonNegative(requestsPerSecond, nameof(requestsPerSecond), "a request rate of zero or more");
        if (latency <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(latency), latency, "Expected a per-request latency above zero.");
        }

        return requestsPerSecond * latency.TotalSeconds;
    }

    /// <summary>
    /// Replicas needed to serve a peak rate: <c>ceil(λ × W / (concurrency × utilisation))</c>, at least 1. Each replica
    /// serves <paramref name="concurrencyPerReplica"/> calls at once and is planned to run at
    /// <paramref name="targetUtilization"/> of that (70–80 % leaves headroom for bursts and a replica failing).
    /// </summary>
    /// <param name="peakRequestsPerSecond">The peak arrival rate.</param>
    /// <param name="latency">Per-request latency at the planned load.</param>
    /// <param name="concurrencyPerReplica">Calls one replica serves at once (its batch slots or worker count).</param>
    /// <param name="targetUtilization">Planned busy share of each replica, above 0 and at most 1 (0.7–0.8 recommended).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static int ReplicasForPeak(double peakRequestsPerSecond, TimeSpan latency, int concurrencyPerReplica, double targetUtilization = 0.75)
    {
        if (concurrencyPerReplica < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(concurrencyPerReplica), concurrencyPerReplica, "Expected at least 1 concurrent call per replica.");
        }

        if (!double.IsFinite(targetUtilization) || targetUtilization <= 0 || targetUtilization > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(targetUtilization), targetUtilization, "Expected a target utilisation above 0 and at most 1 (0.7-0.8 recommended).");
        }

        var inFlight = ConcurrentRequests(peakRequestsPerSecond, latency);
        var replicas = Math.Ceiling(Math.Round(inFlight / (concurrencyPerReplica * targetUtilization), 9));
        return (int)Math.Max(1, replicas);
    }

    private static void NonNegative(double value, string name, string expected)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"Expected {expected}.");
        }
    }
}
