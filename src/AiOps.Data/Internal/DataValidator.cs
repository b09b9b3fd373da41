using AiOps.Data.Pii;
using AiOps.Data.Quality;
using Microsoft.Extensions.Options;

namespace AiOps.Data.Internal;

internal sealed class RuleSetCatalog(IOptions<AiOpsDataOptions> options)
{
    private readonly Lazy<Dictionary<string, RuleSet>> _sets = new(() =>
        options.Value.RuleSets.ToDictionary(kv => kv.Key, kv => RuleSet.FromDefinition(kv.Value), StringComparer.Ordinal));

    public RuleSet Get(string name) => _sets.Value.TryGetValue(name, out var set)
        ? set
        : throw new KeyNotFoundException($"No rule set named '{name}' is configured in AiOpsDataOptions.RuleSets; configured: {string.Join(", ", _sets.Value.Keys)}.");
}

internal sealed class DataValidator(IPiiMasker masker, IOptions<AiOpsDataOptions> options, TimeProvider time, RuleSetCatalog catalog, DataMetrics metrics) : IDataValidator
{
    internal ValidationEngine CreateEngine() => new(masker, options.Value.FailingRowSampleSize, time, options.Value.MaxDegreeOfParallelism);

    public Task<ValidationReport> ValidateAsync(DataSource source, string ruleSetName, CancellationToken cancellationToken = default) =>
        ValidateAsync(source, catalog.Get(ruleSetName), cancellationToken);

    public Task<ValidationReport> ValidateAsync(DataSource source, RuleSet rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rules);
        return Task.Run(() => Validate(source, rules, null, cancellationToken), cancellationToken);
    }

    internal ValidationReport Validate(DataSource source, RuleSet rules, IRowSink? sink, CancellationToken cancellationToken, IReadOnlyDictionary<string, PiiOperator>? declaredPii = null)
    {
        var start = time.GetTimestamp();
        var report = CreateEngine().Run(source, rules, sink, cancellationToken, declaredPii);
        metrics.Validated(time.GetElapsedTime(start), report.Passed);
        return report;
    }
}
