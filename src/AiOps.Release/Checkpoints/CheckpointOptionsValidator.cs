using AiOps.Release.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Checkpoints;

/// <summary>Checks <see cref="CheckpointOptions"/> at start-up; each message names the configuration key, its value and what is expected.</summary>
internal sealed class CheckpointOptionsValidator : IValidateOptions<CheckpointOptions>
{
    private const string Section = CheckpointOptions.SectionName + ":";
    private const string Retention = Section + nameof(CheckpointOptions.Retention) + ":";

    public ValidateOptionsResult Validate(string? name, CheckpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.Directory), options.Directory, "the folder that holds the checkpoints (e.g. 'checkpoints')"));
        }

        if (options.SaveEveryNSteps < 0)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.SaveEveryNSteps), options.SaveEveryNSteps, "0 (off) or a positive number of steps"));
        }

        if (options.SaveEvery is { } every && every <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.SaveEvery), every, "a positive interval, or leave it unset (off)"));
        }

        if (options.MaxPendingSaves is < 1 or > 64)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxPendingSaves), options.MaxPendingSaves, "1 to 64"));
        }

        if (!Enum.IsDefined(options.WhenFull))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.WhenFull), options.WhenFull, "Wait or Reject"));
        }

        var retention = options.Retention;
        if (retention.KeepLatest < 0)
        {
            errors.Add(OptionsMessage.Invalid(Retention + nameof(retention.KeepLatest), retention.KeepLatest, "0 (off) or more"));
        }

        if (retention.KeepBest < 0)
        {
            errors.Add(OptionsMessage.Invalid(Retention + nameof(retention.KeepBest), retention.KeepBest, "0 (off) or more"));
        }

        if (retention.KeepBest > 0 && string.IsNullOrWhiteSpace(retention.BestMetric))
        {
            errors.Add(OptionsMessage.Invalid(Retention + nameof(retention.BestMetric), retention.BestMetric ?? string.Empty,
                $"a metric name (e.g. 'val_loss') because {Retention}{nameof(retention.KeepBest)} is {retention.KeepBest}"));
        }

        if (!Enum.IsDefined(retention.BestGoal))
        {
            errors.Add(OptionsMessage.Invalid(Retention + nameof(retention.BestGoal), retention.BestGoal, "Minimize or Maximize"));
        }

        if (retention.KeepOnePer is { } period && period <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Retention + nameof(retention.KeepOnePer), period, "a positive period (e.g. 01:00:00 or 1.00:00:00), or leave it unset (off)"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
