using Microsoft.Extensions.Options;

namespace AiOps.Release.Checkpoints;

/// <summary>Checks <see cref="CheckpointOptions"/> at start-up; each message names the setting.</summary>
internal sealed class CheckpointOptionsValidator : IValidateOptions<CheckpointOptions>
{
    public ValidateOptionsResult Validate(string? name, CheckpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            errors.Add("CheckpointOptions.Directory is required: the folder that holds the checkpoints (e.g. \"checkpoints\").");
        }

        if (options.SaveEveryNSteps < 0)
        {
            errors.Add($"CheckpointOptions.SaveEveryNSteps is {options.SaveEveryNSteps}; expected 0 (off) or a positive number of steps.");
        }

        if (options.SaveEvery is { } every && every <= TimeSpan.Zero)
        {
            errors.Add($"CheckpointOptions.SaveEvery is {every}; expected a positive interval or null (off).");
        }

        if (options.MaxPendingSaves is < 1 or > 64)
        {
            errors.Add($"CheckpointOptions.MaxPendingSaves is {options.MaxPendingSaves}; expected 1 to 64.");
        }

        if (!Enum.IsDefined(options.WhenFull))
        {
            errors.Add($"CheckpointOptions.WhenFull is {options.WhenFull}; expected Wait or Reject.");
        }

        var retention = options.Retention;
        if (retention.KeepLatest < 0)
        {
            errors.Add($"CheckpointOptions.Retention.KeepLatest is {retention.KeepLatest}; expected 0 (off) or more.");
        }

        if (retention.KeepBest < 0)
        {
            errors.Add($"CheckpointOptions.Retention.KeepBest is {retention.KeepBest}; expected 0 (off) or more.");
        }

        if (retention.KeepBest > 0 && string.IsNullOrWhiteSpace(retention.BestMetric))
        {
            errors.Add($"CheckpointOptions.Retention.BestMetric is required when KeepBest is {retention.KeepBest} (e.g. \"val_loss\").");
        }

        if (!Enum.IsDefined(retention.BestGoal))
        {
            errors.Add($"CheckpointOptions.Retention.BestGoal is {retention.BestGoal}; expected Minimize or Maximize.");
        }

        if (retention.KeepOnePer is { } period && period <= TimeSpan.Zero)
        {
            errors.Add($"CheckpointOptions.Retention.KeepOnePer is {period}; expected a positive period (e.g. 01:00:00 or 1.00:00:00) or null (off).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
