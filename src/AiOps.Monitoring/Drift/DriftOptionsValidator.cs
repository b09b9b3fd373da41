using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Drift;

/// <summary>Validates <see cref="DriftOptions"/> at start-up; every message names the setting at fault.</summary>
internal sealed class DriftOptionsValidator : IValidateOptions<DriftOptions>
{
    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!(options.Epsilon > 0 && options.Epsilon < 1))
        {
            errors.Add($"DriftOptions.Epsilon is {options.Epsilon}; expected a value strictly between 0 and 1 (default 1e-4).");
        }

        Check(errors, nameof(DriftOptions.Psi), options.Psi);
        Check(errors, nameof(DriftOptions.KolmogorovSmirnov), options.KolmogorovSmirnov);
        Check(errors, nameof(DriftOptions.JensenShannon), options.JensenShannon);
        Check(errors, nameof(DriftOptions.Hellinger), options.Hellinger);
        Check(errors, nameof(DriftOptions.Wasserstein), options.Wasserstein);
        Check(errors, nameof(DriftOptions.ChiSquare), options.ChiSquare);
        if (options.WindowDuration <= TimeSpan.Zero)
        {
            errors.Add($"DriftOptions.WindowDuration is {options.WindowDuration}; expected a positive duration (default 1 hour).");
        }

        if (options.WindowSize < 0)
        {
            errors.Add($"DriftOptions.WindowSize is {options.WindowSize}; expected 0 (time windows only) or a positive row count.");
        }

        if (options.MinimumSampleCount < 1)
        {
            errors.Add($"DriftOptions.MinimumSampleCount is {options.MinimumSampleCount}; expected at least 1 (default 100).");
        }

        if (options.RetainedWindows < 1)
        {
            errors.Add($"DriftOptions.RetainedWindows is {options.RetainedWindows}; expected at least 1 (default 48).");
        }

        if (options.NumericStatistics == DriftStatisticKinds.None && options.CategoricalStatistics == DriftStatisticKinds.None)
        {
            errors.Add("DriftOptions.NumericStatistics and DriftOptions.CategoricalStatistics are both None; expected at least one statistic.");
        }

        if (options.HealthDegradedSeverity == AiOps.Drift.DriftSeverity.Stable)
        {
            errors.Add("DriftOptions.HealthDegradedSeverity is Stable, which would always report Degraded; expected Moderate or Severe.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string setting, DriftThresholds? t)
    {
        if (t is null)
        {
            errors.Add($"DriftOptions.{setting} is null; expected thresholds.");
            return;
        }

        if (!double.IsFinite(t.Moderate) || !double.IsFinite(t.Severe) || t.Moderate <= 0 || t.Severe < t.Moderate)
        {
            errors.Add($"DriftOptions.{setting} is Moderate={t.Moderate}, Severe={t.Severe}; expected finite values with 0 < Moderate <= Severe.");
        }
    }
}
