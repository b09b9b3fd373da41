namespace AiOps.Monitoring.Alerts;

/// <summary>
/// Thresholds and <c>for</c> durations of the in-process alert rules, with defaults from the field: p95 latency above
/// 500 ms, success rate below 99.9 %, GPU busy above 85 % (hot) or below 30 % over a window (idle: a cost alert), GPU
/// memory above 90 %, drift severe (PSI &gt; 0.2) or moderate (0.1–0.2), accuracy moved more than 5 % from its baseline.
/// A condition must hold for the rule's <c>for</c> duration before the alert fires; it resolves at the first
/// evaluation where the condition no longer holds.
/// </summary>
public sealed class AlertRuleOptions
{
    /// <summary>Rule name: p95 latency above <see cref="LatencyP95Threshold"/>.</summary>
    public const string LatencyP95High = "latency_p95_high";

    /// <summary>Rule name: p95 latency above <see cref="LatencyP1Threshold"/> (graded P1).</summary>
    public const string LatencyP95Critical = "latency_p95_critical";

    /// <summary>Rule name: success rate below <see cref="SuccessRateThreshold"/>.</summary>
    public const string SuccessRateLow = "success_rate_low";

    /// <summary>Rule name: the model version cannot serve (graded P1).</summary>
    public const string ModelUnavailable = "model_unavailable";

    /// <summary>Rule name: accuracy moved from its baseline.</summary>
    public const string AccuracyChanged = "accuracy_changed";

    /// <summary>Rule name: input drift severe (PSI &gt; 0.2 by default).</summary>
    public const string DriftSevere = "drift_psi_severe";

    /// <summary>Rule name: input drift moderate (PSI 0.1–0.2 by default).</summary>
    public const string DriftModerate = "drift_psi_moderate";

    /// <summary>Rule name: GPU busy above <see cref="GpuHotThreshold"/> on average over <see cref="GpuWindow"/>.</summary>
    public const string GpuHot = "gpu_busy_hot";

    /// <summary>Rule name: GPU busy below <see cref="GpuIdleThreshold"/> on average over <see cref="GpuWindow"/> (cost).</summary>
    public const string GpuIdle = "gpu_idle";

    /// <summary>Rule name: GPU memory use above <see cref="GpuMemoryThreshold"/>.</summary>
    public const string GpuMemoryHigh = "gpu_memory_high";

    /// <summary>How often the rules are evaluated. Default 15 seconds.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The window latency and success rate are computed over. Default 5 minutes.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Fewest requests in <see cref="Window"/> before latency and success rules judge a version. Default 20.</summary>
    public int MinRequests { get; set; } = 20;

    /// <summary>p95 latency above which <see cref="LatencyP95High"/> fires. Default 500 ms.</summary>
    public TimeSpan LatencyP95Threshold { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary><c>for</c> duration of <see cref="LatencyP95High"/>. Default 5 minutes.</summary>
    public TimeSpan LatencyFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>p95 latency above which <see cref="LatencyP95Critical"/> fires and grades P1. Default 3 seconds.</summary>
    public TimeSpan LatencyP1Threshold { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary><c>for</c> duration of <see cref="LatencyP95Critical"/>. Default 1 minute.</summary>
    public TimeSpan LatencyP1For { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Success rate (0–1) below which <see cref="SuccessRateLow"/> fires. Default 0.999.</summary>
    public double SuccessRateThreshold { get; set; } = 0.999;

    /// <summary><c>for</c> duration of <see cref="SuccessRateLow"/>. Default 5 minutes.</summary>
    public TimeSpan SuccessRateFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>for</c> duration of <see cref="ModelUnavailable"/>. Default 1 minute.</summary>
    public TimeSpan UnavailableFor { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Accuracy change, in absolute points of the 0–1 scale (0.05 = 5 percentage points), from the baseline above which
    /// <see cref="AccuracyChanged"/> fires and grades P2. Default 0.05.
    /// </summary>
    public double AccuracyChangeThreshold { get; set; } = 0.05;

    /// <summary>Accuracy change at or above which <see cref="AccuracyChanged"/> grades P1 instead of P2. Default 0.10.</summary>
    public double AccuracyP1Change { get; set; } = 0.10;

    /// <summary><c>for</c> duration of <see cref="AccuracyChanged"/>. Default 15 minutes.</summary>
    public TimeSpan AccuracyFor { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The window accuracy is computed over. Default 1 hour.</summary>
    public TimeSpan AccuracyWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Baseline accuracy per model name (offline evaluation). A model without a baseline is not judged on accuracy.</summary>
    public IDictionary<string, double> AccuracyBaselines { get; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The window drift severity is taken over. Default 1 hour.</summary>
    public TimeSpan DriftWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>for</c> duration of <see cref="DriftSevere"/> and <see cref="DriftModerate"/>. Default zero (a closed window is already a judgement).</summary>
    public TimeSpan DriftFor { get; set; } = TimeSpan.Zero;

    /// <summary>The window GPU utilisation is averaged over. Default 10 minutes.</summary>
    public TimeSpan GpuWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Average GPU busy (0–1) above which <see cref="GpuHot"/> fires. Default 0.85.</summary>
    public double GpuHotThreshold { get; set; } = 0.85;

    /// <summary><c>for</c> duration of <see cref="GpuHot"/>. Default 5 minutes.</summary>
    public TimeSpan GpuHotFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Average GPU busy (0–1) below which <see cref="GpuIdle"/> fires. Default 0.30.</summary>
    public double GpuIdleThreshold { get; set; } = 0.30;

    /// <summary><c>for</c> duration of <see cref="GpuIdle"/>. Default 1 hour.</summary>
    public TimeSpan GpuIdleFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>GPU memory used / total (0–1) above which <see cref="GpuMemoryHigh"/> fires. Default 0.90.</summary>
    public double GpuMemoryThreshold { get; set; } = 0.90;

    /// <summary><c>for</c> duration of <see cref="GpuMemoryHigh"/>. Default 5 minutes.</summary>
    public TimeSpan GpuMemoryFor { get; set; } = TimeSpan.FromMinutes(5);
}
