using System.Globalization;

namespace AiOps.Monitoring.Capacity;

/// <summary>Settings of <see cref="HpaRecommender"/>, with Kubernetes' defaults.</summary>
public sealed class HpaOptions
{
    /// <summary>Fewest replicas. Default 2 (one can fail).</summary>
    public int MinReplicas { get; set; } = 2;

    /// <summary>Most replicas. Default 10.</summary>
    public int MaxReplicas { get; set; } = 10;

    /// <summary>A ratio within 1 ± this tolerance changes nothing. Default 0.1 (Kubernetes' default).</summary>
    public double Tolerance { get; set; } = 0.1;

    /// <summary>
    /// Scale-down stabilisation window: the recommendation is the highest raw recommendation seen over this window, so a
    /// brief dip does not remove replicas that are needed again a minute later. Default 5 minutes (Kubernetes' default).
    /// </summary>
    public TimeSpan StabilizationWindow { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>A scaling recommendation.</summary>
/// <param name="Replicas">The replica count to run.</param>
/// <param name="Raw">The formula's answer before clamping and stabilisation.</param>
/// <param name="Reason">Why: <c>within tolerance</c>, <c>scale up</c>, <c>scale down</c>, <c>held by stabilisation window</c>, <c>clamped to min</c>/<c>max</c>.</param>
public sealed record ScalingRecommendation(int Replicas, int Raw, string Reason);

/// <summary>
/// The Horizontal Pod Autoscaler's rule as a pure calculation: <c>desired = ceil(current × metric / target)</c>,
/// unchanged when the ratio is within the tolerance, clamped to [min, max], and, for scale-down, the highest
/// recommendation over the stabilisation window (scale-up is immediate). Time comes from the given
/// <see cref="TimeProvider"/>; not thread-safe (one recommender per scaled target).
/// </summary>
public sealed class HpaRecommender
{
    private readonly HpaOptions _options;
    private readonly TimeProvider _time;
    private readonly Queue<(DateTimeOffset At, int Replicas)> _history = new();

    /// <summary>Creates a recommender.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="time">The clock for the stabilisation window.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public HpaRecommender(HpaOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.MinReplicas < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MinReplicas, $"HpaOptions.MinReplicas is {options.MinReplicas}; expected 1 or more.");
        }

        if (options.MaxReplicas < options.MinReplicas)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxReplicas, $"HpaOptions.MaxReplicas is {options.MaxReplicas}; expected at least HpaOptions.MinReplicas ({options.MinReplicas}).");
        }

        if (!double.IsFinite(options.Tolerance) || options.Tolerance is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, string.Create(CultureInfo.InvariantCulture, $"HpaOptions.Tolerance is {options.Tolerance}; expected at least 0 and below 1."));
        }

        if (options.StabilizationWindow < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StabilizationWindow, $"HpaOptions.StabilizationWindow is {options.StabilizationWindow}; expected 0 or more.");
        }

        _options = options;
        _time = time;
    }

    /// <summary>The formula alone: <c>ceil(current × metric / target)</c>.</summary>
    /// <param name="currentReplicas">Replicas running now.</param>
    /// <param name="currentMetric">The metric's current average per replica (e.g. GPU busy 0.9, or 120 req/s).</param>
    /// <param name="targetMetric">The metric's target per replica (e.g. 0.7).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static int Desired(int currentReplicas, double currentMetric, double targetMetric)
    {
        if (currentReplicas < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(currentReplicas), currentReplicas, "Expected zero or more current replicas.");
        }

        if (!double.IsFinite(currentMetric) || currentMetric < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(currentMetric), currentMetric, "Expected a current metric value of zero or more.");
        }

        if (!double.IsFinite(targetMetric) || targetMetric <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(targetMetric), targetMetric, "Expected a target metric value above zero.");
        }

        return (int)Math.Ceiling(Math.Round(currentReplicas * currentMetric / targetMetric, 9));
    }

    /// <summary>Recommends a replica count now.</summary>
    /// <param name="currentReplicas">Replicas running now.</param>
    /// <param name="currentMetric">The metric's current average per replica.</param>
    /// <param name="targetMetric">The metric's target per replica.</param>
    public ScalingRecommendation Recommend(int currentReplicas, double currentMetric, double targetMetric)
    {
        var raw = Desired(currentReplicas, currentMetric, targetMetric);
        var ratio = currentReplicas == 0 ? double.PositiveInfinity : currentMetric / targetMetric;
        var reason = Math.Abs(ratio - 1) <= _options.Tolerance ? "within tolerance" : raw > currentReplicas ? "scale up" : raw < currentReplicas ? "scale down" : "within tolerance";
        var proposal = reason == "within tolerance" ? currentReplicas : raw;
        var clamped = Math.Clamp(proposal, _options.MinReplicas, _options.MaxReplicas);
        if (clamped != proposal)
        {
            reason = clamped == _options.MinReplicas ? "clamped to min" : "clamped to max";
        }

        var now = _time.GetUtcNow();
        _history.Enqueue((now, clamped));
        while (_history.Count > 0 && _history.Peek().At < now - _options.StabilizationWindow)
        {
            _history.Dequeue();
        }

        var stabilised = clamped;
        if (clamped < currentReplicas)
        {
            foreach (var (_, replicas) in _history)
            {
                stabilised = Math.Max(stabilised, replicas);
            }

            stabilised = Math.Min(stabilised, Math.Max(currentReplicas, _options.MinReplicas));
            if (stabilised != clamped)
            {
                reason = "held by stabilisation window";
            }
        }

        return new ScalingRecommendation(stabilised, raw, reason);
    }
}
