using AiOps.Release.Internal;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using AiOps.Checkpoints;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Checkpoints;

/// <summary>
/// Saves checkpoints on one background worker through a bounded channel. An accepted save stays in the channel until it
/// is committed, so the channel's capacity is exactly the number of saves (and content copies) in flight.
/// </summary>
internal sealed partial class CheckpointManager : ICheckpointManager, IAsyncDisposable
{
    private readonly ICheckpointStore _store;
    private readonly CheckpointOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CheckpointMetrics _metrics;
    private readonly Channel<SaveItem> _queue;
    private readonly CancellationTokenSource _abort = new();
    private readonly List<Task<CheckpointInfo>> _unflushed = [];
    private readonly Lock _gate = new();
    private readonly Task _worker;
    private long _lastSaveUtcTicks;
    private int _disposed;

    public CheckpointManager(
        ICheckpointStore store,
        IOptions<CheckpointOptions> options,
        TimeProvider timeProvider,
        ILogger<CheckpointManager> logger,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
        _metrics = new CheckpointMetrics(meterFactory);
        _queue = Channel.CreateBounded<SaveItem>(new BoundedChannelOptions(_options.MaxPendingSaves)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _lastSaveUtcTicks = _time.GetUtcNow().UtcTicks;
        _worker = Task.Run(RunAsync);
    }

    /// <inheritdoc />
    public ICheckpointStore Store => _store;

    /// <inheritdoc />
    public int PendingSaves => _queue.Reader.Count;

    /// <inheritdoc />
    public bool ShouldSave(long trainingStep)
    {
        if (_options.SaveEveryNSteps > 0 && trainingStep > 0 && trainingStep % _options.SaveEveryNSteps == 0)
        {
            return true;
        }

        return _options.SaveEvery is { } every
            && _time.GetUtcNow().UtcTicks - Interlocked.Read(ref _lastSaveUtcTicks) >= every.Ticks;
    }

    /// <inheritdoc />
    public async ValueTask<PendingCheckpoint> SaveAsync(CheckpointContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ThrowIfStopped();
        var item = new SaveItem(content, new TaskCompletionSource<CheckpointInfo>(TaskCreationOptions.RunContinuationsAsynchronously));
        var accepted = false;
        _metrics.Pending.Add(1);
        try
        {
            if (_options.WhenFull == CheckpointQueueFullMode.Reject)
            {
                if (!_queue.Writer.TryWrite(item))
                {
                    ThrowIfStopped();
                    _metrics.Saves.Add(1, CheckpointMetrics.Outcome("rejected"));
                    throw new CheckpointSaveRejectedException(
                        $"Checkpoint at step {content.Step} was rejected: {_options.MaxPendingSaves} saves are already pending " +
                        "(CheckpointOptions.MaxPendingSaves). Save less often, raise the limit, or use CheckpointQueueFullMode.Wait.");
                }
            }
            else
            {
                await _queue.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
            }

            accepted = true;
        }
        catch (ChannelClosedException)
        {
            ThrowIfStopped();
            throw;
        }
        finally
        {
            if (!accepted)
            {
                _metrics.Pending.Add(-1);
            }
        }

        Interlocked.Exchange(ref _lastSaveUtcTicks, _time.GetUtcNow().UtcTicks);
        lock (_gate)
        {
            _unflushed.RemoveAll(t => t.IsCompletedSuccessfully);
            _unflushed.Add(item.Completion.Task);
        }

        return new PendingCheckpoint(content.Step, item.Completion.Task);
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        Task<CheckpointInfo>[] snapshot;
        lock (_gate)
        {
            snapshot = [.. _unflushed];
            _unflushed.Clear();
        }

        Task all = Task.WhenAll(snapshot);
        await all.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!all.IsCompleted)
        {
            lock (_gate)
            {
                _unflushed.InsertRange(0, snapshot);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        var failed = Array.Find(snapshot, t => !t.IsCompletedSuccessfully);
        if (failed is not null)
        {
            await failed.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask<RestoredCheckpoint?> RestoreLatestAsync(CancellationToken cancellationToken = default)
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _unflushed];
        }

        await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();

        var all = await _store.ListAsync(cancellationToken).ConfigureAwait(false);
        var skipped = new List<SkippedCheckpoint>();
        for (var i = all.Count - 1; i >= 0; i--)
        {
            var candidate = all[i];
            string? problem;
            try
            {
                problem = await _store.VerifyAsync(candidate.Id, cancellationToken).ConfigureAwait(false);
            }
            catch (CheckpointNotFoundException ex)
            {
                problem = ex.Message;
            }

            if (problem is null)
            {
                _metrics.Restores.Add(1, CheckpointMetrics.Outcome("restored"));
                LogRestored(_logger, candidate.Id, candidate.Step, skipped.Count);
                return new RestoredCheckpoint(_store, candidate, skipped);
            }

            skipped.Add(new SkippedCheckpoint(candidate.Id, problem));
            _metrics.RestoreSkipped.Add(1);
            LogSkipped(_logger, candidate.Id, candidate.Step, problem);
        }

        _metrics.Restores.Add(1, CheckpointMetrics.Outcome("none"));
        LogNoneValid(_logger, all.Count);
        return null;
    }

    /// <summary>Stops accepting saves and waits for the pending ones; when <paramref name="cancellationToken"/> fires, the one being written is abandoned (nothing partial stays).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _disposed, 1);
        _queue.Writer.TryComplete();
        await _worker.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!_worker.IsCompleted)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            await _worker.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _abort.Dispose();
    }

    private void ThrowIfStopped()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new InvalidOperationException("The checkpoint manager has stopped (the host is stopping or it was disposed); no more saves are accepted.");
        }
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryPeek(out var item))
            {
                var (info, error) = await ProcessAsync(item.Content).ConfigureAwait(false);
                reader.TryRead(out _);
                _metrics.Pending.Add(-1);
                if (info is not null)
                {
                    item.Completion.TrySetResult(info);
                }
                else if (error is OperationCanceledException canceled)
                {
                    item.Completion.TrySetCanceled(canceled.CancellationToken);
                }
                else
                {
                    item.Completion.TrySetException(error!);
                }
            }
        }
    }

    private async Task<(CheckpointInfo? Info, Exception? Error)> ProcessAsync(CheckpointContent content)
    {
        using var activity = AiOpsReleaseDiagnostics.Source.StartActivity(AiOpsReleaseDiagnostics.CheckpointSaveActivityName);
        activity?.SetTag("aiops.checkpoint.step", content.Step);
        var started = _time.GetTimestamp();
        CheckpointInfo info;
        try
        {
            info = await _store.SaveAsync(content, _abort.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            _metrics.Saves.Add(1, CheckpointMetrics.Outcome("cancelled"));
            activity?.SetTag("aiops.outcome", "cancelled");
            Tracing.Fail(activity, ex);
            return (null, ex);
        }
#pragma warning disable CA1031 // The worker must survive any failure of one save; the error goes to the caller's task.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _metrics.Saves.Add(1, CheckpointMetrics.Outcome("failure"));
            _metrics.SaveDuration.Record(_time.GetElapsedTime(started).TotalSeconds, CheckpointMetrics.Outcome("failure"));
            LogSaveFailed(_logger, content.Step, ex);
            activity?.SetTag("aiops.outcome", "failure");
            Tracing.Fail(activity, ex);
            return (null, ex);
        }

        activity?.SetTag("aiops.outcome", "success");
        activity?.SetTag("aiops.checkpoint.id", info.Id);

        _metrics.Saves.Add(1, CheckpointMetrics.Outcome("success"));
        _metrics.SaveDuration.Record(_time.GetElapsedTime(started).TotalSeconds, CheckpointMetrics.Outcome("success"));
        _metrics.BytesWritten.Add(info.Files.Sum(f => f.Length));
        LogSaved(_logger, info.Id, info.Step);
        await ApplyRetentionAsync(info).ConfigureAwait(false);
        return (info, null);
    }

    /// <summary>Runs after the new checkpoint is committed; a failed delete is logged and retried after the next save.</summary>
    private async Task ApplyRetentionAsync(CheckpointInfo committed)
    {
        if (!CheckpointRetention.IsEnabled(_options.Retention))
        {
            return;
        }

        try
        {
            var all = await _store.ListAsync(_abort.Token).ConfigureAwait(false);
            var keep = CheckpointRetention.SelectKept(all, _options.Retention);
            keep.Add(committed.Id);
            foreach (var checkpoint in all)
            {
                if (!keep.Contains(checkpoint.Id))
                {
                    await _store.DeleteAsync(checkpoint.Id, _abort.Token).ConfigureAwait(false);
                    _metrics.Deleted.Add(1);
                    LogDeleted(_logger, checkpoint.Id, checkpoint.Step);
                }
            }
        }
#pragma warning disable CA1031 // Retention is housekeeping: the committed checkpoint stays valid whatever happens here.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRetentionFailed(_logger, ex);
        }
    }

    private sealed record SaveItem(CheckpointContent Content, TaskCompletionSource<CheckpointInfo> Completion);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checkpoint '{Id}' (step {Step}) committed.")]
    private static partial void LogSaved(ILogger logger, string id, long step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Checkpoint at step {Step} was not saved.")]
    private static partial void LogSaveFailed(ILogger logger, long step, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted checkpoint '{Id}' (step {Step}).")]
    private static partial void LogDeleted(ILogger logger, string id, long step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint retention failed; it is retried after the next save.")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint '{Id}' (step {Step}) is corrupt or partial and is skipped: {Reason}. Trying an older one.")]
    private static partial void LogSkipped(ILogger logger, string id, long step, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restoring checkpoint '{Id}' (step {Step}); {Skipped} newer ones were skipped.")]
    private static partial void LogRestored(ILogger logger, string id, long step, int skipped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No valid checkpoint to restore among {Count} committed ones.")]
    private static partial void LogNoneValid(ILogger logger, int count);
}

/// <summary>Waits for pending checkpoint saves when the host stops.</summary>
internal sealed class CheckpointFlushOnStop(CheckpointManager manager) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => manager.StopAsync(cancellationToken);
}
