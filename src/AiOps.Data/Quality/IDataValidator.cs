namespace AiOps.Data.Quality;

/// <summary>Validates tabular data against a rule set in one streaming pass (two with outlier rules), gathering per-column statistics.
/// Memory does not grow with the data (except for exact <see cref="ColumnRules.Unique"/>, which keeps the distinct values).</summary>
/// <example>
/// <code>
/// var report = await validator.ValidateAsync(DataSource.FromCsv("train.csv"), rules);
/// Console.WriteLine(report.ToText());
/// </code>
/// </example>
public interface IDataValidator
{
    /// <summary>Validates <paramref name="source"/>. The CPU-bound pass runs on a thread-pool thread.</summary>
    /// <param name="source">The data.</param>
    /// <param name="rules">The rules.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <returns>The report.</returns>
    /// <exception cref="MalformedCsvException">The CSV cannot be parsed at all (e.g. a record over the parser's buffer limit); the message
    /// gives the line. A record with broken quoting does not throw: it is reported as malformed (rule <c>well_formed</c>) with its line.</exception>
    Task<ValidationReport> ValidateAsync(DataSource source, RuleSet rules, CancellationToken cancellationToken = default);

    /// <summary>Validates <paramref name="source"/> against the rule set named <paramref name="ruleSetName"/> in <see cref="AiOpsDataOptions.RuleSets"/>.</summary>
    /// <param name="source">The data.</param>
    /// <param name="ruleSetName">A configured rule set.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <returns>The report.</returns>
    /// <exception cref="KeyNotFoundException">No such rule set is configured.</exception>
    Task<ValidationReport> ValidateAsync(DataSource source, string ruleSetName, CancellationToken cancellationToken = default);
}
