using AiOps.Alerts;

namespace AiOps.Monitoring.Incidents;

/// <summary>One line of an incident's timeline, for the post-incident review.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Kind">What happened: <c>opened</c>, <c>alert_firing</c>, <c>alert_resolved</c>, <c>escalated</c>, <c>note</c>, <c>resolved</c>.</param>
/// <param name="Message">What, with the figures.</param>
public sealed record IncidentTimelineEntry(DateTimeOffset At, string Kind, string Message);

/// <summary>
/// An incident: opened by the first graded alert for a subject (a model version or a GPU), escalated when a more
/// urgent alert joins, resolved when all its alerts resolved. Immutable; every change produces a new record, which
/// <see cref="IIncidentSink"/>s receive so a host can persist it (it serialises with System.Text.Json as is).
/// </summary>
/// <param name="Id">A stable id, e.g. <c>INC-20240801-0001</c>.</param>
/// <param name="Priority">The most urgent priority reached.</param>
/// <param name="Subject">What is affected: <c>fraud:2</c>, <c>gpu:0</c>.</param>
/// <param name="OpenedAt">When the first alert fired.</param>
/// <param name="RespondBy">When someone must have responded (5 minutes for P1, 30 for P2).</param>
/// <param name="RecommendedAction">What to do first.</param>
/// <param name="Timeline">What happened, in order.</param>
public sealed record IncidentRecord(
    string Id,
    IncidentPriority Priority,
    string Subject,
    DateTimeOffset OpenedAt,
    DateTimeOffset RespondBy,
    string RecommendedAction,
    IReadOnlyList<IncidentTimelineEntry> Timeline)
{
    /// <summary>The model version concerned, if any.</summary>
    public ModelKey? Key { get; init; }

    /// <summary>The rules whose alerts are firing now.</summary>
    public IReadOnlyList<string> FiringRules { get; init; } = [];

    /// <summary>When every alert resolved; <see langword="null"/> while open.</summary>
    public DateTimeOffset? ResolvedAt { get; init; }

    /// <summary>Whether the incident is still open.</summary>
    public bool IsOpen => ResolvedAt is null;
}

/// <summary>Receives incident records as they open, change and resolve (persist them for the post-incident review).</summary>
public interface IIncidentSink
{
    /// <summary>Called after each change.</summary>
    /// <param name="incident">The record as it is now.</param>
    /// <param name="cancellationToken">Cancels the hand-off.</param>
    ValueTask OnIncidentChangedAsync(IncidentRecord incident, CancellationToken cancellationToken = default);
}

/// <summary>The incidents opened from graded alerts in this process.</summary>
public interface IIncidentLog
{
    /// <summary>Incidents still open, most urgent first.</summary>
    IReadOnlyList<IncidentRecord> Open { get; }

    /// <summary>Every incident (open and resolved), oldest first.</summary>
    IReadOnlyList<IncidentRecord> All { get; }

    /// <summary>Adds a human note to an incident's timeline.</summary>
    /// <param name="incidentId">The incident id.</param>
    /// <param name="note">The note.</param>
    /// <param name="cancellationToken">Cancels the hand-off to sinks.</param>
    /// <exception cref="KeyNotFoundException">No incident has that id.</exception>
    ValueTask<IncidentRecord> AddNoteAsync(string incidentId, string note, CancellationToken cancellationToken = default);
}
