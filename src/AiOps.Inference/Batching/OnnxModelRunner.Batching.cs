using System.Threading.Channels;
using AiOps.Inference.Diagnostics;
using AiOps.Inference.Sessions;

namespace AiOps.Inference;

/// <summary>Micro-batching: one worker per runner stacks queued calls into one run and splits the outputs back.</summary>
public sealed partial class OnnxModelRunner
{
    private readonly Lock _batcherLock = new();
    private Channel<BatchItem>? _batcher;
    private Task? _batchWorker;
    private TaskCompletionSource? _fillSignal;
    private int _wantedItems;

    private void StartBatcher()
    {
        lock (_batcherLock)
        {
            if (_batcher is not null)
            {
                return;
            }

            var channel = Channel.CreateUnbounded<BatchItem>(new UnboundedChannelOptions { SingleReader = false }); // the multi-reader channel can count its items; one worker reads
            _batchWorker = Task.Run(() => BatchLoopAsync(channel.Reader));
            Volatile.Write(ref _batcher, channel);
        }
    }

    private async Task StopBatcherAsync()
    {
        Channel<BatchItem>? channel;
        Task? worker;
        lock (_batcherLock)
        {
            channel = _batcher;
            worker = _batchWorker;
        }

        if (channel is null || worker is null)
        {
            return;
        }

        channel.Writer.TryComplete();
        Volatile.Read(ref _fillSignal)?.TrySetResult();
        await worker.ConfigureAwait(false);
        while (channel.Reader.TryRead(out var item))
        {
            Complete(item, Outcomes.Error, null, new ModelNotReadyException($"{Key} was disposed before the call ran.") { Key = Key });
        }
    }

    private ValueTask<ModelResponse> EnqueueBatched(ModelTensor[] inputs, long started, CancellationToken cancellationToken)
    {
        var item = new BatchItem(inputs, inputs[0].Shape[0], started, cancellationToken);
        if (_options.CallTimeout is { } timeout)
        {
            item.TimeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            item.Timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), item.TimeoutSource, timeout, Timeout.InfiniteTimeSpan);
        }

        var token = item.TimeoutSource?.Token ?? cancellationToken;
        if (token.CanBeCanceled)
        {
            item.Registration = token.UnsafeRegister(
                static (s, _) =>
                {
                    var (runner, queued) = ((OnnxModelRunner, BatchItem))s!;
                    runner.Cancel(queued);
                },
                (this, item));
        }

        var channel = _batcher!;
        if (!channel.Writer.TryWrite(item))
        {
            Complete(item, Outcomes.Error, null, new ModelNotReadyException($"{Key} has been disposed.") { Key = Key });
        }
        else if (Volatile.Read(ref _fillSignal) is { } signal && channel.Reader.Count >= Volatile.Read(ref _wantedItems))
        {
            // Wake the worker only when enough calls wait to fill its batch (one wake-up per batch, not per call).
            signal.TrySetResult();
        }

        return new ValueTask<ModelResponse>(item.Completion.Task);
    }

    private void Cancel(BatchItem item)
    {
        // A cancelled caller leaves at once; if its rows are already in a running batch the others are unaffected
        // and its share of the result is dropped.
        if (item.CallerToken.IsCancellationRequested)
        {
            Complete(item, Outcomes.Cancelled, null, new OperationCanceledException($"The call to {Key} was cancelled.", item.CallerToken), fromCallback: true);
        }
        else
        {
            Complete(item, Outcomes.Timeout, null, new OperationCanceledException($"The call to {Key} timed out after {_options.CallTimeout} (CallTimeout)."), fromCallback: true);
        }
    }

    private void Complete(BatchItem item, string outcome, ModelResponse? response, Exception? error, bool fromCallback = false, long completedAt = 0)
    {
        var done = response is not null ? item.Completion.TrySetResult(response) : item.Completion.TrySetException(error!);
        if (!done)
        {
            return;
        }

        // A batch passes one end time for all its calls: reading the clock per call is a measurable share of a tiny batch.
        _instruments.Completed(outcome, _time.GetElapsedTime(item.Enqueued, completedAt != 0 ? completedAt : _time.GetTimestamp()).TotalSeconds);
        Interlocked.Decrement(ref _pending);
        _instruments.InFlight(-1);
        if (fromCallback)
        {
            // We are inside the token's (or the timeout source's) own cancellation callback: release them afterwards.
            ThreadPool.UnsafeQueueUserWorkItem(static i => i.Release(), item, preferLocal: false);
        }
        else
        {
            item.Release();
        }
    }

    private async Task BatchLoopAsync(ChannelReader<BatchItem> reader)
    {
        var batch = new List<BatchItem>();
        var maxRows = _options.Batching.MaxBatchSize;
        var maxDelay = _options.Batching.MaxQueueDelay;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            long rows = 0;
            var full = false;
            while (true)
            {
                while (!full && reader.TryPeek(out var next))
                {
                    if (next.Completion.Task.IsCompleted)
                    {
                        reader.TryRead(out _); // cancelled while queued
                        continue;
                    }

                    if (batch.Count > 0 && (rows + next.Rows > maxRows || !SameRowShape(batch[0], next)))
                    {
                        full = true; // it starts the next batch
                        break;
                    }

                    reader.TryRead(out _);
                    batch.Add(next);
                    rows += next.Rows;
                    full = rows >= maxRows;
                }

                // The deadline counts from when the first call was queued, so it holds even if the clock moved on
                // before this worker got here; whatever arrived meanwhile was drained above and joins the batch.
                if (batch.Count == 0 || full || _time.GetElapsedTime(batch[0].Enqueued) >= maxDelay)
                {
                    break;
                }

                if (!await WaitForMoreAsync(reader, maxDelay - _time.GetElapsedTime(batch[0].Enqueued), maxRows - rows, batch[0].Enqueued, maxDelay).ConfigureAwait(false))
                {
                    break; // the runner is being disposed: run what was taken
                }
            }

            if (batch.Count > 0)
            {
                RunBatch(batch, rows);
            }
        }
    }

    /// <summary>
    /// Waits until enough calls are queued to fill the batch or the batch's deadline passes; <see langword="false"/>
    /// when the runner is being disposed.
    /// </summary>
    private async Task<bool> WaitForMoreAsync(ChannelReader<BatchItem> reader, TimeSpan remaining, long wantedRows, long firstEnqueued, TimeSpan maxDelay)
    {
        if (remaining <= TimeSpan.Zero)
        {
            return true;
        }

        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _wantedItems, (int)Math.Min(wantedRows, int.MaxValue));
        Volatile.Write(ref _fillSignal, signal);
        using var stop = new CancellationTokenSource();
        var deadline = Task.Delay(remaining, _time, stop.Token);

        // Re-check after publishing the signal and creating the timer: calls queued or clock moves before then would
        // otherwise be missed.
        if (reader.Count < wantedRows && _time.GetElapsedTime(firstEnqueued) < maxDelay && Volatile.Read(ref _disposed) == 0)
        {
            await Task.WhenAny(signal.Task, deadline).ConfigureAwait(false);
        }

        Volatile.Write(ref _fillSignal, null);
        await stop.CancelAsync().ConfigureAwait(false);
        return Volatile.Read(ref _disposed) == 0;
    }

    private static bool SameRowShape(BatchItem a, BatchItem b)
    {
        for (var i = 0; i < a.Inputs.Length; i++)
        {
            if (!a.Inputs[i].Shape[1..].SequenceEqual(b.Inputs[i].Shape[1..]))
            {
                return false;
            }
        }

        return true;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Any failure of a batch run is handed to every caller in the batch; the worker must keep serving.")]
    private void RunBatch(List<BatchItem> batch, long rows)
    {
        LoadedSession? session = null;
        try
        {
            while (true)
            {
                session = Volatile.Read(ref _current) ?? throw new ModelNotReadyException($"{Key} is not loaded.") { Key = Key };
                if (session.TryAcquire())
                {
                    break;
                }
            }

            var dequeued = _time.GetTimestamp();
            foreach (var item in batch)
            {
                _instruments.Queued(_time.GetElapsedTime(item.Enqueued, dequeued).TotalSeconds);
            }

            ModelTensor[] inputs;
            if (batch.Count == 1)
            {
                inputs = batch[0].Inputs;
            }
            else
            {
                var parts = batch.ConvertAll(b => b.Inputs);
                inputs = new ModelTensor[session.Inputs.Length];
                for (var i = 0; i < inputs.Length; i++)
                {
                    var shape = batch[0].Inputs[i].ShapeArray.AsSpan().ToArray();
                    shape[0] = rows;
                    inputs[i] = session.Inputs[i].Ops.Stack(session.Inputs[i].Name, parts, i, shape);
                }
            }

            BeforeRun?.Invoke();
            var outputs = session.Run(inputs, _sharedRunOptions);
            _instruments.Batch(rows);
            var completedAt = _time.GetTimestamp();
            if (batch.Count == 1)
            {
                Complete(batch[0], Outcomes.Ok, new ModelResponse(Key, outputs), null, completedAt: completedAt);
                return;
            }

            foreach (var output in outputs)
            {
                if (output.Rank == 0 || output.Shape[0] != rows)
                {
                    throw new InvalidOperationException($"Output '{output.Name}' of {Key} has shape {output.FormatShape()} for a batch of {rows} rows; expected {rows} rows to split between the callers.");
                }
            }

            long row = 0;
            foreach (var item in batch)
            {
                var mine = new ModelTensor[outputs.Length];
                for (var o = 0; o < outputs.Length; o++)
                {
                    mine[o] = session.Outputs[o].Ops.SliceRows(outputs[o], row, item.Rows);
                }

                row += item.Rows;
                Complete(item, Outcomes.Ok, new ModelResponse(Key, mine), null, completedAt: completedAt);
            }
        }
        catch (Exception e)
        {
            Log.BatchFailed(_logger, e, Key, batch.Count);
            foreach (var item in batch)
            {
                Complete(item, Outcomes.Error, null, e);
            }
        }
        finally
        {
            session?.Release();
        }
    }

    /// <summary>One queued call.</summary>
    private sealed class BatchItem(ModelTensor[] inputs, long rows, long enqueued, CancellationToken callerToken)
    {
        public ModelTensor[] Inputs { get; } = inputs;

        public long Rows { get; } = rows;

        public long Enqueued { get; } = enqueued;

        public CancellationToken CallerToken { get; } = callerToken;

        public TaskCompletionSource<ModelResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource? TimeoutSource { get; set; }

        public ITimer? Timer { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public void Release()
        {
            Registration.Dispose();
            Timer?.Dispose();
            TimeoutSource?.Dispose();
        }
    }
}
