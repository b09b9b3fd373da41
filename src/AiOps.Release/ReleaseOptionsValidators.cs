using System.Globalization;
using Microsoft.Extensions.Options;

namespace AiOps.Release;

/// <summary>Validates <see cref="AiOpsReleaseOptions"/> at start-up, naming the bad setting.</summary>
internal sealed class AiOpsReleaseOptionsValidator : IValidateOptions<AiOpsReleaseOptions>
{
    public ValidateOptionsResult Validate(string? name, AiOpsReleaseOptions options)
    {
        var errors = new List<string>();
        if (options.EvaluationInterval <= TimeSpan.Zero)
        {
            errors.Add($"AiOpsReleaseOptions.EvaluationInterval is {options.EvaluationInterval}; expected a positive interval (e.g. 00:01:00).");
        }

        if (options.RefreshInterval <= TimeSpan.Zero || options.RefreshInterval > TimeSpan.FromSeconds(1))
        {
            errors.Add($"AiOpsReleaseOptions.RefreshInterval is {options.RefreshInterval}; expected more than 0 and at most 1 second so every replica sees a weight change within a second.");
        }

        if (options.LeaseDuration <= options.EvaluationInterval)
        {
            errors.Add($"AiOpsReleaseOptions.LeaseDuration is {options.LeaseDuration}; expected longer than EvaluationInterval ({options.EvaluationInterval}) so the controller renews it in time.");
        }

        if (string.IsNullOrWhiteSpace(options.InstanceId))
        {
            errors.Add("AiOpsReleaseOptions.InstanceId is empty; expected a unique id of this replica.");
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            errors.Add("AiOpsReleaseOptions.StateDirectory is empty; expected the folder of the file state store.");
        }

        if (options.MaxHistory < 1)
        {
            errors.Add($"AiOpsReleaseOptions.MaxHistory is {options.MaxHistory}; expected at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates each model's <see cref="ModelReleaseOptions"/> at start-up, naming the model and the bad setting.</summary>
internal sealed class ModelReleaseOptionsValidator : IValidateOptions<ModelReleaseOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelReleaseOptions options)
    {
        var p = $"ModelReleaseOptions['{name}']";
        var errors = new List<string>();
        void Check(bool ok, FormattableString message)
        {
            if (!ok)
            {
                errors.Add(p + "." + message.ToString(CultureInfo.InvariantCulture));
            }
        }

        Check(options.StableVersion is null || ModelVersion.IsValid(options.StableVersion, out _), $"StableVersion '{options.StableVersion}' is not a valid version (expected e.g. '2.1').");
        Check(options.Steps is { Count: > 0 }, $"Steps is empty; expected at least one canary weight, e.g. [10, 50, 100].");
        for (var i = 0; i < (options.Steps?.Count ?? 0); i++)
        {
            var w = options.Steps![i];
            Check(!double.IsNaN(w) && w > 0 && w <= 100, $"Steps[{i}] is {w}; expected a canary weight above 0 and at most 100 (percent).");
            var previous = i == 0 ? double.NegativeInfinity : options.Steps[i - 1];
            Check(w > previous, $"Steps[{i}] is {w}; expected more than Steps[{i - 1}] ({previous}): steps must increase.");
        }

        Check(options.StepHold >= TimeSpan.Zero, $"StepHold is {options.StepHold}; expected zero or more.");
        Check(options.StepHolds.Count == 0 || options.StepHolds.Count == options.Steps?.Count, $"StepHolds has {options.StepHolds.Count} entries; expected none or one per step ({options.Steps?.Count}).");
        for (var i = 0; i < options.StepHolds.Count; i++)
        {
            Check(options.StepHolds[i] >= TimeSpan.Zero, $"StepHolds[{i}] is {options.StepHolds[i]}; expected zero or more.");
        }

        var g = options.Gates;
        Check(g is not null, $"Gates is null; expected gate settings.");
        if (g is not null)
        {
            Check(g.MinSamples >= 1, $"Gates.MinSamples is {g.MinSamples}; expected at least 1 (a gate without data never passes).");
            Check(g.MaxErrorRate is null || g.MaxErrorRate is >= 0 and <= 1, $"Gates.MaxErrorRate is {g.MaxErrorRate}; expected a rate between 0 and 1 (0.05 = 5 %).");
            Check(g.MaxErrorRateIncrease is >= 0 and <= 1, $"Gates.MaxErrorRateIncrease is {g.MaxErrorRateIncrease}; expected between 0 and 1 (0.01 = one point).");
            Check(g.MaxP95LatencyMs is null || g.MaxP95LatencyMs > 0, $"Gates.MaxP95LatencyMs is {g.MaxP95LatencyMs}; expected a positive number of milliseconds.");
            Check(g.MaxP95LatencyRatio >= 1 && !double.IsInfinity(g.MaxP95LatencyRatio), $"Gates.MaxP95LatencyRatio is {g.MaxP95LatencyRatio}; expected at least 1 (1.25 = canary p95 up to 25 % above stable's).");
            Check(g.MaxAccuracyDrop is >= 0 and <= 1, $"Gates.MaxAccuracyDrop is {g.MaxAccuracyDrop}; expected between 0 and 1 (0.05 = five points).");
            Check(g.JudgeAlpha is > 0 and <= 0.5, $"Gates.JudgeAlpha is {g.JudgeAlpha}; expected a significance level above 0 and at most 0.5 (e.g. 0.05).");
            Check(g.JudgePassScore is >= 0 and <= 100, $"Gates.JudgePassScore is {g.JudgePassScore}; expected a score between 0 and 100.");
            Check(g.JudgeMarginalScore is >= 0 and <= 100, $"Gates.JudgeMarginalScore is {g.JudgeMarginalScore}; expected a score between 0 and 100.");
            Check(g.JudgeMarginalScore < g.JudgePassScore, $"Gates.JudgeMarginalScore ({g.JudgeMarginalScore}) must be below Gates.JudgePassScore ({g.JudgePassScore}).");
            Check(g.NoDataRollbackAfter is null || g.NoDataRollbackAfter > TimeSpan.Zero, $"Gates.NoDataRollbackAfter is {g.NoDataRollbackAfter}; expected a positive time or null to hold forever.");
        }

        var r = options.Resilience;
        Check(r is not null, $"Resilience is null; expected resilience settings.");
        if (r is not null)
        {
            Check(r.Timeout > TimeSpan.Zero, $"Resilience.Timeout is {r.Timeout}; expected a positive time.");
            Check(r.AttemptTimeout > TimeSpan.Zero && r.AttemptTimeout <= r.Timeout, $"Resilience.AttemptTimeout is {r.AttemptTimeout}; expected positive and at most Resilience.Timeout ({r.Timeout}).");
            Check(r.MaxRetryAttempts is >= 0 and <= 10, $"Resilience.MaxRetryAttempts is {r.MaxRetryAttempts}; expected 0 to 10.");
            Check(r.RetryDelay >= TimeSpan.Zero, $"Resilience.RetryDelay is {r.RetryDelay}; expected zero or more.");
            Check(r.BreakerFailureRatio is > 0 and <= 1, $"Resilience.BreakerFailureRatio is {r.BreakerFailureRatio}; expected above 0 and at most 1.");
            Check(r.BreakerMinimumThroughput >= 2, $"Resilience.BreakerMinimumThroughput is {r.BreakerMinimumThroughput}; expected at least 2.");
            Check(r.BreakerSamplingDuration >= TimeSpan.FromMilliseconds(500), $"Resilience.BreakerSamplingDuration is {r.BreakerSamplingDuration}; expected at least 0.5 seconds.");
            Check(r.BreakerBreakDuration >= TimeSpan.FromMilliseconds(500), $"Resilience.BreakerBreakDuration is {r.BreakerBreakDuration}; expected at least 0.5 seconds.");
        }

        var s = options.Shadow;
        Check(s is not null, $"Shadow is null; expected shadow settings.");
        if (s is not null)
        {
            Check(s.Version is null || ModelVersion.IsValid(s.Version, out _), $"Shadow.Version '{s.Version}' is not a valid version (expected e.g. '3').");
            Check(s.QueueCapacity >= 1, $"Shadow.QueueCapacity is {s.QueueCapacity}; expected at least 1.");
            Check(s.Tolerance >= 0, $"Shadow.Tolerance is {s.Tolerance}; expected zero or more.");
            Check(s.LogCapacity >= 1, $"Shadow.LogCapacity is {s.LogCapacity}; expected at least 1.");
            Check(s.Timeout > TimeSpan.Zero, $"Shadow.Timeout is {s.Timeout}; expected a positive time.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
