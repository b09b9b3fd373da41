using AiOps.Monitoring.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Quality;

/// <summary>Validates <see cref="ModelQualityOptions"/> at start-up; every message names the configuration key, its value and what is expected.</summary>
internal sealed class ModelQualityOptionsValidator : IValidateOptions<ModelQualityOptions>
{
    private const string Section = ModelQualityOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, ModelQualityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.PositiveClass < 0)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.PositiveClass), options.PositiveClass, "a class index of 0 or more"));
        }

        if (options.MaxPendingPredictions < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxPendingPredictions), options.MaxPendingPredictions, "1 or more (default 100000)"));
        }

        if (!Enum.IsDefined(options.Task))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.Task), options.Task, "Classification or Regression (default Classification)"));
        }

        if (options.MaxOutcomesPerVersion < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxOutcomesPerVersion), options.MaxOutcomesPerVersion, "1 or more (default 100000)"));
        }

        if (options.PredictionTimeToLive <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.PredictionTimeToLive), options.PredictionTimeToLive, "a positive duration (default 3.00:00:00)"));
        }

        if (options.MaxPendingLabels < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxPendingLabels), options.MaxPendingLabels, "1 or more (default 100000)"));
        }

        if (options.LabelTimeToLive <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.LabelTimeToLive), options.LabelTimeToLive, "a positive duration (default 01:00:00)"));
        }

        if (options.BaselineMinimumLabels < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.BaselineMinimumLabels), options.BaselineMinimumLabels, "1 or more (default 1000)"));
        }

        if (!(options.AccuracyHysteresis >= 0 && options.AccuracyHysteresis < options.AccuracyDropWarning))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.AccuracyHysteresis), options.AccuracyHysteresis,
                $"0 or more and below {Section}{nameof(options.AccuracyDropWarning)} ({OptionsMessage.Show(options.AccuracyDropWarning)}) (default 0.02)"));
        }

        if (options.WindowDuration <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.WindowDuration), options.WindowDuration, "a positive duration (default 01:00:00)"));
        }

        if (options.MinimumLabels < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MinimumLabels), options.MinimumLabels, "1 or more (default 100)"));
        }

        if (!(options.AccuracyDropWarning > 0 && options.AccuracyDropWarning < 1))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.AccuracyDropWarning), options.AccuracyDropWarning, "a fraction strictly between 0 and 1 (default 0.05)"));
        }

        if (!(options.AccuracyDropCritical >= options.AccuracyDropWarning && options.AccuracyDropCritical <= 1))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.AccuracyDropCritical), options.AccuracyDropCritical,
                $"at least {Section}{nameof(options.AccuracyDropWarning)} ({OptionsMessage.Show(options.AccuracyDropWarning)}) and at most 1 (default 0.1)"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
