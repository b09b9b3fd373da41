using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Quality;

/// <summary>Validates <see cref="ModelQualityOptions"/> at start-up; every message names the setting at fault.</summary>
internal sealed class ModelQualityOptionsValidator : IValidateOptions<ModelQualityOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelQualityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.PositiveClass < 0)
        {
            errors.Add($"ModelQualityOptions.PositiveClass is {options.PositiveClass}; expected a class index of 0 or more.");
        }

        if (options.MaxPendingPredictions < 1)
        {
            errors.Add($"ModelQualityOptions.MaxPendingPredictions is {options.MaxPendingPredictions}; expected at least 1 (default 100000).");
        }

        if (options.MaxOutcomesPerVersion < 1)
        {
            errors.Add($"ModelQualityOptions.MaxOutcomesPerVersion is {options.MaxOutcomesPerVersion}; expected at least 1 (default 100000).");
        }

        if (options.PredictionTimeToLive <= TimeSpan.Zero)
        {
            errors.Add($"ModelQualityOptions.PredictionTimeToLive is {options.PredictionTimeToLive}; expected a positive duration (default 24 hours).");
        }

        if (options.WindowDuration <= TimeSpan.Zero)
        {
            errors.Add($"ModelQualityOptions.WindowDuration is {options.WindowDuration}; expected a positive duration (default 1 hour).");
        }

        if (options.MinimumLabels < 1)
        {
            errors.Add($"ModelQualityOptions.MinimumLabels is {options.MinimumLabels}; expected at least 1 (default 100).");
        }

        if (!(options.AccuracyDropWarning > 0 && options.AccuracyDropWarning < 1))
        {
            errors.Add($"ModelQualityOptions.AccuracyDropWarning is {options.AccuracyDropWarning}; expected a fraction between 0 and 1 (default 0.05).");
        }

        if (!(options.AccuracyDropCritical >= options.AccuracyDropWarning && options.AccuracyDropCritical <= 1))
        {
            errors.Add($"ModelQualityOptions.AccuracyDropCritical is {options.AccuracyDropCritical}; expected at least AccuracyDropWarning ({options.AccuracyDropWarning}) and at most 1 (default 0.10).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
