namespace AiOps.Monitoring.Drift;

/// <summary>The drift statistics a feature is evaluated with (flags; see <see cref="DriftStatistics"/> for the formulas).</summary>
[Flags]
public enum DriftStatisticKinds
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>Population Stability Index (<c>psi</c>).</summary>
    Psi = 1,

    /// <summary>Two-sample Kolmogorov–Smirnov (<c>ks</c>): exact from samples, binned (a lower bound) from histograms.</summary>
    KolmogorovSmirnov = 2,

    /// <summary>Jensen–Shannon distance, base 2 (<c>jensen_shannon</c>).</summary>
    JensenShannon = 4,

    /// <summary>Hellinger distance (<c>hellinger</c>).</summary>
    Hellinger = 8,

    /// <summary>Wasserstein-1 distance over the reference standard deviation (<c>wasserstein</c>); needs raw samples, so streaming windows skip it.</summary>
    Wasserstein = 16,

    /// <summary>Chi-square goodness of fit (<c>chi_square</c>), for categorical features.</summary>
    ChiSquare = 32,

    /// <summary>
    /// The rise of the missing-value share (<c>missing_share</c>): current share − reference share of rows whose value is
    /// missing (NaN, null), with Fisher's exact one-sided test of "more are missing now". For numeric and categorical features.
    /// </summary>
    MissingShare = 64,
}

/// <summary>The statistic names used in <see cref="AiOps.Drift.FeatureDrift.Statistic"/> and the report.</summary>
public static class DriftStatisticNames
{
    /// <summary>Population Stability Index.</summary>
    public const string Psi = "psi";

    /// <summary>Kolmogorov–Smirnov D.</summary>
    public const string KolmogorovSmirnov = "ks";

    /// <summary>Jensen–Shannon distance.</summary>
    public const string JensenShannon = "jensen_shannon";

    /// <summary>Hellinger distance.</summary>
    public const string Hellinger = "hellinger";

    /// <summary>Normalised Wasserstein distance.</summary>
    public const string Wasserstein = "wasserstein";

    /// <summary>Chi-square statistic (severity from Cohen's w).</summary>
    public const string ChiSquare = "chi_square";

    /// <summary>Missing-value share, current − reference (a rise is positive).</summary>
    public const string MissingShare = "missing_share";
}

/// <summary>The moderate and severe thresholds of one statistic: value ≥ moderate is moderate, value &gt; severe is severe.</summary>
public sealed class DriftThresholds
{
    /// <summary>Creates thresholds.</summary>
    public DriftThresholds()
    {
    }

    /// <summary>Creates thresholds.</summary>
    /// <param name="moderate">The moderate threshold.</param>
    /// <param name="severe">The severe threshold.</param>
    public DriftThresholds(double moderate, double severe)
    {
        Moderate = moderate;
        Severe = severe;
    }

    /// <summary>Values at or above this are <see cref="AiOps.Drift.DriftSeverity.Moderate"/>.</summary>
    public double Moderate { get; set; } = 0.1;

    /// <summary>Values above this are <see cref="AiOps.Drift.DriftSeverity.Severe"/>.</summary>
    public double Severe { get; set; } = 0.2;

    /// <summary>The severity of <paramref name="value"/> (NaN is stable).</summary>
    /// <param name="value">The statistic's value.</param>
    public AiOps.Drift.DriftSeverity Classify(double value) =>
        value > Severe ? AiOps.Drift.DriftSeverity.Severe
        : value >= Moderate ? AiOps.Drift.DriftSeverity.Moderate
        : AiOps.Drift.DriftSeverity.Stable;
}

/// <summary>
/// Settings of drift detection (<c>services.AddAiOpsDrift(o =&gt; …)</c>). Defaults follow the field: PSI &lt; 0.1 stable,
/// 0.1–0.2 moderate, &gt; 0.2 severe; every severity comes from an effect size, never from a p-value, so large windows do
/// not flag every feature.
/// </summary>
public sealed class DriftOptions
{
    /// <summary>Whether the package's own health check is registered (default <see langword="true"/>); set <see langword="false"/> to leave it out.</summary>
    public bool EnableHealthCheck { get; set; } = true;

    /// <summary>The configuration section bound by <c>AddAiOpsDrift</c>: <c>AiOps:Monitoring:Drift</c>.</summary>
    public const string SectionName = "AiOps:Monitoring:Drift";

    /// <summary>The floor for empty-bin proportions in PSI and chi-square (default 1e-4, as Evidently). Must be in (0, 1).</summary>
    public double Epsilon { get; set; } = DriftStatistics.DefaultEpsilon;

    /// <summary>The statistics for numeric features (default PSI, KS, Jensen–Shannon, Wasserstein and missing share; streaming windows skip Wasserstein).</summary>
    public DriftStatisticKinds NumericStatistics { get; set; } =
        DriftStatisticKinds.Psi | DriftStatisticKinds.KolmogorovSmirnov | DriftStatisticKinds.JensenShannon | DriftStatisticKinds.Wasserstein | DriftStatisticKinds.MissingShare;

    /// <summary>The statistics for categorical features (default PSI, chi-square, Jensen–Shannon and missing share).</summary>
    public DriftStatisticKinds CategoricalStatistics { get; set; } =
        DriftStatisticKinds.Psi | DriftStatisticKinds.ChiSquare | DriftStatisticKinds.JensenShannon | DriftStatisticKinds.MissingShare;

    /// <summary>PSI thresholds (default 0.1 / 0.2).</summary>
    public DriftThresholds Psi { get; set; } = new(0.1, 0.2);

    /// <summary>KS statistic D thresholds (default 0.1 / 0.2).</summary>
    public DriftThresholds KolmogorovSmirnov { get; set; } = new(0.1, 0.2);

    /// <summary>Jensen–Shannon distance thresholds (default 0.1 / 0.2).</summary>
    public DriftThresholds JensenShannon { get; set; } = new(0.1, 0.2);

    /// <summary>Hellinger distance thresholds (default 0.1 / 0.2).</summary>
    public DriftThresholds Hellinger { get; set; } = new(0.1, 0.2);

    /// <summary>Normalised Wasserstein thresholds, in reference standard deviations (default 0.1 / 0.2).</summary>
    public DriftThresholds Wasserstein { get; set; } = new(0.1, 0.2);

    /// <summary>Chi-square thresholds on Cohen's w = √(χ²/n) (default 0.1 / 0.3: Cohen's small and medium effects).</summary>
    public DriftThresholds ChiSquare { get; set; } = new(0.1, 0.3);

    /// <summary>
    /// Missing-share thresholds on current − reference share of missing rows (default 0.05 / 0.2: moderate from 5 points
    /// more missing than the reference, severe above 20 points). Fewer missing values than the reference never drift.
    /// </summary>
    public DriftThresholds MissingShare { get; set; } = new(0.05, 0.2);

    /// <summary>The length of a tumbling time window (default 1 hour). Windows of every version close together on this period.</summary>
    public TimeSpan WindowDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Closes a version's window early once it holds this many rows (default 0: time windows only).</summary>
    public long WindowSize { get; set; }

    /// <summary>A feature with fewer non-missing values than this in a window is not evaluated (default 100), and
    /// <see cref="DriftCalculator.CompareSamples"/> grades samples smaller than this <see cref="AiOps.Drift.DriftSeverity.InsufficientData"/>.
    /// A window with no rows produces no result.</summary>
    public long MinimumSampleCount { get; set; } = 100;

    /// <summary>
    /// A statistic whose effect size crosses its moderate threshold is flagged only when its test is significant, and a
    /// feature without drift is flagged in at most about this share of windows (default 0.005; 1 turns the tests off).
    /// The tests: the two-sample chi-square test of the bins (sparse bins pooled, Cochran's rule of 5) for PSI,
    /// Jensen–Shannon, Hellinger and chi-square, the KS p-value for KS and Wasserstein, Fisher's exact one-sided test for
    /// the missing share; a feature judged by k of these runs each at 1/k of this level (Bonferroni), so the level bounds
    /// the feature's false-alarm rate, not each statistic's.
    /// The default is half the 1 % per-feature target, leaving room for the chi-square approximation, which runs up to
    /// ~1.1× nominal with cells of 5 to 10 expected values (measured: 0.1–0.5 % of 100-row windows without drift
    /// flagged per feature, with or without missing values at the reference's rate, see <c>FalseAlarmRateTests</c>). Small windows then do not flag sampling noise (100 rows
    /// against 10 bins give PSI ≈ 0.09 with no drift at all), while on large windows the effect size still decides.
    /// Must be in (0, 1].
    /// </summary>
    public double SignificanceLevel { get; set; } = 0.005;

    /// <summary>The closed windows kept per version for <see cref="Observation.IVersionDriftProvider"/> and the report (default 48).</summary>
    public int RetainedWindows { get; set; } = 48;

    /// <summary>The severity of a version's latest window at which the drift health check reports Degraded (default Severe).</summary>
    public AiOps.Drift.DriftSeverity HealthDegradedSeverity { get; set; } = AiOps.Drift.DriftSeverity.Severe;

    /// <summary>Whether closed windows raise <c>drift_psi_moderate</c> / <c>drift_psi_severe</c> alerts (default true).</summary>
    public bool PublishAlerts { get; set; } = true;

    /// <summary>Reference profiles per model version, registered at start-up (more can be set at run time with <see cref="IDriftMonitor.SetProfile(ModelKey, ReferenceProfile)"/>).</summary>
    public IDictionary<ModelKey, ReferenceProfile> Profiles { get; } = new Dictionary<ModelKey, ReferenceProfile>();

    /// <summary>Reference profiles per model, used by every version without its own profile.</summary>
    public IDictionary<ModelId, ReferenceProfile> ModelProfiles { get; } = new Dictionary<ModelId, ReferenceProfile>();

    /// <summary>The thresholds of a statistic by name.</summary>
    /// <param name="statistic">A name from <see cref="DriftStatisticNames"/>.</param>
    /// <exception cref="ArgumentException">Unknown statistic.</exception>
    public DriftThresholds ThresholdsFor(string statistic) => statistic switch
    {
        DriftStatisticNames.Psi => Psi,
        DriftStatisticNames.KolmogorovSmirnov => KolmogorovSmirnov,
        DriftStatisticNames.JensenShannon => JensenShannon,
        DriftStatisticNames.Hellinger => Hellinger,
        DriftStatisticNames.Wasserstein => Wasserstein,
        DriftStatisticNames.ChiSquare => ChiSquare,
        DriftStatisticNames.MissingShare => MissingShare,
        _ => throw new ArgumentException($"Unknown drift statistic '{statistic}'; expected one of psi, ks, jensen_shannon, hellinger, wasserstein, chi_square, missing_share.", nameof(statistic)),
    };
}
