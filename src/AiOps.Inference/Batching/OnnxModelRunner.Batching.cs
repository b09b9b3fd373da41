using System.Diagnostics;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using AiOps.Inference.Diagnostics;
using AiOps.Inference.Sessions;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference;

/// <summary>Micro-batching: one worker per runner stacks queued calls into one run and splits the outputs back.</summary>
public sealed partial class OnnxModelRunner
{
    private static readonly TimerCallback s_cancelOnTimeout = static s =>
    {
        try
        {
            ((CancellationTokenSource)s!).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished and released its timeout source while the timer fired.
        }
    };

    private readonly Lock _batcherLock = new();
    private Batcher[]? _batcher;

    private void StartBatcher()
    {
        lock (_batcherLock)
        {
            if (_batcher is null)
            {
                var batchers = new Batcher[_options.Batching.MaxConcurrentBatches];
                for (var i = 0; i < batchers.Length; i++)
                {
                    batchers[i] = new Batcher(this);
                }

                Volatile.Write(ref _batcher, batchers);
            }
        }
    }

    private async Task StopBatcherAsync()
    {
        Batcher[]? batchers;
        lock (_batcherLock)
        {
            batchers = _batcher;
        }

        if (batchers is not null)
        {
            await Task.WhenAll(batchers.Select(b => b.StopAsync())).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The queue a call joins: with one batcher (the default) that one. With several (instance groups) an idle one
    /// first, where the call may run at once on its own thread (<paramref name="inline"/>), else the one with the fewest
    /// rows queued, ties going round from a per-thread start so that concurrent callers spread.
    /// </summary>
    private static Batcher PickBatcher(Batcher[] batchers, out bool inline)
    {
        var first = batchers[0];
        if (batchers.Length == 1)
        {
            inline = first.TryEnterInline();
            return first;
        }

        foreach (var batcher in batchers)
        {
            if (batcher.TryEnterInline())
            {
                inline = true;
                return batcher;
            }
        }

        inline = false;
        var start = (int)((uint)Environment.CurrentManagedThreadId % (uint)batchers.Length);
        var best = batchers[start];
        var fewest = best.QueuedUnits;
        for (var i = 1; i < batchers.Length && fewest > 0; i++)
        {
            var candidate = batchers[(start + i) % batchers.Length];
            var queued = candidate.QueuedUnits;
            if (queued < fewest)
            {
                best = candidate;
                fewest = queued;
            }
        }

        return best;
    }

    private ValueTask<ModelResponse> EnqueueBatched(Batcher batcher, LoadedSession session, ModelTensor[] inputs, long started, Activity? activity, CancellationToken cancellationToken)
    {
        var item = batcher.Rent(inputs, session.Rows(inputs), session.Batch, started, cancellationToken);
        item.Activity = activity;
        if (_options.CallTimeout is { } timeout)
        {
            item.TimeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            item.Timer = _time.CreateTimer(s_cancelOnTimeout, item.TimeoutSource, timeout, Timeout.InfiniteTimeSpan);
        }

        var token = item.TimeoutSource?.Token ?? cancellationToken;
        if (token.CanBeCanceled)
        {
            item.Registration = token.UnsafeRegister(static (s, _) => ((BatchItem)s!).Owner.Runner.Cancel((BatchItem)s!), item);
        }

        // Taken before the item is queued: from then on the worker may complete it at any moment.
        var result = item.AsValueTask();
        batcher.Enqueue(item);
        return result;
    }

    private void Cancel(BatchItem item)
    {
        // A cancelled caller leaves at once; if its rows are already in a running batch the others are unaffected
        // and its share of the result is dropped. The worker releases the registration and timer when it next sees
        // the item (never from inside this callback).
        if (item.CallerToken.IsCancellationRequested)
        {
            Complete(item, Outcomes.Cancelled, null, new OperationCanceledException($"The call to {Key} was cancelled.", item.CallerToken));
        }
        else
        {
            Complete(item, Outcomes.Timeout, null, new OperationCanceledException($"The call to {Key} timed out after {_options.CallTimeout} (CallTimeout)."));
        }
    }

    private void Complete(BatchItem item, string outcome, ModelResponse? response, Exception? error, long completedAt = 0)
    {
        if (!item.TryClaim())
        {
            return;
        }

        // Metrics and the pending count are updated before the caller is released, so a caller that has its answer
        // sees them. A batch passes one end time for all its calls: reading the clock per call is a measurable share
        // of a tiny batch.
        _instruments.Completed(outcome, _time.GetElapsedTime(item.Enqueued, completedAt != 0 ? completedAt : _time.GetTimestamp()).TotalSeconds);
        LeaveQueue();
        _instruments.InFlight(-1);
        if (item.Activity is { } activity)
        {
            item.Activity = null;
            AiOpsInferenceDiagnostics.Stop(activity, outcome, error);
        }

        item.Publish(response, error);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "Any failure of a batch run is handed to every caller in the batch; the worker must keep serving.")]
    private void RunBatch(List<BatchItem> batch, long rows, List<ModelTensor[]> parts)
    {
        LoadedSession? session = null;
        Activity? batchActivity = null;
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
                var waited = _time.GetElapsedTime(item.Enqueued, dequeued).TotalSeconds;
                _instruments.Queued(waited);
                if (item.Activity is { } call)
                {
                    call.SetTag("aiops.queue_wait_seconds", waited);
                    call.SetTag("aiops.batch.calls", batch.Count);
                }
            }

            batchActivity = StartBatchActivity(batch, rows);

            ModelTensor[] inputs;
            if (batch.Count == 1)
            {
                inputs = batch[0].Inputs;
            }
            else
            {
                parts.Clear();
                foreach (var item in batch)
                {
                    parts.Add(item.Inputs);
                }

                inputs = new ModelTensor[session.Inputs.Length];
                var inputAxes = batch[0].Layout.InputAxes;
                for (var i = 0; i < inputs.Length; i++)
                {
                    var axis = inputAxes[i];
                    if (axis < 0)
                    {
                        inputs[i] = batch[0].Inputs[i]; // not batched: every call of the batch gives the same tensor
                        continue;
                    }

                    var shape = batch[0].Inputs[i].Shape.ToArray();
                    shape[axis] = rows;
                    inputs[i] = session.Inputs[i].Ops.Stack(session.Inputs[i].Name, parts, i, shape, axis);
                }

                parts.Clear();
            }

            BeforeRun?.Invoke();
            var outputs = session.Run(inputs, _sharedRunOptions);
            _instruments.Batch(rows);
            var completedAt = _time.GetTimestamp();
            if (batch.Count == 1)
            {
                Complete(batch[0], Outcomes.Ok, new ModelResponse(Key, outputs), null, completedAt);
                return;
            }

            var outputAxes = session.Batch.OutputAxes;
            for (var o = 0; o < outputs.Length; o++)
            {
                var output = outputs[o];
                if (outputAxes[o] >= 0 && (output.Rank <= outputAxes[o] || output.Shape[outputAxes[o]] != rows))
                {
                    throw new InvalidOperationException($"Output '{output.Name}' of {Key} has shape {output.FormatShape()} for a batch of {rows} rows; expected {rows} rows to split between the callers.");
                }
            }

            long row = 0;
            foreach (var item in batch)
            {
                if (!item.IsCompleted)
                {
                    var mine = new ModelTensor[outputs.Length];
                    for (var o = 0; o < outputs.Length; o++)
                    {
                        // An unbatched output (declared none) does not depend on the rows: every caller receives it whole.
                        mine[o] = outputAxes[o] >= 0 ? session.Outputs[o].Ops.SliceRows(outputs[o], row, item.Rows, outputAxes[o]) : outputs[o];
                    }

                    Complete(item, Outcomes.Ok, new ModelResponse(Key, mine), null, completedAt);
                }

                row += item.Rows;
            }
        }
        catch (Exception caught)
        {
            var e = caught is OnnxRuntimeException ort
                ? ExecutionFailed(ort, batch.Count == 1 ? $"inputs {string.Join(", ", batch[0].Inputs.Select(i => $"{i.Name}{i.FormatShape()}"))}" : $"a batch of {batch.Count} calls ({rows} rows)")
                : caught;
            Internal.Tracing.Fail(batchActivity, e);

            Log.BatchFailed(_logger, e, Key, batch.Count);
            foreach (var item in batch)
            {
                Complete(item, Outcomes.Error, null, e);
            }
        }
        finally
        {
            session?.Release();
            batchActivity?.Stop();
        }
    }

    private Activity? StartBatchActivity(List<BatchItem> batch, long rows)
    {
        if (!AiOpsInferenceDiagnostics.Source.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        foreach (var item in batch)
        {
            if (item.Activity is { } call)
            {
                (links ??= new List<ActivityLink>(batch.Count)).Add(new ActivityLink(call.Context));
            }
        }

        // A batch serves many traces: it is a root of its own, linked to each call's span.
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = AiOpsInferenceDiagnostics.Source.StartActivity(AiOpsInferenceDiagnostics.BatchActivityName, ActivityKind.Internal, parentContext: default, tags: null, links: links);
        Activity.Current = previous;
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = $"batch {Key}";
            activity.SetTag("aiops.model", Key.Model.Value);
            activity.SetTag("aiops.model.version", Key.Version.ToString());
            activity.SetTag("aiops.batch.calls", batch.Count);
            activity.SetTag("aiops.rows", rows);
        }

        return activity;
    }

    /// <summary>
    /// The queue and its worker. The worker is not a thread of its own but a thread-pool work item (this object) that
    /// is queued only when there is something to do: the first call of a batch arrived, enough calls are queued to fill
    /// the batch, the batch's deadline passed, or the runner is being disposed. Between those it holds no thread and
    /// allocates nothing: the deadline timer is created once and re-armed, calls come from a pool of value-task
    /// sources, and caller continuations always run on the thread pool, never inside the worker.
    /// </summary>
    private sealed class Batcher : IThreadPoolWorkItem
    {
        private const int Idle = 0;
        private const int Scheduled = 1;
        private const int Stopped = 2;
        private const long NotArmed = long.MinValue;

        private static readonly TimerCallback s_onDeadline = static s => ((Batcher)s!).OnDeadline();

        private readonly ConcurrentQueue<BatchItem> _queue = new();
        private readonly ConcurrentQueue<BatchItem> _pool = new();
        private readonly List<BatchItem> _batch = [];
        private readonly List<ModelTensor[]> _parts = [];
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TimeProvider _time;
        private readonly ITimer _deadline;
        private readonly long _maxRows;
        private readonly TimeSpan _maxDelay;
        private readonly TimeSpan? _maxQueueTime;
        private readonly long[] _preferred;
        private BatchItem? _carry;
        private long _batchRows;
        private long _missing;
        private int _lastCalls;
        private long _lastEnded;
        private long _queuedUnits;
        private long _wanted = 1;
        private long _armedFor = NotArmed;
        private int _state;
        private int _stopping;
        private int _deadlineFired;

        public Batcher(OnnxModelRunner runner)
        {
            Runner = runner;
            _time = runner._time;
            _maxRows = runner._options.Batching.MaxBatchSize;
            _maxDelay = runner._options.Batching.MaxQueueDelay;
            _maxQueueTime = runner._options.MaxQueueTime;
            _preferred = [.. runner._options.Batching.PreferredBatchSizes.Select(p => (long)p)];
            _deadline = _time.CreateTimer(s_onDeadline, this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public OnnxModelRunner Runner { get; }

        /// <summary>Rows queued and not yet taken into a batch (each call at least 1).</summary>
        public long QueuedUnits => Volatile.Read(ref _queuedUnits);

        public BatchItem Rent(ModelTensor[] inputs, long rows, BatchLayout layout, long started, CancellationToken cancellationToken)
        {
            if (!_pool.TryDequeue(out var item))
            {
                item = new BatchItem(this);
            }

            item.Init(inputs, rows, layout, started, cancellationToken);
            return item;
        }

        /// <remarks>
        /// Unbounded, and needs no count: an item is created only when the pool is empty, so the pool never holds more
        /// than the most calls that were alive at once (queued, running, or answered but not yet read).
        /// </remarks>
        public void Return(BatchItem item)
        {
            item.Reset();
            _pool.Enqueue(item);
        }

        public void Enqueue(BatchItem item)
        {
            if (Volatile.Read(ref _stopping) != 0)
            {
                Fail(item);
                return;
            }

            _queue.Enqueue(item);

            // Wake the worker only when it has something to do: the first call of a batch, or enough rows to fill it
            // (two wake-ups per batch, not one per call). The add is a full fence: either the worker, going idle, sees
            // these rows, or this thread sees the number the worker published and wakes it.
            var queued = Interlocked.Add(ref _queuedUnits, item.Units);
            if (queued >= Volatile.Read(ref _wanted) || Volatile.Read(ref _stopping) != 0)
            {
                TrySchedule();
            }

            if (Volatile.Read(ref _state) == Stopped)
            {
                FailQueued(); // queued after the worker's last look: nobody else will take it
            }
        }

        /// <summary>
        /// Claims the worker's slot for one call on the caller's thread, when the call would run alone at once anyway:
        /// the worker is idle, nothing is queued or forming, and the last run (if it ended within the delay) answered at
        /// most one call, so no callers are on their way back to join a batch.
        /// </summary>
        public bool TryEnterInline()
        {
            if (Volatile.Read(ref _state) != Idle || Volatile.Read(ref _queuedUnits) != 0 || Volatile.Read(ref _stopping) != 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, Scheduled, Idle) != Idle)
            {
                return false;
            }

            // From here until ExitInline this thread is the worker: the worker-owned fields below are stable.
            if (_batch.Count == 0 && _carry is null && Volatile.Read(ref _queuedUnits) == 0 && Volatile.Read(ref _stopping) == 0
                && (_lastCalls <= 1 || _maxDelay <= TimeSpan.Zero || _time.GetElapsedTime(_lastEnded) >= _maxDelay))
            {
                return true;
            }

            ExitInline(ran: false);
            return false;
        }

        /// <summary>Gives the worker's slot back after <see cref="TryEnterInline"/>, waking the worker for anything queued meanwhile.</summary>
        public void ExitInline(bool ran = true)
        {
            if (ran)
            {
                _lastCalls = 1;
                _lastEnded = _time.GetTimestamp();
            }

            // Calls queued while this thread held the slot could not schedule the worker: the same look as a pass that
            // goes idle (the wake-up count it published is unchanged, no batch formed here). The pass goes to the global
            // queue: this caller returns with its answer and need not yield, so a pass queued to its thread's local queue
            // could wait until the pool steals it (seen: up to a second with callers in tight loops).
            Interlocked.Exchange(ref _state, Idle);
            if (Volatile.Read(ref _queuedUnits) >= Volatile.Read(ref _wanted)
                || Volatile.Read(ref _deadlineFired) != 0
                || Volatile.Read(ref _stopping) != 0)
            {
                TrySchedule(preferLocal: false);
            }
        }

        public Task StopAsync()
        {
            Volatile.Write(ref _stopping, 1);
            TrySchedule(preferLocal: false); // the disposing thread may block on the result (Dispose)
            return _stopped.Task;
        }

        /// <summary>One pass of the worker: runs every batch that is ready, then goes idle until it is woken.</summary>
        public void Execute()
        {
            while (true)
            {
                Volatile.Write(ref _deadlineFired, 0);
                var stopping = Volatile.Read(ref _stopping) != 0;
                if (Fill(stopping))
                {
                    RunAndRelease();
                    continue;
                }

                if (stopping)
                {
                    Stop();
                    return;
                }

                // Not ready: publish what would make it ready, arm the deadline, go idle, then look once more for
                // anything that arrived while going idle (the wakers may have seen this pass still running).
                var forming = _batch.Count > 0;
                var first = forming ? _batch[0].Enqueued : 0;
                var wanted = forming ? Math.Max(1, _missing) : 1;
                Volatile.Write(ref _wanted, wanted);
                if (forming)
                {
                    ArmDeadline(first);
                }

                Interlocked.Exchange(ref _state, Idle);
                if (Volatile.Read(ref _queuedUnits) < wanted
                    && Volatile.Read(ref _deadlineFired) == 0
                    && Volatile.Read(ref _stopping) == 0
                    && (!forming || _time.GetElapsedTime(first) < _maxDelay))
                {
                    return;
                }

                if (Interlocked.CompareExchange(ref _state, Scheduled, Idle) != Idle)
                {
                    return; // another thread queued a pass already
                }
            }
        }

        private void TrySchedule(bool preferLocal = true)
        {
            // Local: the pass runs on this thread as soon as the caller's current work item yields, without waking another.
            if (Interlocked.CompareExchange(ref _state, Scheduled, Idle) == Idle)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal);
            }
        }

        private void OnDeadline()
        {
            Volatile.Write(ref _armedFor, NotArmed);
            Volatile.Write(ref _deadlineFired, 1);
            TrySchedule();
        }

        private void ArmDeadline(long first)
        {
            // The deadline depends only on the first call's enqueue time, so a timer armed for it still holds.
            if (Volatile.Read(ref _armedFor) == first)
            {
                return;
            }

            var remaining = _maxDelay - _time.GetElapsedTime(first);
            if (remaining > TimeSpan.Zero)
            {
                Volatile.Write(ref _armedFor, first);
                _deadline.Change(remaining, Timeout.InfiniteTimeSpan);
            }
        }

        /// <summary>Takes queued calls into the batch; <see langword="true"/> when the batch should run now.</summary>
        private bool Fill(bool flush)
        {
            if (_batch.Count == 0 && _carry is { } carried)
            {
                _carry = null;
                if (carried.IsCompleted)
                {
                    carried.WorkerDone(); // cancelled while it waited for the next batch
                }
                else
                {
                    _batch.Add(carried);
                    _batchRows = carried.Rows;
                }
            }

            while (_batch.Count == 0 || _batchRows < _maxRows)
            {
                if (!_queue.TryDequeue(out var next))
                {
                    break;
                }

                Interlocked.Add(ref _queuedUnits, -next.Units);
                if (next.IsCompleted)
                {
                    next.WorkerDone(); // cancelled while queued
                    continue;
                }

                if (_maxQueueTime is { } maxQueueTime && _time.GetElapsedTime(next.Enqueued) > maxQueueTime)
                {
                    Runner.Complete(next, Outcomes.Rejected, null, Runner.QueueTimeExceeded());
                    next.WorkerDone();
                    continue;
                }

                if (_batch.Count > 0 && (_batchRows + next.Rows > _maxRows || !SameRowShape(_batch[0], next)))
                {
                    _carry = next; // it starts the next batch
                    return true;
                }

                _batch.Add(next);
                _batchRows += next.Rows;
            }

            if (_batch.Count == 0)
            {
                return false;
            }

            if (_batchRows >= _maxRows || flush || _maxDelay <= TimeSpan.Zero || Array.IndexOf(_preferred, _batchRows) >= 0)
            {
                return true;
            }

            // Adaptive delay: when no batch ran within MaxQueueDelay before this batch's first call, the runner was idle
            // and nobody else is known to be coming, so the batch runs at once. Under load it waits (at most the delay,
            // counted from its first call's enqueue so it holds even if the clock moved on before the worker got here)
            // until it has as many calls as the previous run: the callers that run answered are on their way back. Calls,
            // not rows: a lone caller whose row counts vary is never made to wait for itself.
            var first = _batch[0].Enqueued;
            var targetCalls = _lastCalls > 0 && _time.GetElapsedTime(_lastEnded, first) < _maxDelay ? _lastCalls : 0;
            if (_batch.Count >= targetCalls)
            {
                return true;
            }

            // Wake-up count (queued rows, each call at least 1): enough for the missing calls or the next preferred size.
            _missing = Math.Min(targetCalls - _batch.Count, _maxRows - _batchRows);
            foreach (var preferred in _preferred)
            {
                if (preferred > _batchRows && preferred - _batchRows < _missing)
                {
                    _missing = preferred - _batchRows;
                }
            }

            return _time.GetElapsedTime(first) >= _maxDelay;
        }

        private void RunAndRelease()
        {
            // Calls cancelled while their batch formed are left out of the run.
            var kept = 0;
            long rows = 0;
            for (var i = 0; i < _batch.Count; i++)
            {
                var item = _batch[i];
                if (item.IsCompleted)
                {
                    item.WorkerDone();
                    continue;
                }

                _batch[kept++] = item;
                rows += item.Rows;
            }

            _batch.RemoveRange(kept, _batch.Count - kept);
            if (_batch.Count > 0)
            {
                Runner.RunBatch(_batch, rows, _parts);
                _lastCalls = _batch.Count;
                _lastEnded = _time.GetTimestamp();
            }

            foreach (var item in _batch)
            {
                item.WorkerDone();
            }

            _batch.Clear();
            _batchRows = 0;
        }

        private void Stop()
        {
            Interlocked.Exchange(ref _state, Stopped);
            _deadline.Dispose();
            FailQueued();
            _stopped.TrySetResult();
        }

        private void FailQueued()
        {
            while (_queue.TryDequeue(out var item))
            {
                Interlocked.Add(ref _queuedUnits, -item.Units);
                Fail(item);
            }
        }

        private void Fail(BatchItem item)
        {
            var key = Runner.Key;
            Runner.Complete(item, Outcomes.Error, null, new ModelNotReadyException($"{key} was disposed before the call ran.") { Key = key });
            item.WorkerDone();
        }

        private static bool SameExceptAxis(ReadOnlySpan<long> a, ReadOnlySpan<long> b, int axis) =>
            a.Length == b.Length && a[..axis].SequenceEqual(b[..axis]) && a[(axis + 1)..].SequenceEqual(b[(axis + 1)..]);

        private static bool SameRowShape(BatchItem a, BatchItem b)
        {
            if (!ReferenceEquals(a.Layout, b.Layout))
            {
                return false; // bound against different loads of the model
            }

            var axes = a.Layout.InputAxes;
            for (var i = 0; i < a.Inputs.Length; i++)
            {
                if (axes[i] >= 0
                    ? !SameExceptAxis(a.Inputs[i].Shape, b.Inputs[i].Shape, axes[i])
                    : !TensorValues.Equal(a.Inputs[i], b.Inputs[i]))
                {
                    return false; // an unbatched input must be the same for every call of a batch
                }
            }

            return true;
        }
    }

    /// <summary>
    /// One queued call, and the source of the value task its caller awaits. Pooled: it goes back to the pool once both
    /// the caller has taken its result and the worker has finished with it (two references).
    /// </summary>
    private sealed class BatchItem(Batcher owner) : IValueTaskSource<ModelResponse>
    {
        private ManualResetValueTaskSourceCore<ModelResponse> _core = new() { RunContinuationsAsynchronously = true };
        private int _claimed;
        private bool _consumed;
        private int _refs;

        public Batcher Owner { get; } = owner;

        public ModelTensor[] Inputs { get; private set; } = [];

        /// <summary>Which of <see cref="Inputs"/> are batched (from the session the call was bound against).</summary>
        public BatchLayout Layout { get; private set; } = null!;

        public long Rows { get; private set; }

        /// <summary>Rows for the wake-up count: at least 1, so a call of zero rows still wakes the worker.</summary>
        public long Units { get; private set; }

        public long Enqueued { get; private set; }

        public CancellationToken CallerToken { get; private set; }

        public CancellationTokenSource? TimeoutSource { get; set; }

        /// <summary>The call's span, stopped when the call is completed.</summary>
        public Activity? Activity { get; set; }

        public ITimer? Timer { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public bool IsCompleted => Volatile.Read(ref _claimed) != 0;

        public void Init(ModelTensor[] inputs, long rows, BatchLayout layout, long enqueued, CancellationToken callerToken)
        {
            Inputs = inputs;
            Layout = layout;
            Rows = rows;
            Units = Math.Max(1, Rows);
            Enqueued = enqueued;
            CallerToken = callerToken;
            _refs = 2;
        }

        public ValueTask<ModelResponse> AsValueTask() => new(this, _core.Version);

        /// <summary>Whoever claims the call (the worker, a cancellation, a timeout, disposal) completes it; the others leave it.</summary>
        public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

        /// <summary>Hands the claimed call's result to its caller (whose continuation runs on the thread pool).</summary>
        public void Publish(ModelResponse? response, Exception? error)
        {
            if (response is not null)
            {
                _core.SetResult(response);
            }
            else
            {
                _core.SetException(error!);
            }
        }

        /// <summary>The worker is done with this call: releases its cancellation registration and timer and its reference.</summary>
        public void WorkerDone()
        {
            Registration.Dispose();
            Timer?.Dispose();
            TimeoutSource?.Dispose();
            Registration = default;
            Timer = null;
            TimeoutSource = null;
            ReleaseRef();
        }

        public void Reset()
        {
            Inputs = [];
            Layout = null!;
            CallerToken = default;
            _claimed = 0;
            _consumed = false;
            _core.Reset();
        }

        public ModelResponse GetResult(short token)
        {
            // A plain flag is enough: it catches a second read after the first (reads racing each other break the
            // ValueTask contract anyway).
            if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending || _consumed)
            {
                throw new InvalidOperationException("The result of a call was read twice or before it completed; await each call's ValueTask once.");
            }

            _consumed = true;

            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                ReleaseRef();
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void ReleaseRef()
        {
            if (Interlocked.Decrement(ref _refs) == 0)
            {
                Owner.Return(this);
            }
        }
    }
}
