using AiOps.Data.Quality;
using Microsoft.Extensions.Options;

namespace AiOps.Data;

/// <summary>Settings of AiOps.Data, validated at start-up.</summary>
public sealed class AiOpsDataOptions
{
    /// <summary>The root of the content-addressed dataset store. Default <c>aiops-data/datasets</c>.</summary>
    public string DatasetStorePath { get; set; } = Path.Combine("aiops-data", "datasets");

    /// <summary>Where the gate writes admitted files when <c>IngestOptions.OutputPath</c> is not set. Default <c>aiops-data/admitted</c>.</summary>
    public string AdmittedDirectory { get; set; } = Path.Combine("aiops-data", "admitted");

    /// <summary>Where the gate writes quarantine files when <c>IngestOptions.QuarantinePath</c> is not set. Default <c>aiops-data/quarantine</c>.</summary>
    public string QuarantineDirectory { get; set; } = Path.Combine("aiops-data", "quarantine");

    /// <summary>Where each run's metrics are kept for anomaly checks. Default <c>aiops-data/metrics</c>.</summary>
    public string MetricsHistoryPath { get; set; } = Path.Combine("aiops-data", "metrics");

    /// <summary>How many runs of history are kept per dataset (1–100000). Default 100.</summary>
    public int MaxHistoryRuns { get; set; } = 100;

    /// <summary>Failing rows kept per rule in a report (0–10000). Default 20.</summary>
    public int FailingRowSampleSize { get; set; } = 20;

    /// <summary>The secret key of the keyed-hash PII operator (HMAC-SHA256), at least 16 characters; required only when a policy uses
    /// <c>PiiOperator.Hash</c>. Keep it out of source control: the same key makes hashed values join across runs.</summary>
    public string? PiiHashKey { get; set; }

    /// <summary>Rule sets declared in configuration (<c>AiOps:Data:RuleSets:training:Rules:0:Type = not_null</c>), by name.</summary>
    public IDictionary<string, RuleSetDefinition> RuleSets { get; } = new Dictionary<string, RuleSetDefinition>(StringComparer.Ordinal);
}

/// <summary>Checks <see cref="AiOpsDataOptions"/> at start-up; each message names the setting.</summary>
internal sealed class AiOpsDataOptionsValidator : IValidateOptions<AiOpsDataOptions>
{
    public ValidateOptionsResult Validate(string? name, AiOpsDataOptions options)
    {
        var errors = new List<string>();
        void RequirePath(string setting, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"AiOpsDataOptions.{setting} must be a directory path; it is empty.");
            }
            else if (value.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            {
                errors.Add($"AiOpsDataOptions.{setting} '{value}' contains characters not allowed in a path.");
            }
        }

        RequirePath(nameof(options.DatasetStorePath), options.DatasetStorePath);
        RequirePath(nameof(options.AdmittedDirectory), options.AdmittedDirectory);
        RequirePath(nameof(options.QuarantineDirectory), options.QuarantineDirectory);
        RequirePath(nameof(options.MetricsHistoryPath), options.MetricsHistoryPath);
        if (options.FailingRowSampleSize is < 0 or > 10_000)
        {
            errors.Add($"AiOpsDataOptions.FailingRowSampleSize must be between 0 and 10000; it is {options.FailingRowSampleSize}.");
        }

        if (options.MaxHistoryRuns is < 1 or > 100_000)
        {
            errors.Add($"AiOpsDataOptions.MaxHistoryRuns must be between 1 and 100000; it is {options.MaxHistoryRuns}.");
        }

        if (options.PiiHashKey is { } key && key.Length < 16)
        {
            errors.Add($"AiOpsDataOptions.PiiHashKey must be at least 16 characters when set; it has {key.Length}.");
        }

        foreach (var (setName, def) in options.RuleSets)
        {
            try
            {
                _ = RuleSet.FromDefinition(def);
            }
            catch (ArgumentException e)
            {
                errors.Add($"AiOpsDataOptions.RuleSets[{setName}]: {e.Message}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
