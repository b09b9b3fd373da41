using AiOps.Release.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Release;

/// <summary>Validates <see cref="AiOpsReleaseOptions"/> at start-up; each message names the configuration key, its value and what is expected.</summary>
internal sealed class AiOpsReleaseOptionsValidator : IValidateOptions<AiOpsReleaseOptions>
{
    private const string Section = AiOpsReleaseOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, AiOpsReleaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.EvaluationInterval <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.EvaluationInterval), options.EvaluationInterval, "a positive interval (e.g. 00:01:00)"));
        }

        if (options.RefreshInterval <= TimeSpan.Zero || options.RefreshInterval > TimeSpan.FromSeconds(1))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.RefreshInterval), options.RefreshInterval,
                "more than 0 and at most 00:00:01 so every replica sees a weight change within a second"));
        }

        if (options.LeaseDuration <= options.EvaluationInterval)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.LeaseDuration), options.LeaseDuration,
                $"longer than {Section}{nameof(options.EvaluationInterval)} ({options.EvaluationInterval}) so the controller renews it in time"));
        }

        if (string.IsNullOrWhiteSpace(options.InstanceId))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.InstanceId), options.InstanceId, "a unique id of this replica"));
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.StateDirectory), options.StateDirectory, "the folder of the file state store"));
        }

        if (options.MaxHistory < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxHistory), options.MaxHistory, "1 or more"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates each model's <see cref="ModelReleaseOptions"/> at start-up; each message names the configuration key
/// (<c>AiOps:Release:Models:fraud:Gates:MinSamples</c>), its value and what is expected.</summary>
internal sealed class ModelReleaseOptionsValidator : IValidateOptions<ModelReleaseOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelReleaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = $"{ModelReleaseOptions.SectionPrefix}:{name}:";
        var errors = new List<string>();
        void Check(bool ok, string setting, object? value, string expected)
        {
            if (!ok)
            {
                errors.Add(OptionsMessage.Invalid(p + setting, value, expected));
            }
        }

        static string Show(object? value) => OptionsMessage.Show(value);

        Check(options.StableVersion is null || ModelVersion.IsValid(options.StableVersion, out _), "StableVersion", options.StableVersion, OptionsMessage.Version);
        Check(options.Steps is { Count: > 0 }, "Steps", options.Steps is null ? null : string.Empty, "at least one canary weight, e.g. [10, 50, 100]");
        for (var i = 0; i < (options.Steps?.Count ?? 0); i++)
        {
            var w = options.Steps![i];
            Check(!double.IsNaN(w) && w > 0 && w <= 100, $"Steps:{i}", w, "a canary weight above 0 and at most 100 (percent)");
            if (i > 0)
            {
                var previous = options.Steps[i - 1];
                Check(w > previous, $"Steps:{i}", w, $"more than {p}Steps:{i - 1} ({Show(previous)}): steps must increase");
            }
        }

        Check(options.StepHold >= TimeSpan.Zero, "StepHold", options.StepHold, "0 or more");
        if (options.StepHolds.Count != 0 && options.StepHolds.Count != options.Steps?.Count)
        {
            errors.Add($"{p}StepHolds has {options.StepHolds.Count} entries; expected none or one per step ({options.Steps?.Count ?? 0}).");
        }

        for (var i = 0; i < options.StepHolds.Count; i++)
        {
            Check(options.StepHolds[i] >= TimeSpan.Zero, $"StepHolds:{i}", options.StepHolds[i], "0 or more");
        }

        for (var i = 0; i < options.ApprovalSteps.Count; i++)
        {
            Check(options.ApprovalSteps[i] >= 0 && options.ApprovalSteps[i] < (options.Steps?.Count ?? 0), $"ApprovalSteps:{i}", options.ApprovalSteps[i],
                $"a step index from 0 to {(options.Steps?.Count ?? 1) - 1} (0-based, into {p}Steps)");
        }

        Check(options.RoutingSeed is null || options.RoutingSeed.Length > 0, "RoutingSeed", options.RoutingSeed, "a non-empty text, or leave it unset for one per rollout");
        Check(options.UndoWatchPeriod >= TimeSpan.Zero, "UndoWatchPeriod", options.UndoWatchPeriod, "0 (off) or more");

        var g = options.Gates;
        Check(g is not null, "Gates", null, "gate settings (leave it unset for the defaults)");
        if (g is not null)
        {
            Check(g.MinSamples >= 1, "Gates:MinSamples", g.MinSamples, "1 or more (a gate without data never passes)");
            Check(g.MaxErrorRate is null || g.MaxErrorRate is >= 0 and <= 1, "Gates:MaxErrorRate", g.MaxErrorRate, "a rate between 0 and 1 (0.05 = 5 %)");
            Check(g.MaxErrorRateIncrease is >= 0 and <= 1, "Gates:MaxErrorRateIncrease", g.MaxErrorRateIncrease, "between 0 and 1 (0.01 = one point)");
            Check(g.MaxP95LatencyMs is null || g.MaxP95LatencyMs > 0, "Gates:MaxP95LatencyMs", g.MaxP95LatencyMs, "a positive number of milliseconds");
            Check(g.MaxP95LatencyRatio >= 1 && !double.IsInfinity(g.MaxP95LatencyRatio), "Gates:MaxP95LatencyRatio", g.MaxP95LatencyRatio,
                "at least 1 (1.25 = canary p95 up to 25 % above stable's)");
            Check(g.MaxAccuracyDrop is >= 0 and <= 1, "Gates:MaxAccuracyDrop", g.MaxAccuracyDrop, "between 0 and 1 (0.05 = five points)");
            Check(g.JudgeAlpha is > 0 and <= 0.5, "Gates:JudgeAlpha", g.JudgeAlpha, "a significance level above 0 and at most 0.5 (e.g. 0.05)");
            Check(g.JudgePassScore is >= 0 and <= 100, "Gates:JudgePassScore", g.JudgePassScore, "a score between 0 and 100");
            Check(g.JudgeMarginalScore is >= 0 and <= 100, "Gates:JudgeMarginalScore", g.JudgeMarginalScore, "a score between 0 and 100");
            Check(g.JudgeMarginalScore < g.JudgePassScore, "Gates:JudgeMarginalScore", g.JudgeMarginalScore,
                $"less than {p}Gates:JudgePassScore ({Show(g.JudgePassScore)})");
            Check(g.AnalysisWindow > TimeSpan.Zero, "Gates:AnalysisWindow", g.AnalysisWindow, "a positive time (e.g. 00:01:00, the evaluation interval)");
            Check(g.FailureLimit >= 1, "Gates:FailureLimit", g.FailureLimit, "1 or more consecutive failing evaluations");
            Check(g.ErrorRateAlpha is > 0 and <= 0.5, "Gates:ErrorRateAlpha", g.ErrorRateAlpha, "a significance level above 0 and at most 0.5 (e.g. 0.001)");
            Check(g.MarginalTimeout is null || g.MarginalTimeout > TimeSpan.Zero, "Gates:MarginalTimeout", g.MarginalTimeout,
                "a positive time, or leave it unset to hold while marginal");
            Check(Enum.IsDefined(g.MarginalAction), "Gates:MarginalAction", g.MarginalAction, "Rollback or Pause");
            Check(g.NoDataRollbackAfter is null || g.NoDataRollbackAfter > TimeSpan.Zero, "Gates:NoDataRollbackAfter", g.NoDataRollbackAfter,
                "a positive time, or leave it unset to hold forever");
        }

        var r = options.Resilience;
        Check(r is not null, "Resilience", null, "resilience settings (leave it unset for the defaults)");
        if (r is not null)
        {
            Check(r.Timeout > TimeSpan.Zero, "Resilience:Timeout", r.Timeout, "a positive time");
            Check(r.AttemptTimeout > TimeSpan.Zero && r.AttemptTimeout <= r.Timeout, "Resilience:AttemptTimeout", r.AttemptTimeout,
                $"positive and at most {p}Resilience:Timeout ({r.Timeout})");
            Check(r.MaxRetryAttempts is >= 0 and <= 10, "Resilience:MaxRetryAttempts", r.MaxRetryAttempts, "0 to 10");
            Check(r.RetryDelay >= TimeSpan.Zero, "Resilience:RetryDelay", r.RetryDelay, "0 or more");
            Check(r.BreakerFailureRatio is > 0 and <= 1, "Resilience:BreakerFailureRatio", r.BreakerFailureRatio, "above 0 and at most 1");
            Check(r.BreakerMinimumThroughput >= 2, "Resilience:BreakerMinimumThroughput", r.BreakerMinimumThroughput, "2 or more");
            Check(r.BreakerSamplingDuration >= TimeSpan.FromMilliseconds(500), "Resilience:BreakerSamplingDuration", r.BreakerSamplingDuration, "at least 00:00:00.5");
            Check(r.BreakerBreakDuration >= TimeSpan.FromMilliseconds(500), "Resilience:BreakerBreakDuration", r.BreakerBreakDuration, "at least 00:00:00.5");
        }

        var s = options.Shadow;
        Check(s is not null, "Shadow", null, "shadow settings (leave it unset for the defaults)");
        if (s is not null)
        {
            Check(s.Version is null || ModelVersion.IsValid(s.Version, out _), "Shadow:Version", s.Version, OptionsMessage.Version);
            Check(s.QueueCapacity >= 1, "Shadow:QueueCapacity", s.QueueCapacity, "1 or more");
            Check(s.Tolerance >= 0, "Shadow:Tolerance", s.Tolerance, "0 or more");
            Check(s.LogCapacity >= 1, "Shadow:LogCapacity", s.LogCapacity, "1 or more");
            Check(s.Timeout > TimeSpan.Zero, "Shadow:Timeout", s.Timeout, "a positive time");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
