namespace AiOps.Release.Rollout;

/// <summary>The result of a one-sided Mann–Whitney U test of "candidate is greater than baseline".</summary>
/// <param name="U">U of the candidate sample: pairs where the candidate is greater, ties counting one half.</param>
/// <param name="Z">The standardised statistic (normal approximation, tie and continuity corrected).</param>
/// <param name="PValue">The one-sided p-value that the candidate is stochastically greater.</param>
/// <param name="Effect">P(candidate &gt; baseline) + ½·P(tie), the common-language effect size (0.5 = no difference).</param>
internal readonly record struct MannWhitneyResult(double U, double Z, double PValue, double Effect);

/// <summary>
/// The Mann–Whitney U test with the normal approximation, average ranks for ties, the tie-corrected variance and a
/// continuity correction, as Kayenta's canary judge uses it on latency samples.
/// </summary>
internal static class MannWhitneyU
{
    public static MannWhitneyResult Test(IReadOnlyList<double> candidate, IReadOnlyList<double> baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        var n1 = candidate.Count;
        var n2 = baseline.Count;
        if (n1 == 0 || n2 == 0)
        {
            throw new ArgumentException($"The Mann–Whitney U test needs samples on both sides; got {n1} candidate and {n2} baseline samples.");
        }

        var n = n1 + n2;
        var values = new double[n];
        var fromCandidate = new bool[n];
        for (var i = 0; i < n1; i++)
        {
            values[i] = candidate[i];
            fromCandidate[i] = true;
        }

        for (var i = 0; i < n2; i++)
        {
            values[n1 + i] = baseline[i];
        }

        Array.Sort(values, fromCandidate);
        double rankSum = 0;
        double tieTerm = 0;
        for (var i = 0; i < n;)
        {
            var j = i + 1;
            while (j < n && values[j] == values[i])
            {
                j++;
            }

            // Positions i..j-1 (0-based) share the average of ranks i+1..j.
            var averageRank = (i + 1 + j) / 2.0;
            var t = j - i;
            tieTerm += ((double)t * t * t) - t;
            for (var k = i; k < j; k++)
            {
                if (fromCandidate[k])
                {
                    rankSum += averageRank;
                }
            }

            i = j;
        }

        var u = rankSum - (n1 * (n1 + 1.0) / 2.0);
        var pairs = (double)n1 * n2;
        var mean = pairs / 2.0;
        var variance = pairs / 12.0 * (n + 1 - (tieTerm / ((double)n * (n - 1))));
        double z;
        if (variance <= 0)
        {
            z = 0; // every value is equal: no evidence either way
        }
        else
        {
            var diff = u - mean;
            var corrected = Math.Abs(diff) <= 0.5 ? 0 : diff - (0.5 * Math.Sign(diff));
            z = corrected / Math.Sqrt(variance);
        }

        var p = variance <= 0 ? 0.5 : 0.5 * Erfc(z / Math.Sqrt(2));
        return new MannWhitneyResult(u, z, p, u / pairs);
    }

    /// <summary>The complementary error function (Chebyshev fit, fractional error below 1.2e-7).</summary>
    internal static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        double[] c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        var poly = 0.0;
        for (var i = c.Length - 1; i >= 0; i--)
        {
            poly = c[i] + (t * poly);
        }

        var r = t * Math.Exp(-(z * z) + poly);
        return x >= 0 ? r : 2 - r;
    }
}
