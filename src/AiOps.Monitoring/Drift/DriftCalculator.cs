using AiOps.Drift;

namespace AiOps.Monitoring.Drift;

/// <summary>
/// Turns a window of production data into per-feature drift statistics with severities, using the statistics and
/// thresholds of <see cref="DriftOptions"/>. Stateless and thread-safe.
/// </summary>
public sealed class DriftCalculator
{
    private readonly DriftOptions _options;

    /// <summary>Creates a calculator.</summary>
    /// <param name="options">The statistics, thresholds and epsilon; <see langword="null"/> for the defaults.</param>
    public DriftCalculator(DriftOptions? options = null)
    {
        _options = options ?? new DriftOptions();
    }

    /// <summary>
    /// Evaluates one closed window: every feature gets one <see cref="FeatureDrift"/> per configured statistic (binned
    /// statistics and the missing share: Wasserstein needs raw values and is skipped). A feature with fewer than
    /// <see cref="DriftOptions.MinimumSampleCount"/> non-missing values has its distribution statistics graded
    /// <see cref="DriftSeverity.InsufficientData"/> (their values are still reported; NaN when it has none), never stable.
    /// Its <c>missing_share</c> row is judged on all the feature's rows, missing ones included: a window whose values
    /// are all (or mostly) missing is a missing-share drift, not "insufficient", once it holds that many rows; with
    /// fewer rows than that in all, it too is insufficient data.
    /// </summary>
    /// <param name="key">The model version.</param>
    /// <param name="windowStart">When the window opened.</param>
    /// <param name="windowEnd">When it closed.</param>
    /// <param name="window">The window's counts.</param>
    public DriftResult Evaluate(ModelKey key, DateTimeOffset windowStart, DateTimeOffset windowEnd, ProfileHistogram window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var rows = new List<FeatureDrift>();
        var minimum = Math.Max(1, _options.MinimumSampleCount);
        foreach (var feature in window.Features)
        {
            if (feature.Count >= minimum)
            {
                rows.AddRange(Evaluate(feature));
                continue;
            }

            // Too few values to judge the distribution: its statistics are reported, the verdict is "insufficient data";
            // the missing share is judged on every row of the window (an all-missing window is the clearest outage).
            var rowsJudged = feature.Count + feature.NaNCount >= minimum;
            var judged = feature.Count + feature.NaNCount > 0 ? Evaluate(feature) : NoValues(feature);
            rows.AddRange(judged.Select(r =>
                r.Statistic == DriftStatisticNames.MissingShare && rowsJudged ? r : r with { Severity = DriftSeverity.InsufficientData }));
        }

        return new DriftResult(key, windowStart, windowEnd, rows);
    }

    /// <summary>
    /// Evaluates one feature's histogram against its reference counts with the binned statistics and, when configured,
    /// the missing share (current <see cref="FeatureHistogram.NaNCount"/> against the reference's
    /// <see cref="FeatureProfile.MissingCount"/>; a profile built without missing counts reads as 0 % missing).
    /// A histogram of nothing but missing values gets its distribution rows with NaN values, graded
    /// <see cref="DriftSeverity.InsufficientData"/>, and a judged missing-share row.
    /// </summary>
    /// <param name="current">The current histogram.</param>
    /// <exception cref="ArgumentException">The histogram holds no rows at all (no values, none missing).</exception>
    public IReadOnlyList<FeatureDrift> Evaluate(FeatureHistogram current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var feature = current.Feature;
        var kinds = KindsOf(feature);
        if (current.Count == 0 && current.NaNCount > 0)
        {
            return NoValues(current);
        }

        ReadOnlySpan<long> reference = feature.CountArray;
        var counts = current.Counts;
        var rows = new List<FeatureDrift>(5);

        // One significance test for every binned statistic: is the difference of the bins more than sampling noise?
        // Sparse bins are pooled first (Cochran), and the feature's tests share the significance level (Bonferroni).
        var binnedP = DriftStatistics.PooledHomogeneityPValue(reference, counts);
        var alpha = _options.SignificanceLevel / TestCount(kinds);
        if (kinds.HasFlag(DriftStatisticKinds.Psi))
        {
            rows.Add(Row(feature.Name, DriftStatisticNames.Psi, DriftStatistics.Psi(reference, counts, _options.Epsilon), current.Count, binnedP, alpha));
        }

        if (kinds.HasFlag(DriftStatisticKinds.KolmogorovSmirnov))
        {
            var ks = DriftStatistics.KolmogorovSmirnovBinned(reference, counts);
            rows.Add(Row(feature.Name, DriftStatisticNames.KolmogorovSmirnov, ks.Statistic, current.Count, ks.PValue, alpha) with { PValue = ks.PValue });
        }

        if (kinds.HasFlag(DriftStatisticKinds.JensenShannon))
        {
            rows.Add(Row(feature.Name, DriftStatisticNames.JensenShannon, DriftStatistics.JensenShannonDistance(reference, counts), current.Count, binnedP, alpha));
        }

        if (kinds.HasFlag(DriftStatisticKinds.Hellinger))
        {
            rows.Add(Row(feature.Name, DriftStatisticNames.Hellinger, DriftStatistics.Hellinger(reference, counts), current.Count, binnedP, alpha));
        }

        if (kinds.HasFlag(DriftStatisticKinds.ChiSquare))
        {
            rows.Add(ChiSquareRow(feature.Name, DriftStatistics.ChiSquare(reference, counts, _options.Epsilon), current.Count, binnedP, alpha));
        }

        if (kinds.HasFlag(DriftStatisticKinds.MissingShare))
        {
            rows.Add(MissingShareRow(current, alpha));
        }

        return rows;
    }

    /// <summary>
    /// Compares raw numeric samples (offline, e.g. a day's data against the training set): bins come from the reference
    /// (<paramref name="binning"/>), KS and Wasserstein are exact, and the missing share compares the NaN share of the
    /// two samples. Each sample is copied without NaN and sorted once. When either sample has fewer than
    /// <see cref="DriftOptions.MinimumSampleCount"/> values, every distribution row is graded
    /// <see cref="DriftSeverity.InsufficientData"/> (the values are still reported); the missing-share row is judged
    /// when both samples hold that many values, NaN included.
    /// </summary>
    /// <param name="feature">The feature name.</param>
    /// <param name="reference">The reference values.</param>
    /// <param name="current">The current values.</param>
    /// <param name="binning">Bin settings for the binned statistics; <see langword="null"/> for 10 quantile bins.</param>
    /// <exception cref="ArgumentException">A sample has no non-NaN values.</exception>
    public IReadOnlyList<FeatureDrift> CompareSamples(string feature, ReadOnlySpan<double> reference, ReadOnlySpan<double> current, ReferenceProfileOptions? binning = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(feature);
        var sortedCurrent = DriftStatistics.SortedWithoutNaN(current, nameof(current));
        var sortedReference = DriftStatistics.SortedWithoutNaN(reference, nameof(reference));
        return Compare(feature, sortedReference, sortedCurrent, binning, (reference.Length - sortedReference.Length, reference.Length, current.Length - sortedCurrent.Length, current.Length));
    }

    /// <summary>
    /// As <see cref="CompareSamples"/>, over samples already sorted ascending without NaN (nothing is copied or sorted).
    /// The samples hold no missing values, so <c>missing_share</c> is not computed here.
    /// </summary>
    /// <param name="feature">The feature name.</param>
    /// <param name="sortedReference">The reference values, ascending.</param>
    /// <param name="sortedCurrent">The current values, ascending.</param>
    /// <param name="binning">Bin settings for the binned statistics.</param>
    /// <exception cref="ArgumentException">A sample is empty.</exception>
    public IReadOnlyList<FeatureDrift> CompareSorted(string feature, ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, ReferenceProfileOptions? binning = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(feature);
        return Compare(feature, sortedReference, sortedCurrent, binning, null);
    }

    private List<FeatureDrift> Compare(
        string feature,
        ReadOnlySpan<double> sortedReference,
        ReadOnlySpan<double> sortedCurrent,
        ReferenceProfileOptions? binning,
        (long RefMissing, long RefRows, long CurMissing, long CurRows)? missing)
    {
        var kinds = missing is null ? _options.NumericStatistics & ~DriftStatisticKinds.MissingShare : _options.NumericStatistics;
        var rows = new List<FeatureDrift>(6);
        KolmogorovSmirnovResult? exactKs = null;
        var binned = kinds & (DriftStatisticKinds.Psi | DriftStatisticKinds.JensenShannon | DriftStatisticKinds.Hellinger | DriftStatisticKinds.ChiSquare);
        if (binned != DriftStatisticKinds.None)
        {
            var profile = ReferenceProfileBuilder.Numeric(feature, sortedReference, binning);
            var histogram = new FeatureHistogram(profile);
            histogram.Add(sortedCurrent);
            // The binned statistics' test shares the significance level with the other tests (Bonferroni over all).
            var binnedOnly = new DriftCalculator(CopyWith(binned, _options.SignificanceLevel >= 1 ? 1 : _options.SignificanceLevel * TestCount(binned) / TestCount(kinds)));
            rows.AddRange(binnedOnly.Evaluate(histogram));
        }

        var alpha = _options.SignificanceLevel / TestCount(kinds);
        if (kinds.HasFlag(DriftStatisticKinds.KolmogorovSmirnov))
        {
            var ks = DriftStatistics.KolmogorovSmirnovSorted(sortedReference, sortedCurrent);
            exactKs = ks;
            rows.Add(Row(feature, DriftStatisticNames.KolmogorovSmirnov, ks.Statistic, sortedCurrent.Length, ks.PValue, alpha) with { PValue = ks.PValue });
        }

        if (kinds.HasFlag(DriftStatisticKinds.Wasserstein))
        {
            var p = (exactKs ?? DriftStatistics.KolmogorovSmirnovSorted(sortedReference, sortedCurrent)).PValue;
            rows.Add(Row(feature, DriftStatisticNames.Wasserstein, DriftStatistics.NormalizedWassersteinSorted(sortedReference, sortedCurrent), sortedCurrent.Length, p, alpha));
        }

        // Too few values on either side to judge: the statistics are reported, the verdict is "insufficient data".
        var minimum = Math.Max(1, _options.MinimumSampleCount);
        if (sortedReference.Length < minimum || sortedCurrent.Length < minimum)
        {
            rows = rows.Select(r => r with { Severity = DriftSeverity.InsufficientData }).ToList();
        }

        if (missing is { } m && kinds.HasFlag(DriftStatisticKinds.MissingShare))
        {
            var row = MissingShareRow(feature, m.RefMissing, m.RefRows, m.CurMissing, m.CurRows, alpha);
            rows.Add(m.RefRows < minimum || m.CurRows < minimum ? row with { Severity = DriftSeverity.InsufficientData } : row);
        }

        return rows;
    }

    private static IEnumerable<string> BinnedNames(DriftStatisticKinds kinds)
    {
        if (kinds.HasFlag(DriftStatisticKinds.Psi))
        {
            yield return DriftStatisticNames.Psi;
        }

        if (kinds.HasFlag(DriftStatisticKinds.KolmogorovSmirnov))
        {
            yield return DriftStatisticNames.KolmogorovSmirnov;
        }

        if (kinds.HasFlag(DriftStatisticKinds.JensenShannon))
        {
            yield return DriftStatisticNames.JensenShannon;
        }

        if (kinds.HasFlag(DriftStatisticKinds.Hellinger))
        {
            yield return DriftStatisticNames.Hellinger;
        }

        if (kinds.HasFlag(DriftStatisticKinds.ChiSquare))
        {
            yield return DriftStatisticNames.ChiSquare;
        }
    }

    /// <summary>
    /// The distinct significance tests a feature's verdict rests on: the bins' homogeneity test (PSI, JS, Hellinger,
    /// chi-square), the KS test (KS, Wasserstein) and the missing share's Fisher test. A feature is flagged when any statistic is, so each test runs at
    /// <see cref="DriftOptions.SignificanceLevel"/> divided by this (Bonferroni): the chance that a feature without
    /// drift is flagged stays at most the level, where two tests at the full level each flagged up to twice as often.
    /// </summary>
    private static int TestCount(DriftStatisticKinds kinds)
    {
        var tests = (kinds & (DriftStatisticKinds.Psi | DriftStatisticKinds.JensenShannon | DriftStatisticKinds.Hellinger | DriftStatisticKinds.ChiSquare)) != 0 ? 1 : 0;
        tests += (kinds & (DriftStatisticKinds.KolmogorovSmirnov | DriftStatisticKinds.Wasserstein)) != 0 ? 1 : 0;
        tests += (kinds & DriftStatisticKinds.MissingShare) != 0 ? 1 : 0;
        return Math.Max(tests, 1);
    }

    /// <summary>An effect size above a threshold counts only when its test says it is more than noise at <paramref name="alpha"/>.</summary>
    private DriftSeverity Gate(DriftSeverity severity, double pValue, double alpha) =>
        severity > DriftSeverity.Stable && _options.SignificanceLevel < 1 && !(pValue < alpha) ? DriftSeverity.Stable : severity;

    private DriftOptions CopyWith(DriftStatisticKinds numeric, double significanceLevel) => new()
    {
        Epsilon = _options.Epsilon,
        SignificanceLevel = significanceLevel,
        NumericStatistics = numeric,
        Psi = _options.Psi,
        JensenShannon = _options.JensenShannon,
        Hellinger = _options.Hellinger,
        ChiSquare = _options.ChiSquare,
        MissingShare = _options.MissingShare,
    };

    /// <summary>
    /// The rows of a histogram without values: one per distribution statistic with no value, insufficient data, and
    /// the missing share (judged when the histogram has missing rows).
    /// </summary>
    private List<FeatureDrift> NoValues(FeatureHistogram current)
    {
        var kinds = KindsOf(current.Feature);
        var rows = BinnedNames(kinds)
            .Select(name => new FeatureDrift(current.Feature.Name, name, double.NaN, DriftSeverity.InsufficientData) { SampleCount = 0 })
            .ToList();
        if (kinds.HasFlag(DriftStatisticKinds.MissingShare))
        {
            rows.Add(MissingShareRow(current, _options.SignificanceLevel / TestCount(kinds)));
        }

        return rows;
    }

    private DriftStatisticKinds KindsOf(FeatureProfile feature) =>
        feature.Kind == FeatureKind.Numeric ? _options.NumericStatistics : _options.CategoricalStatistics;

    /// <summary>The missing-share row of a histogram: every row counts (missing ones included) on both sides.</summary>
    private FeatureDrift MissingShareRow(FeatureHistogram current, double alpha)
    {
        var feature = current.Feature;
        var rows = current.Count + current.NaNCount;
        var referenceRows = feature.ReferenceCount + feature.MissingCount;
        return MissingShareRow(feature.Name, feature.MissingCount, referenceRows, current.NaNCount, rows, alpha);
    }

    private FeatureDrift MissingShareRow(string feature, long referenceMissing, long referenceRows, long currentMissing, long currentRows, double alpha)
    {
        if (referenceRows == 0 || currentRows == 0)
        {
            return new FeatureDrift(feature, DriftStatisticNames.MissingShare, double.NaN, DriftSeverity.InsufficientData) { SampleCount = currentRows };
        }

        var (value, p) = DriftStatistics.MissingShare(referenceMissing, referenceRows, currentMissing, currentRows);
        return Row(feature, DriftStatisticNames.MissingShare, value, currentRows, p, alpha) with { PValue = p };
    }

    private FeatureDrift Row(string feature, string statistic, double value, long count, double significance, double alpha) =>
        new(feature, statistic, value, Gate(_options.ThresholdsFor(statistic).Classify(value), significance, alpha)) { SampleCount = count };

    private FeatureDrift ChiSquareRow(string feature, ChiSquareResult chi, long count, double significance, double alpha) =>
        new(feature, DriftStatisticNames.ChiSquare, chi.Statistic, Gate(_options.ChiSquare.Classify(Math.Max(chi.EffectSize, chi.UnseenShare)), significance, alpha))
        {
            PValue = chi.PValue,
            SampleCount = count,
        };
}
