using AiOps.Monitoring.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Drift;

/// <summary>Validates <see cref="DriftOptions"/> at start-up; every message names the configuration key, its value and what is expected.</summary>
internal sealed class DriftOptionsValidator : IValidateOptions<DriftOptions>
{
    private const string Section = DriftOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!(options.Epsilon > 0 && options.Epsilon < 1))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.Epsilon), options.Epsilon, "a value strictly between 0 and 1 (default 1e-4)"));
        }

        Check(errors, nameof(DriftOptions.Psi), options.Psi);
        Check(errors, nameof(DriftOptions.KolmogorovSmirnov), options.KolmogorovSmirnov);
        Check(errors, nameof(DriftOptions.JensenShannon), options.JensenShannon);
        Check(errors, nameof(DriftOptions.Hellinger), options.Hellinger);
        Check(errors, nameof(DriftOptions.Wasserstein), options.Wasserstein);
        Check(errors, nameof(DriftOptions.ChiSquare), options.ChiSquare);
        Check(errors, nameof(DriftOptions.MissingShare), options.MissingShare);
        if (options.WindowDuration <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.WindowDuration), options.WindowDuration, "a positive duration (default 01:00:00)"));
        }

        if (options.WindowSize < 0)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.WindowSize), options.WindowSize, "0 (time windows only) or a positive row count"));
        }

        if (!(options.SignificanceLevel > 0 && options.SignificanceLevel <= 1))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.SignificanceLevel), options.SignificanceLevel, "a value in (0, 1] (default 0.005; 1 turns the tests off)"));
        }

        if (options.MinimumSampleCount < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.MinimumSampleCount), options.MinimumSampleCount, "1 or more (default 100)"));
        }

        if (options.RetainedWindows < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.RetainedWindows), options.RetainedWindows, "1 or more (default 48)"));
        }

        if (options.NumericStatistics == DriftStatisticKinds.None && options.CategoricalStatistics == DriftStatisticKinds.None)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.NumericStatistics), options.NumericStatistics,
                $"at least one statistic here or in {Section}{nameof(DriftOptions.CategoricalStatistics)} (both are None)"));
        }

        if (options.HealthDegradedSeverity is not (AiOps.Drift.DriftSeverity.Moderate or AiOps.Drift.DriftSeverity.Severe))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(DriftOptions.HealthDegradedSeverity), options.HealthDegradedSeverity,
                "Moderate or Severe (Stable would always report Degraded; insufficient data always reports Degraded)"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string setting, DriftThresholds? t)
    {
        if (t is null)
        {
            errors.Add(OptionsMessage.Invalid(Section + setting, null, "thresholds (leave it unset for the defaults)"));
            return;
        }

        if (!double.IsFinite(t.Moderate) || t.Moderate <= 0)
        {
            errors.Add(OptionsMessage.Invalid($"{Section}{setting}:{nameof(DriftThresholds.Moderate)}", t.Moderate, "a finite value above 0"));
        }

        if (!double.IsFinite(t.Severe) || t.Severe < t.Moderate)
        {
            errors.Add(OptionsMessage.Invalid($"{Section}{setting}:{nameof(DriftThresholds.Severe)}", t.Severe,
                $"a finite value of at least {Section}{setting}:{nameof(DriftThresholds.Moderate)} ({OptionsMessage.Show(t.Moderate)})"));
        }
    }
}
