namespace AiOps.Monitoring;

/// <summary>Error-budget burn rate of an availability SLO (the Google SRE workbook's multi-window alerting).</summary>
public static class SloBurnRate
{
    /// <summary>The fast-burn threshold: 2 % of a 30-day budget spent in one hour.</summary>
    public const double FastBurn = 14.4;

    /// <summary>The slow-burn threshold: 5 % of a 30-day budget spent in six hours.</summary>
    public const double SlowBurn = 6;

    /// <summary>Returns <c>errorRate / (1 − target)</c>: 1 spends the budget exactly over the SLO period.</summary>
    /// <param name="errorRate">The observed error rate, 0–1.</param>
    /// <param name="target">The success target, 0–1 exclusive of 1 (e.g. 0.999).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static double Compute(double errorRate, double target)
    {
        if (double.IsNaN(errorRate) || errorRate is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(errorRate), errorRate, "Expected an error rate between 0 and 1.");
        }

        if (double.IsNaN(target) || target is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, "Expected a success target of at least 0 and below 1 (e.g. 0.999).");
        }

        return errorRate / (1 - target);
    }
}
