using System.Globalization;
using AiOps.Data.Internal;
using AiOps.Data.Quality;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AiOps.Data;

/// <summary>Settings of AiOps.Data, validated at start-up.</summary>
public sealed class AiOpsDataOptions
{
    /// <summary>The configuration section bound by <c>AddAiOpsData</c>: <c>AiOps:Data</c>; rule sets are <c>AiOps:Data:RuleSets:&lt;name&gt;</c>.</summary>
    public const string SectionName = "AiOps:Data";

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

    /// <summary>
    /// Threads one validation may use (1–64). Default: the processor count. With 2 or more, on a machine with 2 or more
    /// processors, a validation of a CSV file of at least 1 MiB splits its columns (with their rules) between two threads,
    /// each parsing the whole file: measured 1.43x the one-thread rate on 2 cores (<c>bench/RESULTS.md</c>), for about 25 %
    /// more CPU. The report is the same as with 1 (every rule and statistic sees the same rows in the same order). Two is the
    /// most used today; the gate (which writes rows in order), streams, JSON Lines, Parquet, ADO.NET and in-memory sources,
    /// and rule sets with whole-row predicates always run on one thread. Set 1 on a machine whose cores are busy with other work.
    /// </summary>
    public int MaxDegreeOfParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>The secret key of the keyed-hash PII operator (HMAC-SHA256), at least 16 characters; required only when a policy uses
    /// <c>PiiOperator.Hash</c>. Keep it out of source control: the same key makes hashed values join across runs.</summary>
    public string? PiiHashKey { get; set; }

    /// <summary>Rule sets declared in configuration (<c>AiOps:Data:RuleSets:training:Rules:0:Type = not_null</c>), by name.</summary>
    public IDictionary<string, RuleSetDefinition> RuleSets { get; } = new Dictionary<string, RuleSetDefinition>(StringComparer.Ordinal);
}

/// <summary>Checks <see cref="AiOpsDataOptions"/> at start-up; each message names the configuration key, its value and what is expected
/// (<c>AiOps:Data:FailingRowSampleSize is 20000; expected 0 to 10000.</c>). Keys of the host's configuration under <c>AiOps:Data</c> that no
/// option has (a misspelt rule setting such as <c>Rules:1:Mostley</c>) are refused too, naming the key and the allowed settings.</summary>
internal sealed class AiOpsDataOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<AiOpsDataOptions>
{
    private const string Section = AiOpsDataOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, AiOpsDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        void RequirePath(string setting, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{Section}{setting} is empty; expected a directory path.");
            }
            else if (value.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            {
                errors.Add($"{Section}{setting} is '{value}'; expected a directory path without characters that are not allowed in a path.");
            }
        }

        RequirePath(nameof(options.DatasetStorePath), options.DatasetStorePath);
        RequirePath(nameof(options.AdmittedDirectory), options.AdmittedDirectory);
        RequirePath(nameof(options.QuarantineDirectory), options.QuarantineDirectory);
        RequirePath(nameof(options.MetricsHistoryPath), options.MetricsHistoryPath);
        if (options.FailingRowSampleSize is < 0 or > 10_000)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}{nameof(options.FailingRowSampleSize)} is {options.FailingRowSampleSize}; expected 0 to 10000."));
        }

        if (options.MaxDegreeOfParallelism is < 1 or > 64)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}{nameof(options.MaxDegreeOfParallelism)} is {options.MaxDegreeOfParallelism}; expected 1 to 64."));
        }

        if (options.MaxHistoryRuns is < 1 or > 100_000)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}{nameof(options.MaxHistoryRuns)} is {options.MaxHistoryRuns}; expected 1 to 100000."));
        }

        if (options.PiiHashKey is { } key && key.Length < 16)
        {
            // The key is a secret: the message gives its length, never its value.
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}{nameof(options.PiiHashKey)} is {key.Length} characters long; expected at least 16 (or leave it unset)."));
        }

        foreach (var (setName, def) in options.RuleSets)
        {
            var at = $"{Section}{nameof(options.RuleSets)}:{setName}";
            if (def is null)
            {
                errors.Add($"{at} is null; expected a rule set definition.");
                continue;
            }

            errors.AddRange(RuleSet.Check(def, at));
        }

        if (configuration is not null && (name ?? Options.DefaultName) == Options.DefaultName)
        {
            errors.AddRange(StrictConfiguration.Check(configuration));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
