using AiOps.Monitoring.Internal;
using MathNet.Numerics;

namespace AiOps.Monitoring.Drift;

/// <summary>The result of a two-sample Kolmogorov–Smirnov test.</summary>
/// <param name="Statistic">D = sup |F_ref(x) − F_cur(x)|, between 0 and 1.</param>
/// <param name="PValue">P(D ≥ Statistic) under the null hypothesis, exact for samples of up to 10,000 values (see
/// <see cref="DriftStatistics.KolmogorovSmirnovPValue(double, long, long, KolmogorovSmirnovMethod)"/>).</param>
public readonly record struct KolmogorovSmirnovResult(double Statistic, double PValue);

/// <summary>The result of a chi-square goodness-of-fit test of current counts against reference proportions.</summary>
/// <param name="Statistic">χ² = Σ (Oᵢ − Eᵢ)² / Eᵢ.</param>
/// <param name="DegreesOfFreedom">The buckets that take part, minus one.</param>
/// <param name="PValue">P(X ≥ χ²) for a chi-square distribution with those degrees of freedom.</param>
/// <param name="EffectSize">Cohen's w = √(χ² / nₛ) over the buckets the reference has: the size of the shift independent of the sample size.</param>
public readonly record struct ChiSquareResult(double Statistic, int DegreesOfFreedom, double PValue, double EffectSize)
{
    /// <summary>
    /// The share of the current sample in buckets the reference never saw (an unseen category), between 0 and 1. It
    /// takes no part in <see cref="Statistic"/>; <see cref="DriftCalculator"/> grades it with the chi-square thresholds.
    /// </summary>
    public double UnseenShare { get; init; }
}

/// <summary>
/// The drift statistics, as pure functions. Binned statistics take the reference and current counts per bin (the same
/// bins: a profile's bins, see <see cref="FeatureProfile"/>) and turn them into proportions <c>rᵢ = refᵢ / Σref</c>,
/// <c>cᵢ = curᵢ / Σcur</c>. Sample statistics take the raw values. NaN values must be removed by the caller (the
/// histograms count them apart, see <see cref="FeatureHistogram.NaNCount"/>); the sample functions here ignore them.
/// </summary>
/// <remarks>
/// Formulas and default thresholds (moderate / severe) as used by <see cref="DriftCalculator"/>:
/// <list type="table">
/// <item><term><c>psi</c></term><description>Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ), with every proportion floored at ε (default 1e-4) so an
/// empty bin stays finite; 0.1 / 0.2.</description></item>
/// <item><term><c>ks</c></term><description>D = sup |F_ref − F_cur| (exact from samples; from bins it is the largest gap at the bin
/// edges, a lower bound of the exact D); severity from D (an effect size) 0.1 / 0.2, the p-value is reported only.</description></item>
/// <item><term><c>jensen_shannon</c></term><description>√(½ KL(r‖m) + ½ KL(c‖m)), m = (r + c)/2, log base 2, between 0 and 1; 0.1 / 0.2.</description></item>
/// <item><term><c>hellinger</c></term><description>√(1 − Σ √(rᵢ·cᵢ)), between 0 and 1; 0.1 / 0.2.</description></item>
/// <item><term><c>wasserstein</c></term><description>W₁ = ∫ |F_ref − F_cur| dx divided by the reference standard deviation
/// (population, ddof = 0), from samples only; 0.1 / 0.2.</description></item>
/// <item><term><c>chi_square</c></term><description>χ² of current counts against nₛ·rᵢ over the buckets the reference has;
/// severity from the larger of Cohen's w = √(χ²/nₛ) and the share of unseen categories: 0.1 / 0.3.</description></item>
/// </list>
/// These functions grade by effect sizes only, so a window of millions of rows does not flag every feature for a shift
/// too small to matter. <see cref="DriftCalculator"/> adds a significance gate on top: a feature's moderate or severe
/// grade stands only when its tests' p-value is below <see cref="DriftOptions.SignificanceLevel"/> divided by the number
/// of tests it runs (Bonferroni), so small windows without drift rarely flag (the effect size AND the test, as Evidently
/// combines them).
/// </remarks>
public static class DriftStatistics
{
    /// <summary>The default floor for empty-bin proportions in <see cref="Psi"/> and <see cref="ChiSquare"/>.</summary>
    public const double DefaultEpsilon = 1e-4;

    /// <summary>Population Stability Index: Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ) with proportions floored at <paramref name="epsilon"/>.</summary>
    /// <param name="referenceCounts">Reference counts per bin.</param>
    /// <param name="currentCounts">Current counts per bin (same bins).</param>
    /// <param name="epsilon">The floor for a bin's proportion, so an empty bin contributes a finite term.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    public static double Psi(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts, double epsilon = DefaultEpsilon)
    {
        ValidateEpsilon(epsilon);
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        var psi = 0.0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            var r = Math.Max(referenceCounts[i] / refTotal, epsilon);
            var c = Math.Max(currentCounts[i] / curTotal, epsilon);
            psi += (c - r) * Math.Log(c / r);
        }

        return psi;
    }

    /// <summary>Jensen–Shannon distance (log base 2, between 0 and 1) of the two binned distributions.</summary>
    /// <param name="referenceCounts">Reference counts per bin.</param>
    /// <param name="currentCounts">Current counts per bin.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    public static double JensenShannonDistance(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        var divergence = 0.0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            var r = referenceCounts[i] / refTotal;
            var c = currentCounts[i] / curTotal;
            var m = (r + c) / 2;
            if (r > 0)
            {
                divergence += 0.5 * r * Math.Log2(r / m);
            }

            if (c > 0)
            {
                divergence += 0.5 * c * Math.Log2(c / m);
            }
        }

        // Rounding can leave a tiny negative value for identical distributions.
        return Math.Sqrt(Math.Clamp(divergence, 0, 1));
    }

    /// <summary>Hellinger distance √(1 − Σ √(rᵢ·cᵢ)), between 0 and 1.</summary>
    /// <param name="referenceCounts">Reference counts per bin.</param>
    /// <param name="currentCounts">Current counts per bin.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    public static double Hellinger(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        var bc = 0.0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            bc += Math.Sqrt(referenceCounts[i] / refTotal * (currentCounts[i] / curTotal));
        }

        return Math.Sqrt(Math.Clamp(1 - bc, 0, 1));
    }

    /// <summary>
    /// Chi-square goodness of fit of <paramref name="currentCounts"/> against the expected counts nₛ·rᵢ over the buckets
    /// the reference has (reference count &gt; 0), where nₛ is the current count in those buckets; rᵢ is floored at
    /// <paramref name="epsilon"/>. Buckets the reference never saw (the unseen-category bucket, a value between per-value
    /// bins) have no expected count to test against: they do not enter χ² (flooring them at ε gave χ² ≈ 10⁴ for 10 unseen
    /// values in 100), and their share of the current sample is <see cref="ChiSquareResult.UnseenShare"/>. The p-value is
    /// the upper tail of χ² with df = buckets taking part − 1.
    /// </summary>
    /// <param name="referenceCounts">Reference counts per bucket.</param>
    /// <param name="currentCounts">Current counts per bucket.</param>
    /// <param name="epsilon">The floor for a reference proportion.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    public static ChiSquareResult ChiSquare(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts, double epsilon = DefaultEpsilon)
    {
        ValidateEpsilon(epsilon);
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        long unseen = 0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            if (referenceCounts[i] == 0)
            {
                unseen += currentCounts[i];
            }
        }

        var seenTotal = curTotal - unseen;
        var chi = 0.0;
        var buckets = 0;
        for (var i = 0; seenTotal > 0 && i < referenceCounts.Length; i++)
        {
            if (referenceCounts[i] == 0)
            {
                continue;
            }

            buckets++;
            var expected = seenTotal * Math.Max(referenceCounts[i] / refTotal, epsilon);
            var diff = currentCounts[i] - expected;
            chi += diff * diff / expected;
        }

        var df = Math.Max(buckets - 1, 0);
        var p = df == 0 ? 1.0 : SpecialFunctions.GammaUpperRegularized(df / 2.0, chi / 2.0);
        return new ChiSquareResult(chi, df, p, seenTotal > 0 ? Math.Sqrt(chi / seenTotal) : 0) { UnseenShare = unseen / curTotal };
    }

    /// <summary>
    /// The p-value of the two-sample chi-square test of homogeneity of two binned samples (the 2 × k contingency table
    /// of the bins that are not empty on both sides, df = k − 1): how likely bins this different are when both samples
    /// come from one distribution. Both sample sizes count, unlike <see cref="ChiSquare"/> which takes the reference as exact.
    /// </summary>
    /// <param name="referenceCounts">Reference counts per bin.</param>
    /// <param name="currentCounts">Current counts per bin.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    public static double HomogeneityPValue(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        var total = refTotal + curTotal;
        var chi = 0.0;
        var bins = 0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            double column = referenceCounts[i] + currentCounts[i];
            if (column == 0)
            {
                continue;
            }

            bins++;
            var expectedRef = refTotal * column / total;
            var expectedCur = curTotal * column / total;
            chi += ((referenceCounts[i] - expectedRef) * (referenceCounts[i] - expectedRef) / expectedRef)
                + ((currentCounts[i] - expectedCur) * (currentCounts[i] - expectedCur) / expectedCur);
        }

        var df = bins - 1;
        return df <= 0 ? 1.0 : SpecialFunctions.GammaUpperRegularized(df / 2.0, chi / 2.0);
    }

    /// <summary>The smallest expected count a cell of <see cref="PooledHomogeneityPValue"/> keeps on its own (Cochran's rule of 5).</summary>
    internal const double MinimumExpectedCount = 5;

    /// <summary>
    /// The p-value of "both binned samples come from one distribution", sound for sparse bins. Two parts:
    /// <list type="bullet">
    /// <item>The bins the reference has: the chi-square test of homogeneity (<see cref="HomogeneityPValue"/>) after
    /// pooling the cells too sparse for its approximation (Cochran 1954): every bin whose expected count in the smaller
    /// sample is under <see cref="MinimumExpectedCount"/> goes into one pooled cell, and when that cell is still under
    /// it, it joins the smallest remaining bin. Unpooled, one value in a bin the reference holds 1 in 10,000 of gives
    /// χ² ≈ 100 by itself, so rare categories and the tails of few-valued features flagged 1.6–3.8 % of 100-row
    /// windows without drift at α = 0.01.</item>
    /// <item>The bins the reference never saw (unseen categories, values between or beyond per-value bins): k current
    /// values there against none of the reference's n is Fisher's exact test of the 2 × 2 table, P = C(m, k) / C(n + m, k)
    /// (one value of 100 against 10,000 reference values: 0.0099, not significant; ten: 10⁻²⁰).</item>
    /// </list>
    /// When both parts apply, the smaller p-value doubled (Bonferroni).
    /// </summary>
    /// <param name="referenceCounts">Reference counts per bin.</param>
    /// <param name="currentCounts">Current counts per bin.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    internal static double PooledHomogeneityPValue(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        long unseen = 0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            if (referenceCounts[i] == 0)
            {
                unseen += currentCounts[i];
            }
        }

        var seenCurrent = (long)curTotal - unseen;
        var seenP = seenCurrent > 0 ? SeenHomogeneityPValue(referenceCounts, currentCounts, refTotal, seenCurrent) : 1.0;
        if (unseen == 0)
        {
            return seenP;
        }

        // Fisher's exact test: all k values of the unseen bins fell in the current sample, P = Π (m − i) / (n + m − i).
        var fisher = 1.0;
        for (long i = 0; i < unseen && fisher > 0; i++)
        {
            fisher *= (curTotal - i) / (refTotal + curTotal - i);
        }

        return Math.Min(1, 2 * Math.Min(seenP, fisher));
    }

    private static double SeenHomogeneityPValue(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts, double refTotal, double seenCurrent)
    {
        var total = refTotal + seenCurrent;
        var smaller = Math.Min(refTotal, seenCurrent);
        Span<long> refCells = referenceCounts.Length <= 256 ? stackalloc long[referenceCounts.Length + 1] : new long[referenceCounts.Length + 1];
        Span<long> curCells = referenceCounts.Length <= 256 ? stackalloc long[referenceCounts.Length + 1] : new long[referenceCounts.Length + 1];
        long pooledRef = 0, pooledCur = 0;
        var cells = 0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            if (referenceCounts[i] == 0)
            {
                continue;
            }

            long column = referenceCounts[i] + currentCounts[i];
            if (smaller * column / total < MinimumExpectedCount)
            {
                pooledRef += referenceCounts[i];
                pooledCur += currentCounts[i];
                continue;
            }

            refCells[cells] = referenceCounts[i];
            curCells[cells] = currentCounts[i];
            cells++;
        }

        if (pooledRef + pooledCur > 0)
        {
            if (cells > 0 && smaller * (pooledRef + pooledCur) / total < MinimumExpectedCount)
            {
                // Still too sparse: merge it into the smallest cell.
                var smallest = 0;
                for (var k = 1; k < cells; k++)
                {
                    if (refCells[k] + curCells[k] < refCells[smallest] + curCells[smallest])
                    {
                        smallest = k;
                    }
                }

                refCells[smallest] += pooledRef;
                curCells[smallest] += pooledCur;
            }
            else
            {
                refCells[cells] = pooledRef;
                curCells[cells] = pooledCur;
                cells++;
            }
        }

        return HomogeneityPValue(refCells[..cells], curCells[..cells]);
    }

    /// <summary>
    /// Binned Kolmogorov–Smirnov: the largest gap between the cumulative reference and current proportions at the bin
    /// edges. Values inside a bin are not seen, so this is a lower bound of the exact statistic
    /// (<see cref="KolmogorovSmirnov"/>), exact when every distinct value has its own bin (categorical codes).
    /// </summary>
    /// <param name="referenceCounts">Reference counts per bin, in edge order.</param>
    /// <param name="currentCounts">Current counts per bin.</param>
    /// <exception cref="ArgumentException">The spans differ in length, a count is negative, or a side has no values.</exception>
    public static KolmogorovSmirnovResult KolmogorovSmirnovBinned(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        var (refTotal, curTotal) = Totals(referenceCounts, currentCounts);
        long refCum = 0, curCum = 0;
        var d = 0.0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            refCum += referenceCounts[i];
            curCum += currentCounts[i];
            d = Math.Max(d, Math.Abs((refCum / refTotal) - (curCum / curTotal)));
        }

        return new KolmogorovSmirnovResult(d, KolmogorovSmirnovPValue(d, (long)refTotal, (long)curTotal));
    }

    /// <summary>
    /// Two-sample Kolmogorov–Smirnov over raw values. Copies both samples without their NaNs and sorts each copy once;
    /// use <see cref="KolmogorovSmirnovSorted(ReadOnlySpan{double}, ReadOnlySpan{double})"/> when the samples are already sorted.
    /// </summary>
    /// <param name="reference">The reference values.</param>
    /// <param name="current">The current values.</param>
    /// <exception cref="ArgumentException">A sample has no non-NaN values.</exception>
    public static KolmogorovSmirnovResult KolmogorovSmirnov(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var r = SortedWithoutNaN(reference, nameof(reference));
        var c = SortedWithoutNaN(current, nameof(current));
        return KolmogorovSmirnovSorted(r, c);
    }

    /// <summary>
    /// Two-sample Kolmogorov–Smirnov over samples sorted ascending without NaN: D = sup |F_ref(x) − F_cur(x)|, found in
    /// one merge pass (ties are stepped over together, as SciPy's <c>ks_2samp</c> does).
    /// </summary>
    /// <param name="sortedReference">The reference values, ascending.</param>
    /// <param name="sortedCurrent">The current values, ascending.</param>
    /// <exception cref="ArgumentException">A sample is empty.</exception>
    public static KolmogorovSmirnovResult KolmogorovSmirnovSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent) =>
        KolmogorovSmirnovSorted(sortedReference, sortedCurrent, KolmogorovSmirnovMethod.Auto);

    /// <summary>As <see cref="KolmogorovSmirnovSorted(ReadOnlySpan{double}, ReadOnlySpan{double})"/>, with the p-value computed by <paramref name="method"/>.</summary>
    /// <param name="sortedReference">The reference values, ascending.</param>
    /// <param name="sortedCurrent">The current values, ascending.</param>
    /// <param name="method">Exact, asymptotic, or chosen by sample size as SciPy does.</param>
    /// <exception cref="ArgumentException">A sample is empty.</exception>
    public static KolmogorovSmirnovResult KolmogorovSmirnovSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, KolmogorovSmirnovMethod method)
    {
        RequireValues(sortedReference.Length, nameof(sortedReference));
        RequireValues(sortedCurrent.Length, nameof(sortedCurrent));
        double n = sortedReference.Length, m = sortedCurrent.Length;
        int i = 0, j = 0;
        var d = 0.0;
        while (i < sortedReference.Length && j < sortedCurrent.Length)
        {
            var x = Math.Min(sortedReference[i], sortedCurrent[j]);
            while (i < sortedReference.Length && sortedReference[i] <= x)
            {
                i++;
            }

            while (j < sortedCurrent.Length && sortedCurrent[j] <= x)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs((i / n) - (j / m)));
        }

        return new KolmogorovSmirnovResult(d, KolmogorovSmirnovPValue(d, sortedReference.Length, sortedCurrent.Length, method));
    }

    /// <summary>
    /// The two-sample KS p-value P(D ≥ <paramref name="statistic"/>) chosen as SciPy's <c>ks_2samp(method='auto')</c>
    /// does: exact when both samples hold at most 10,000 values, asymptotic beyond.
    /// </summary>
    /// <param name="statistic">The KS statistic D.</param>
    /// <param name="referenceCount">n.</param>
    /// <param name="currentCount">m.</param>
    public static double KolmogorovSmirnovPValue(double statistic, long referenceCount, long currentCount) =>
        KolmogorovSmirnovPValue(statistic, referenceCount, currentCount, KolmogorovSmirnovMethod.Auto);

    /// <summary>
    /// The two-sample KS p-value P(D ≥ <paramref name="statistic"/>) for samples of sizes n and m, as SciPy's
    /// <c>ks_2samp</c> computes it (two-sided). Exact: the share of lattice paths that leave the band |i/n − j/m| &lt; D
    /// (Hodges 1958; for n = m the closed alternating sum), D rounded to a multiple of 1/lcm(n, m) as SciPy does.
    /// Asymptotic: the one-sample Kolmogorov distribution at nₑ = round(n·m/(n + m)) (SciPy's <c>kstwo.sf</c>), a
    /// finite-sample correction of the limit Q_KS(√nₑ·D). 1 when either count is zero or less.
    /// </summary>
    /// <param name="statistic">The KS statistic D.</param>
    /// <param name="referenceCount">n.</param>
    /// <param name="currentCount">m.</param>
    /// <param name="method">Exact, asymptotic, or chosen by sample size.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="method"/> is not a defined value.</exception>
    public static double KolmogorovSmirnovPValue(double statistic, long referenceCount, long currentCount, KolmogorovSmirnovMethod method)
    {
        if (!Enum.IsDefined(method))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, "Expected KolmogorovSmirnovMethod Auto, Exact or Asymptotic.");
        }

        if (referenceCount <= 0 || currentCount <= 0)
        {
            return 1;
        }

        return KolmogorovDistribution.TwoSampleSurvival(statistic, referenceCount, currentCount, method);
    }

    /// <summary>The survival function of the Kolmogorov distribution, Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}; 1 for λ ≤ 0.</summary>
    /// <param name="lambda">λ.</param>
    public static double KolmogorovSurvival(double lambda)
    {
        if (double.IsNaN(lambda))
        {
            return double.NaN;
        }

        if (lambda < 0.2)
        {
            // The series converges too slowly here and the value is 1 to double precision (Q(0.2) = 1 - 1e-10).
            return 1;
        }

        var sum = 0.0;
        var sign = 1.0;
        for (var k = 1; k <= 100; k++)
        {
            var term = sign * Math.Exp(-2.0 * k * k * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-16 * Math.Abs(sum))
            {
                break;
            }

            sign = -sign;
        }

        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>
    /// Wasserstein-1 (earth mover's) distance ∫ |F_ref(x) − F_cur(x)| dx over samples sorted ascending without NaN,
    /// in the units of the values (SciPy's <c>wasserstein_distance</c>). Infinite values are mass at ±∞: when the two
    /// samples hold different shares of +∞ (or of −∞) the distance is +∞; equal shares cancel and the finite values
    /// decide. Computed on values scaled by their largest magnitude, so values near the double range do not overflow.
    /// </summary>
    /// <param name="sortedReference">The reference values, ascending.</param>
    /// <param name="sortedCurrent">The current values, ascending.</param>
    /// <exception cref="ArgumentException">A sample is empty.</exception>
    public static double WassersteinSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent)
    {
        var scale = FiniteScale(sortedReference, sortedCurrent);
        return ScaledWasserstein(sortedReference, sortedCurrent, scale) * scale;
    }

    /// <summary>
    /// Wasserstein-1 distance divided by the population standard deviation of the reference's finite values, so it
    /// reads in "reference standard deviations" whatever the feature's unit. A constant reference gives 0 when the
    /// current sample equals it and +∞ otherwise; a different share of infinite values gives +∞.
    /// </summary>
    /// <param name="sortedReference">The reference values, ascending.</param>
    /// <param name="sortedCurrent">The current values, ascending.</param>
    /// <exception cref="ArgumentException">A sample is empty.</exception>
    public static double NormalizedWassersteinSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent)
    {
        // Both on the same scale, so W / sd is formed from two numbers that are neither overflowed nor underflowed.
        var scale = FiniteScale(sortedReference, sortedCurrent);
        var w = ScaledWasserstein(sortedReference, sortedCurrent, scale);
        var sd = ScaledStandardDeviation(sortedReference, scale);
        if (sd == 0)
        {
            return w == 0 ? 0 : double.PositiveInfinity;
        }

        return w / sd;
    }

    /// <summary>Population standard deviation (ddof = 0) of the finite values, two-pass on values scaled by their largest magnitude (no overflow).</summary>
    /// <param name="values">The values; NaN is not expected.</param>
    internal static double PopulationStandardDeviation(ReadOnlySpan<double> values)
    {
        var scale = FiniteScale(values, []);
        return ScaledStandardDeviation(values, scale) * scale;
    }

    /// <summary>The largest finite magnitude of either sample (1 when there is none or it is 0).</summary>
    private static double FiniteScale(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var max = 0.0;
        foreach (var v in a)
        {
            if (double.IsFinite(v))
            {
                max = Math.Max(max, Math.Abs(v));
            }
        }

        foreach (var v in b)
        {
            if (double.IsFinite(v))
            {
                max = Math.Max(max, Math.Abs(v));
            }
        }

        return max > 0 ? max : 1;
    }

    private static double ScaledStandardDeviation(ReadOnlySpan<double> values, double scale)
    {
        var n = 0;
        var mean = 0.0;
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                mean += v / scale;
                n++;
            }
        }

        if (n == 0)
        {
            return 0;
        }

        mean /= n;
        var ss = 0.0;
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                var d = (v / scale) - mean;
                ss += d * d;
            }
        }

        return Math.Sqrt(ss / n);
    }

    private static double ScaledWasserstein(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, double scale)
    {
        RequireValues(sortedReference.Length, nameof(sortedReference));
        RequireValues(sortedCurrent.Length, nameof(sortedCurrent));
        double n = sortedReference.Length, m = sortedCurrent.Length;
        var refLow = CountLeading(sortedReference, double.NegativeInfinity);
        var curLow = CountLeading(sortedCurrent, double.NegativeInfinity);
        var refHigh = CountTrailing(sortedReference, double.PositiveInfinity);
        var curHigh = CountTrailing(sortedCurrent, double.PositiveInfinity);

        // Mass at an infinity that the other sample does not match has to travel an infinite distance.
        if (refLow / n != curLow / m || refHigh / n != curHigh / m)
        {
            return double.PositiveInfinity;
        }

        // The matched infinite mass cancels; what is left are the finite values, with the CDFs offset by the −∞ share.
        var refFinite = sortedReference[refLow..^refHigh];
        var curFinite = sortedCurrent[curLow..^curHigh];
        if (refFinite.Length == 0 || curFinite.Length == 0)
        {
            return 0;
        }

        int i = 0, j = 0;
        var total = 0.0;
        var x = Math.Min(refFinite[0], curFinite[0]) / scale;
        while (i < refFinite.Length || j < curFinite.Length)
        {
            // Step past every value equal to x; F and G are then constant until the next value.
            while (i < refFinite.Length && refFinite[i] / scale <= x)
            {
                i++;
            }

            while (j < curFinite.Length && curFinite[j] / scale <= x)
            {
                j++;
            }

            if (i >= refFinite.Length && j >= curFinite.Length)
            {
                break;
            }

            var next = Math.Min(
                i < refFinite.Length ? refFinite[i] / scale : double.PositiveInfinity,
                j < curFinite.Length ? curFinite[j] / scale : double.PositiveInfinity);
            total += Math.Abs(((refLow + i) / n) - ((curLow + j) / m)) * (next - x);
            x = next;
        }

        return total;
    }

    private static int CountLeading(ReadOnlySpan<double> sorted, double value)
    {
        var k = 0;
        while (k < sorted.Length && sorted[k] == value)
        {
            k++;
        }

        return k;
    }

    private static int CountTrailing(ReadOnlySpan<double> sorted, double value)
    {
        var k = 0;
        while (k < sorted.Length && sorted[sorted.Length - 1 - k] == value)
        {
            k++;
        }

        return k;
    }

    /// <summary>Copies <paramref name="values"/> without NaN and sorts the copy once.</summary>
    internal static double[] SortedWithoutNaN(ReadOnlySpan<double> values, string paramName)
    {
        var copy = new double[values.Length];
        var k = 0;
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                copy[k++] = v;
            }
        }

        RequireValues(k, paramName);
        if (k != copy.Length)
        {
            Array.Resize(ref copy, k);
        }

        Array.Sort(copy);
        return copy;
    }

    /// <summary>
    /// The rise of the missing-value share, current − reference (positive when more values are missing now), and the
    /// one-sided p-value of "the current window's missing share is above the reference's": Fisher's exact test of the
    /// 2 × 2 table (missing / present × reference / current), P(X ≥ k) for X hypergeometric with the margins fixed.
    /// Exact for any size (with a large reference it is the binomial test against the reference share), conservative,
    /// and 1 when the current share is at or below what the margins make expected. A reference with no missing values
    /// and k missing of m current rows gives P = C(m, k) / C(n + m, k).
    /// </summary>
    /// <param name="referenceMissing">Missing values in the reference.</param>
    /// <param name="referenceTotal">Reference rows, missing ones included.</param>
    /// <param name="currentMissing">Missing values in the current window.</param>
    /// <param name="currentTotal">Current rows, missing ones included.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, more missing than rows, or a side has no rows.</exception>
    internal static (double Value, double PValue) MissingShare(long referenceMissing, long referenceTotal, long currentMissing, long currentTotal)
    {
        if (referenceTotal <= 0 || currentTotal <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(referenceTotal), $"Expected at least one row on both sides; got {referenceTotal} reference and {currentTotal} current rows.");
        }

        if (referenceMissing < 0 || referenceMissing > referenceTotal || currentMissing < 0 || currentMissing > currentTotal)
        {
            throw new ArgumentOutOfRangeException(nameof(currentMissing),
                $"Expected missing counts between 0 and the rows; got reference {referenceMissing} of {referenceTotal}, current {currentMissing} of {currentTotal}.");
        }

        var value = ((double)currentMissing / currentTotal) - ((double)referenceMissing / referenceTotal);
        return (value, ProportionTests.FisherUpperTail(currentMissing, currentTotal, referenceMissing, referenceTotal));
    }

    private static (double RefTotal, double CurTotal) Totals(ReadOnlySpan<long> referenceCounts, ReadOnlySpan<long> currentCounts)
    {
        if (referenceCounts.Length != currentCounts.Length)
        {
            throw new ArgumentException(
                $"The reference has {referenceCounts.Length} bins and the current window {currentCounts.Length}; expected the same bins on both sides.",
                nameof(currentCounts));
        }

        long refTotal = 0, curTotal = 0;
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            if (referenceCounts[i] < 0 || currentCounts[i] < 0)
            {
                throw new ArgumentException($"Bin {i} has a negative count; expected counts of zero or more.", nameof(currentCounts));
            }

            refTotal += referenceCounts[i];
            curTotal += currentCounts[i];
        }

        RequireValues(refTotal, nameof(referenceCounts));
        RequireValues(curTotal, nameof(currentCounts));
        return (refTotal, curTotal);
    }

    private static void RequireValues(long count, string paramName)
    {
        if (count == 0)
        {
            throw new ArgumentException("The sample is empty; expected at least one (non-NaN) value.", paramName);
        }
    }

    private static void ValidateEpsilon(double epsilon)
    {
        if (!(epsilon > 0 && epsilon < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Expected an empty-bin epsilon strictly between 0 and 1 (default 1e-4).");
        }
    }
}
