using System.Diagnostics.Metrics;

namespace AiOps.Release.Checkpoints;

/// <summary>The checkpoint instruments on the <c>AiOps.Release</c> meter.</summary>
internal sealed class CheckpointMetrics
{
    /// <summary>The meter name shared by AiOps.Release.</summary>
    public const string MeterName = AiOpsReleaseDiagnostics.MeterName;

    public CheckpointMetrics(IMeterFactory? meterFactory)
    {
        // Without IMeterFactory (a bare ServiceCollection) the meter is still created, just not owned by a factory.
        var meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Saves = meter.CreateCounter<long>("aiops.checkpoint.saves", "{save}", "Checkpoint saves by outcome (success, failure, rejected, cancelled).");
        SaveDuration = meter.CreateHistogram<double>("aiops.checkpoint.save_duration", "s", "Time to write, hash, flush and commit a checkpoint.");
        BytesWritten = meter.CreateCounter<long>("aiops.checkpoint.bytes_written", "By", "Bytes of checkpoint files committed.");
        Deleted = meter.CreateCounter<long>("aiops.checkpoint.deleted", "{checkpoint}", "Checkpoints deleted by retention.");
        Pending = meter.CreateUpDownCounter<long>("aiops.checkpoint.pending_saves", "{save}", "Saves accepted and not yet committed.");
        Restores = meter.CreateCounter<long>("aiops.checkpoint.restores", "{restore}", "Restores by outcome (restored, none).");
        RestoreSkipped = meter.CreateCounter<long>("aiops.checkpoint.restore_skipped", "{checkpoint}", "Corrupt or partial checkpoints skipped on restore.");
    }

    public Counter<long> Saves { get; }

    public Histogram<double> SaveDuration { get; }

    public Counter<long> BytesWritten { get; }

    public Counter<long> Deleted { get; }

    public UpDownCounter<long> Pending { get; }

    public Counter<long> Restores { get; }

    public Counter<long> RestoreSkipped { get; }

    public static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);
}
