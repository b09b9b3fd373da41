namespace AiOps.Release.Shadow;

/// <summary>How a shadow answer compared with the caller's.</summary>
public enum ShadowOutcome
{
    /// <summary>Same outputs, shapes and types, every element within the tolerance.</summary>
    Match = 0,

    /// <summary>An output differs (missing, other shape or type, or an element beyond the tolerance).</summary>
    Mismatch,

    /// <summary>The shadow call failed.</summary>
    Error,
}

/// <summary>One shadow comparison that did not match (the log keeps differences, not matches).</summary>
/// <param name="Model">The model.</param>
/// <param name="Primary">The version that answered the caller.</param>
/// <param name="Shadow">The shadow version.</param>
/// <param name="At">When the comparison was made.</param>
/// <param name="Outcome">Mismatch or error.</param>
/// <param name="MaxAbsDifference">The largest absolute element difference (NaN when not comparable).</param>
/// <param name="Detail">What differed, or the error.</param>
public sealed record ShadowComparison(
    ModelId Model,
    ModelVersion Primary,
    ModelVersion Shadow,
    DateTimeOffset At,
    ShadowOutcome Outcome,
    double MaxAbsDifference,
    string Detail)
{
    /// <summary>The request id, when the caller gave one.</summary>
    public string? RequestId { get; init; }
}

/// <summary>Counts of shadow traffic for one model since start.</summary>
/// <param name="Queued">Copies queued.</param>
/// <param name="Dropped">Copies dropped because the queue was full.</param>
/// <param name="Matched">Comparisons that matched.</param>
/// <param name="Mismatched">Comparisons that differed.</param>
/// <param name="Errors">Shadow calls that failed.</param>
public sealed record ShadowStatistics(long Queued, long Dropped, long Matched, long Mismatched, long Errors)
{
    /// <summary>Comparisons completed (matched, mismatched or failed).</summary>
    public long Compared => Matched + Mismatched + Errors;
}

/// <summary>The bounded log of shadow differences and the shadow counts, per model.</summary>
public interface IShadowComparisonLog
{
    /// <summary>The most recent differences (mismatches and errors), oldest first.</summary>
    /// <param name="model">The model.</param>
    IReadOnlyList<ShadowComparison> GetRecent(ModelId model);

    /// <summary>The counts since start.</summary>
    /// <param name="model">The model.</param>
    ShadowStatistics GetStatistics(ModelId model);
}
