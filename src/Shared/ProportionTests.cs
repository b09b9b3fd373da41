// Linked into several assemblies (src/Shared/Shared.props): each copy lives in its assembly's own namespace.
// Types are spelled in full (no using directives): the implicit usings differ between the projects that compile this.
#if AIOPS_SHARED_RELEASE
namespace AiOps.Release.Internal;
#elif AIOPS_SHARED_MONITORING
namespace AiOps.Monitoring.Internal;
#elif AIOPS_SHARED_DATA
namespace AiOps.Data.Internal;
#elif AIOPS_SHARED_INFERENCE
namespace AiOps.Inference.Internal;
#else
namespace AiOps.Internal;
#endif

/// <summary>
/// Exact one-sided tests on counts: the binomial test of a rate against a fixed ceiling and Fisher's exact test of
/// "side A has the larger share" (Release's error-rate gate: canary vs stable failures; Monitoring's missing-value share:
/// current window vs reference). Exact (no normal approximation), so they
/// hold with few failures (a 0.5 % error rate on 100 calls is 0 or 1 failure), and conservative. A count at or below
/// its expectation has a p-value of at least one half, reported as 1.
/// </summary>
internal static class ProportionTests
{
    /// <summary>P(X ≥ <paramref name="failures"/>) for X ~ Binomial(<paramref name="trials"/>, <paramref name="rate"/>): the one-sided p-value of "the rate is above <paramref name="rate"/>".</summary>
    public static double BinomialUpperTail(long trials, long failures, double rate)
    {
        System.ArgumentOutOfRangeException.ThrowIfNegative(trials);
        if (failures > trials || failures < 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(failures), failures, $"Expected 0 to {trials} failures.");
        }

        if (double.IsNaN(rate) || rate is < 0 or > 1)
        {
            throw new System.ArgumentOutOfRangeException(nameof(rate), rate, "Expected a rate between 0 and 1.");
        }

        if (failures == 0 || rate >= 1)
        {
            return 1;
        }

        if (rate <= 0)
        {
            return 0;
        }

        var logTerm = LogChoose(trials, failures) + (failures * System.Math.Log(rate)) + ((trials - failures) * System.Math.Log(1 - rate));
        var mean = trials * rate;
        var odds = rate / (1 - rate);
        return SumTail(logTerm, failures, trials, mean, x => (double)(trials - x) / (x + 1) * odds);
    }

    /// <summary>
    /// Fisher's exact test, one-sided: the probability, with the margins fixed, of the canary having at least
    /// <paramref name="canaryFailures"/> of the failures if both versions fail at the same rate.
    /// </summary>
    public static double FisherUpperTail(long canaryFailures, long canaryTrials, long stableFailures, long stableTrials)
    {
        if (canaryFailures < 0 || canaryFailures > canaryTrials || stableFailures < 0 || stableFailures > stableTrials)
        {
            throw new System.ArgumentOutOfRangeException(nameof(canaryFailures), $"Expected failures between 0 and the trials; got canary {canaryFailures}/{canaryTrials}, stable {stableFailures}/{stableTrials}.");
        }

        var total = canaryTrials + stableTrials;
        var failures = canaryFailures + stableFailures;
        if (canaryFailures == 0 || total == 0)
        {
            return 1;
        }

        var successes = total - failures;
        var logTerm = LogChoose(failures, canaryFailures) + LogChoose(successes, canaryTrials - canaryFailures) - LogChoose(total, canaryTrials);
        var mean = (double)canaryTrials * failures / total;
        var last = System.Math.Min(failures, canaryTrials);
        return SumTail(logTerm, canaryFailures, last, mean, x =>
            (double)(failures - x) * (canaryTrials - x) / ((x + 1) * (double)(successes - canaryTrials + x + 1)));
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Stirling's series after shifting x above 10; ~1e-15 relative).</summary>
    internal static double LogGamma(double x)
    {
        var shift = 0.0;
        while (x < 10)
        {
            shift -= System.Math.Log(x);
            x += 1;
        }

        var inv = 1 / x;
        var inv2 = inv * inv;
        var series = inv * ((1.0 / 12) - (inv2 * ((1.0 / 360) - (inv2 * ((1.0 / 1260) - (inv2 / 1680))))));
        return shift + ((x - 0.5) * System.Math.Log(x)) - x + (0.5 * System.Math.Log(2 * System.Math.PI)) + series;
    }

    private static double LogChoose(long n, long k) => LogGamma(n + 1.0) - LogGamma(k + 1.0) - LogGamma(n - k + 1.0);

    /// <summary>Sums a unimodal pmf from <paramref name="first"/> to <paramref name="last"/> by the term ratio, stopping once past the mode the terms no longer matter.</summary>
    private static double SumTail(double logFirst, long first, long last, double mean, System.Func<long, double> ratio)
    {
        if (first <= mean)
        {
            // At or below the mean (hence the median) the tail is at least one half: never significant, reported as 1.
            return 1;
        }

        var term = System.Math.Exp(logFirst);
        var sum = term;
        for (var x = first; x < last; x++)
        {
            term *= ratio(x);
            sum += term;
            if (x > mean && term <= sum * 1e-17)
            {
                break;
            }
        }

        return System.Math.Clamp(sum, 0, 1);
    }
}
