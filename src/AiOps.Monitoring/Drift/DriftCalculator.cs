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
    /// statistics only: Wasserstein needs raw values and is skipped). A feature with fewer than
    /// <see cref="DriftOptions.MinimumSampleCount"/> non-missing values is graded
    /// <see cref="DriftSeverity.InsufficientData"/> (its values are still reported; NaN when it has none), never stable.
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
            }
            else if (feature.Count > 0)
            {
                // Too few values to judge: the statistics are reported, the verdict is "insufficient data".
                rows.AddRange(Evaluate(feature).Select(r => r with { Severity = DriftSeverity.InsufficientData }));
            }
            else
            {
                // Nothing but missing values (or none at all): one row per statistic, no value, insufficient data.
                var kinds = feature.Feature.Kind == FeatureKind.Numeric ? _options.NumericStatistics : _options.CategoricalStatistics;
                foreach (var name in BinnedNames(kinds))
                {
                    rows.Add(new FeatureDrift(feature.Feature.Name, name, double.NaN, DriftSeverity.InsufficientData) { SampleCount = 0 });
                }
            }
        }

        return new DriftResult(key, windowStart, windowEnd, rows);
    }

    /// <summary>Evaluates one feature's histogram against its reference counts with the binned statistics.</summary>
    /// <param name="current">The current histogram.</param>
    /// <exception cref="ArgumentException">The histogram is empty.</exception>
    public IReadOnlyList<FeatureDrift> Evaluate(FeatureHistogram current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var feature = current.Feature;
        var kinds = feature.Kind == FeatureKind.Numeric ? _options.NumericStatistics : _options.CategoricalStatistics;
        ReadOnlySpan<long> reference = feature.CountArray;
        var counts = current.Counts;
        var rows = new List<FeatureDrift>(4);

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

        return rows;
    }

    /// <summary>
    /// Compares raw numeric samples (offline, e.g. a day's data against the training set): bins come from the reference
    /// (<paramref name="binning"/>), KS and Wasserstein are exact. Each sample is copied without NaN and sorted once.
    /// When either sample has fewer than <see cref="DriftOptions.MinimumSampleCount"/> values, every row is graded
    /// <see cref="DriftSeverity.InsufficientData"/> (the values are still reported).
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
        return CompareSorted(feature, sortedReference, sortedCurrent, binning);
    }

    /// <summary>As <see cref="CompareSamples"/>, over samples already sorted ascending without NaN (nothing is copied or sorted).</summary>
    /// <param name="feature">The feature name.</param>
    /// <param name="sortedReference">The reference values, ascending.</param>
    /// <param name="sortedCurrent">The current values, ascending.</param>
    /// <param name="binning">Bin settings for the binned statistics.</param>
    /// <exception cref="ArgumentException">A sample is empty.</exception>
    public IReadOnlyList<FeatureDrift> CompareSorted(string feature, ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, ReferenceProfileOptions? binning = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(feature);
        var kinds = _options.NumericStatistics;
        var rows = new List<FeatureDrift>(5);
        KolmogorovSmirnovResult? exactKs = null;
        var binned = kinds & (DriftStatisticKinds.Psi | DriftStatisticKinds.JensenShannon | DriftStatisticKinds.Hellinger | DriftStatisticKinds.ChiSquare);
        if (binned != DriftStatisticKinds.None)
        {
            var profile = ReferenceProfileBuilder.Numeric(feature, sortedReference, binning);
            var histogram = new FeatureHistogram(profile);
            histogram.Add(sortedCurrent);
            // The binned statistics' test shares the significance level with the exact KS test (Bonferroni over both).
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
            return rows.Select(r => r with { Severity = DriftSeverity.InsufficientData }).ToList();
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
    /// chi-square) and the KS test (KS, Wasserstein). A feature is flagged when any statistic is, so each test runs at
    /// <see cref="DriftOptions.SignificanceLevel"/> divided by this (Bonferroni): the chance that a feature without
    /// drift is flagged stays at most the level, where two tests at the full level each flagged up to twice as often.
    /// </summary>
    private static int TestCount(DriftStatisticKinds kinds)
    {
        var tests = (kinds & (DriftStatisticKinds.Psi | DriftStatisticKinds.JensenShannon | DriftStatisticKinds.Hellinger | DriftStatisticKinds.ChiSquare)) != 0 ? 1 : 0;
        tests += (kinds & (DriftStatisticKinds.KolmogorovSmirnov | DriftStatisticKinds.Wasserstein)) != 0 ? 1 : 0;
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
    };

    private FeatureDrift Row(string feature, string statistic, double value, long count, double significance, double alpha) =>
        new(feature, statistic, value, Gate(_options.ThresholdsFor(statistic).Classify(value), significance, alpha)) { SampleCount = count };

    private FeatureDrift ChiSquareRow(string feature, ChiSquareResult chi, long count, double significance, double alpha) =>
        new(feature, DriftStatisticNames.ChiSquare, chi.Statistic, Gate(_options.ChiSquare.Classify(Math.Max(chi.EffectSize, chi.UnseenShare)), significance, alpha))
        {
            PValue = chi.PValue,
            SampleCount = count,
        };
}
