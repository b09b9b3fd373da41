using System.Diagnostics;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AiOps.Inference.Diagnostics;
using AiOps.Inference.Hosting;
using AiOps.Inference.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference;

/// <summary>
/// Runs one version of an ONNX model with ONNX Runtime behind <see cref="IModelRunner"/>: validates inputs against the
/// model's signature before native code runs, passes caller memory to ONNX Runtime without copying, bounds the number
/// of queued calls, optionally micro-batches concurrent calls, honours cancellation and a per-call timeout (terminating
/// a run in flight), reports readiness and the execution provider, and hot-swaps the model file without failing calls.
/// </summary>
/// <remarks>
/// Through DI, runners are created by <c>services.AddAiOpsInference().AddOnnxModel(...)</c> and loaded at host start.
/// Without DI (a console tool, a benchmark):
/// <code>
/// await using var runner = await OnnxModelRunner.CreateAsync(new ModelKey("fraud", "1"), "fraud.onnx",
///     new OnnxRunnerOptions { ExecutionProviders = { OnnxExecutionProvider.Cpu } });
/// var response = await runner.RunAsync(new ModelRequest(ModelTensor.Create("features", features, 1, 4)));
/// </code>
/// </remarks>
public sealed partial class OnnxModelRunner : IModelRunner, IAsyncDisposable, IDisposable
{
    private const int RunOptionsPoolSize = 64;
    private static readonly ModelMetadata s_noMetadata = new([], []);

    private readonly OnnxRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly InferenceMetrics? _ownedMetrics;
    private readonly RunnerInstruments _instruments;
    private readonly ExecutionProviderReporter _reporter;
    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private readonly RunOptions _sharedRunOptions = new();
    private readonly ConcurrentQueue<RunOptions> _runOptionsPool = new();
    private readonly Lock _watchLock = new();
    private readonly SemaphoreSlim _runSlots;
    private readonly SemaphoreSlim _room = new(0);
    private int _roomWaiters;
    private LoadedSession? _current;
    private ModelRunnerStatus _status = new(ModelReadiness.NotReady, null, "Loading and warming up.");
    private Exception? _loadError;
    private string? _reloadFailure;
    private string _path;
    private string? _expectedSha256;
    private int _pending;
    private FileSystemWatcher? _watcher;
    private ITimer? _debounce;
    private bool _warnedNotBatchable;
    private int _disposed;

    internal OnnxModelRunner(
        ModelKey key,
        string path,
        OnnxRunnerOptions options,
        ILogger logger,
        InferenceMetrics metrics,
        bool ownsMetrics,
        ExecutionProviderReporter reporter,
        TimeProvider timeProvider)
    {
        Key = key;
        _path = path;
        _options = new OnnxRunnerOptions();
        _options.CopyFrom(options);
        _expectedSha256 = options.ExpectedSha256;
        _logger = logger;
        _time = timeProvider;
        _ownedMetrics = ownsMetrics ? metrics : null;
        _instruments = new RunnerInstruments(metrics, key);
        _reporter = reporter;
        var slots = options.MaxConcurrentRuns > 0 ? options.MaxConcurrentRuns : Environment.ProcessorCount;
        _runSlots = new SemaphoreSlim(slots, slots);
        _sequences = _options.Sequences.States.Count > 0 ? new SequenceStore(this) : null;
    }

    /// <inheritdoc />
    public ModelKey Key { get; }

    /// <inheritdoc />
    /// <remarks>Empty until the model has loaded.</remarks>
    public ModelMetadata Metadata => Volatile.Read(ref _current)?.Metadata ?? s_noMetadata;

    /// <inheritdoc />
    public ModelRunnerStatus Status => Volatile.Read(ref _status);

    /// <summary>The path of the model file being served (or to be loaded).</summary>
    public string ModelPath => Volatile.Read(ref _path);

    /// <summary>
    /// The SHA-256 (lower-case hex) of the file being served; for a model with external data, the SHA-256 of the
    /// manifest of the model file and its external files (see <see cref="OnnxRunnerOptions.ExpectedSha256"/>);
    /// <see langword="null"/> until loaded.
    /// </summary>
    public string? Sha256 => Volatile.Read(ref _current)?.Sha256;

    /// <summary>The execution provider in use (<c>CUDA</c> or <c>CPU</c>); <see langword="null"/> until loaded.</summary>
    public string? ExecutionProvider => Volatile.Read(ref _current)?.ExecutionProvider;

    /// <summary>Why a preferred execution provider was not used (the exact error); <see langword="null"/> when none was skipped.</summary>
    public string? ExecutionProviderFallbackReason => Volatile.Read(ref _current)?.FallbackReason;

    /// <summary>When the file being served was loaded; <see langword="null"/> until loaded.</summary>
    public DateTimeOffset? LoadedAt => Volatile.Read(ref _current)?.LoadedAt;

    /// <summary>Why the last reload failed (the previous file keeps serving); <see langword="null"/> after a successful load.</summary>
    public string? LastReloadFailure => Volatile.Read(ref _reloadFailure);

    /// <summary>Whether calls are micro-batched (batching enabled and the model has a named dynamic batch dimension).</summary>
    public bool IsBatching => _batcher is not null && (Volatile.Read(ref _current)?.IsBatchable ?? false);

    /// <summary>Calls queued or running now.</summary>
    public int PendingCalls => Volatile.Read(ref _pending);

    /// <summary>Test hook: runs on the thread that is about to call ONNX Runtime (after validation, queueing and batching).</summary>
    internal Action? BeforeRun { get; set; }

    /// <summary>Test hook: runs on the calling thread right after ONNX Runtime returned from an unbatched run.</summary>
    internal Action? AfterRun { get; set; }

    /// <summary>Test hook: runs after the model's files were hashed and before ONNX Runtime loads them.</summary>
    internal Action? BeforeSessionCreate { get; set; }

    /// <summary>Test hook: raised after each reload attempt with its failure, or <see langword="null"/> on success.</summary>
    internal event Action<Exception?>? ReloadCompleted;

    /// <summary>Test hook: raised after a change of the watched file armed the debounce timer.</summary>
    internal event Action? WatchedFileChanged;

    /// <summary>The session being served (tests check disposal of swapped-out sessions through it).</summary>
    internal LoadedSession? CurrentSession => Volatile.Read(ref _current);

    /// <summary>
    /// Loads <paramref name="path"/>, warms it up and returns a ready runner (the quick-start path, no DI needed).
    /// Dispose it with <c>await using</c>.
    /// </summary>
    /// <param name="key">The model name and version the runner serves (used in errors, logs and metric tags).</param>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="options">Runner settings; <see langword="null"/> for the defaults (CUDA then CPU, no batching).</param>
    /// <param name="loggerFactory">Where logs go; <see langword="null"/> for none.</param>
    /// <param name="meterFactory">Where the <c>AiOps.Inference</c> meter comes from; <see langword="null"/> for a private meter.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The loaded runner.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <exception cref="ModelLoadException">The file is missing, corrupt, has another SHA-256 than pinned, or fails warm-up.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA is mandatory (<see cref="OnnxRunnerOptions.RequireGpu"/>) and cannot be used.</exception>
    public static async Task<OnnxModelRunner> CreateAsync(
        ModelKey key,
        string path,
        OnnxRunnerOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new OnnxRunnerOptions();
        var errors = OnnxModelOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid options for {key}: {string.Join(" ", errors)}", nameof(options));
        }

        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<OnnxModelRunner>();
        var metrics = new InferenceMetrics(meterFactory);
        var runner = new OnnxModelRunner(key, path, options, logger, metrics, ownsMetrics: true, ExecutionProviderReporter.Shared, timeProvider ?? TimeProvider.System);
        try
        {
            await runner.LoadAsync(cancellationToken).ConfigureAwait(false);
            return runner;
        }
        catch
        {
            await runner.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// For a stateful model (<see cref="OnnxRunnerOptions.Sequences"/>) the request names its sequence
    /// (<see cref="ModelRequest.SequenceId"/>) and leaves the state inputs out; see <see cref="OnnxSequenceOptions"/>.
    /// </remarks>
    public ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_sequences is not null)
        {
            return new ValueTask<ModelResponse>(RunInSequenceAsync(_sequences, request, cancellationToken));
        }

        if (request.SequenceId is not null)
        {
            _instruments.Completed(Outcomes.BadInput, 0);
            throw new ModelInputException(
                nameof(ModelRequest.SequenceId),
                $"The call gives SequenceId '{request.SequenceId}' but {Key} is stateless; expected no SequenceId (or declare the model's state pairs in Sequences:States).") { Key = Key };
        }

        return RunCoreAsync(request, cancellationToken);
    }

    private ValueTask<ModelResponse> RunCoreAsync(ModelRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var parent = Activity.Current;
        var activity = AiOpsInferenceDiagnostics.StartRun(Key);
        if (cancellationToken.IsCancellationRequested)
        {
            _instruments.Completed(Outcomes.Cancelled, 0);
            AiOpsInferenceDiagnostics.Stop(activity, Outcomes.Cancelled, null);
            return ValueTask.FromCanceled<ModelResponse>(cancellationToken);
        }

        // A batched call needs no reference to the session: binding reads only its managed signature, and the batch
        // worker takes one reference per batch to whichever session is current when the batch runs. That saves two
        // contended atomic operations per call; a direct call holds a reference while it runs.
        LoadedSession session;
        LoadedSession? held = null;
        ModelTensor[] inputs;
        try
        {
            if (_batcher is not null && Volatile.Read(ref _current) is { IsBatchable: true } current)
            {
                session = current;
            }
            else
            {
                session = held = AcquireSession();
            }

            inputs = session.Bind(request, Key, _options.AllowNonFiniteInputs);
            if (inputs.Length > 0 && session.Rows(inputs) is var rows && rows > _options.MaxRowsPerCall)
            {
                var name = inputs[session.Batch.RowsInput].Name;
                throw new ModelInputException(
                    name,
                    $"Input '{name}' of {Key} has {rows} rows; expected at most {_options.MaxRowsPerCall} (MaxRowsPerCall): split the call.") { Key = Key };
            }
        }
        catch (ModelInputException e)
        {
            held?.Release();
            _instruments.Completed(Outcomes.BadInput, _time.GetElapsedTime(started).TotalSeconds);
            AiOpsInferenceDiagnostics.Stop(activity, Outcomes.BadInput, e);
            throw;
        }
        catch (Exception e) when (activity is not null)
        {
            held?.Release();
            AiOpsInferenceDiagnostics.Stop(activity, Outcomes.Error, e);
            throw;
        }

        if (!TryAdmit())
        {
            if (_options.QueueFullMode == QueueFullMode.Wait)
            {
                if (activity is not null)
                {
                    Activity.Current = parent;
                }

                return new ValueTask<ModelResponse>(WaitForRoomThenRunAsync(held, session, inputs, started, activity, parent, cancellationToken));
            }

            held?.Release();
            _instruments.Rejected();
            var rejected = new ModelRejectedException(
                $"{Key} already has {_options.MaxQueueLength} calls queued or running (MaxQueueLength); retry later.")
            { Key = Key };
            AiOpsInferenceDiagnostics.Stop(activity, Outcomes.Rejected, rejected);
            throw rejected;
        }

        return Admitted(held, session, inputs, started, activity, parent, cancellationToken);
    }

    private bool TryAdmit()
    {
        if (Interlocked.Increment(ref _pending) > _options.MaxQueueLength)
        {
            Interlocked.Decrement(ref _pending);
            return false;
        }

        return true;
    }

    /// <summary>A call leaves the queue (answered or failed): one waiter for room (<see cref="QueueFullMode.Wait"/>) may enter.</summary>
    private void LeaveQueue()
    {
        Interlocked.Decrement(ref _pending);
        if (Volatile.Read(ref _roomWaiters) > 0 && _room.CurrentCount < _options.MaxQueueLength)
        {
            _room.Release();
        }
    }

    private ValueTask<ModelResponse> Admitted(LoadedSession? held, LoadedSession session, ModelTensor[] inputs, long started, Activity? activity, Activity? parent, CancellationToken cancellationToken)
    {
        activity?.SetTag("aiops.rows", session.Rows(inputs));
        _instruments.InFlight(1);
        if (held is null || (_batcher is not null && session.IsBatchable))
        {
            held?.Release(); // the session became current between the two reads above
            if (activity is not null)
            {
                // The call's span stays open until the batch worker answers it; the caller's context goes back to its own.
                Activity.Current = parent;
            }

            // Adaptive delay, idle case: nobody is queued, no batch is forming and no run is expected to bring callers
            // back, so the call would run alone at once anyway. It runs on the caller's thread (as an unbatched call
            // does), without the two thread-pool hand-offs of the queue; the worker stays excluded while it runs.
            var batcher = PickBatcher(_batcher!, out var inline);
            if (inline)
            {
                if (session.TryAcquire())
                {
                    _instruments.Queued(0); // a batched call always reports its queue time: here none
                    if (activity is not null)
                    {
                        activity.SetTag("aiops.queue_wait_seconds", 0d);
                        activity.SetTag("aiops.batch.calls", 1);
                        Activity.Current = activity;
                    }

                    return new ValueTask<ModelResponse>(RunOnCallersThread(session, inputs, started, activity, batcher, cancellationToken));
                }

                batcher.ExitInline(ran: false); // swapped out since binding: the worker takes whichever session is current
            }

            return EnqueueBatched(batcher, session, inputs, started, activity, cancellationToken);
        }

        // Unbatched calls take one of MaxConcurrentRuns slots; with one free the call runs on the caller's thread at once,
        // otherwise it queues (first come, first served) instead of taking another thread into ONNX Runtime.
        if (_runSlots.Wait(0, CancellationToken.None))
        {
            return new ValueTask<ModelResponse>(RunOnCallersThread(session, inputs, started, activity, inlineBatcher: null, cancellationToken));
        }

        if (activity is not null)
        {
            Activity.Current = parent;
        }

        return new ValueTask<ModelResponse>(RunWhenSlotFreeAsync(session, inputs, started, activity, cancellationToken));
    }

    /// <summary>
    /// An admitted call run at once on its caller's thread, holding <paramref name="session"/> and either a run slot
    /// (unbatched) or <paramref name="inlineBatcher"/>'s worker slot (a lone batched call); both are given back after.
    /// </summary>
    private ModelResponse RunOnCallersThread(LoadedSession session, ModelTensor[] inputs, long started, Activity? activity, Batcher? inlineBatcher, CancellationToken cancellationToken)
    {
        try
        {
            return RunDirect(session, inputs, started, activity, _options.CallTimeout, cancellationToken);
        }
        finally
        {
            if (inlineBatcher is null)
            {
                _runSlots.Release();
            }

            session.Release();
            inlineBatcher?.ExitInline();
            LeaveQueue();
            _instruments.InFlight(-1);
        }
    }

    private async Task<ModelResponse> RunWhenSlotFreeAsync(LoadedSession session, ModelTensor[] inputs, long started, Activity? activity, CancellationToken cancellationToken)
    {
        try
        {
            var remaining = await WaitQueuedAsync(static (r, t) => r._runSlots.WaitAsync(t), started, activity, cancellationToken).ConfigureAwait(false);
            try
            {
                _instruments.Queued(_time.GetElapsedTime(started).TotalSeconds);
                if (activity is not null)
                {
                    Activity.Current = activity;
                }

                return RunDirect(session, inputs, started, activity, remaining, cancellationToken);
            }
            finally
            {
                _runSlots.Release();
            }
        }
        finally
        {
            session.Release();
            LeaveQueue();
            _instruments.InFlight(-1);
        }
    }

    private async Task<ModelResponse> WaitForRoomThenRunAsync(LoadedSession? held, LoadedSession session, ModelTensor[] inputs, long started, Activity? activity, Activity? parent, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _roomWaiters);
        try
        {
            await WaitQueuedAsync(
                static async (r, t) =>
                {
                    while (!r.TryAdmit())
                    {
                        await r._room.WaitAsync(t).ConfigureAwait(false);
                    }
                },
                started,
                activity,
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            held?.Release();
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _roomWaiters);
        }

        return await Admitted(held, session, inputs, started, activity, parent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits in a queue, bounded by <see cref="OnnxRunnerOptions.MaxQueueTime"/>, <see cref="OnnxRunnerOptions.CallTimeout"/>
    /// (both counted from the call) and the caller's cancellation; returns what is left of the call timeout. A failure is
    /// recorded (metrics, span) before it is thrown.
    /// </summary>
    private async ValueTask<TimeSpan?> WaitQueuedAsync(Func<OnnxModelRunner, CancellationToken, Task> wait, long started, Activity? activity, CancellationToken cancellationToken)
    {
        var elapsed = _time.GetElapsedTime(started);
        var queueLimit = _options.MaxQueueTime - elapsed;
        var callLimit = _options.CallTimeout - elapsed;
        var limit = queueLimit is { } q && (callLimit is null || q <= callLimit) ? queueLimit : callLimit;
        if (limit is null && !cancellationToken.CanBeCanceled)
        {
            await wait(this, cancellationToken).ConfigureAwait(false);
            return null;
        }

        using var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = limit is { } l ? _time.CreateTimer(s_cancelOnTimeout, source, l > TimeSpan.Zero ? l : TimeSpan.Zero, Timeout.InfiniteTimeSpan) : null;
        try
        {
            await wait(this, source.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (source.IsCancellationRequested)
        {
            var waited = _time.GetElapsedTime(started);
            Exception failure;
            string outcome;
            if (cancellationToken.IsCancellationRequested)
            {
                outcome = Outcomes.Cancelled;
                failure = new OperationCanceledException($"The call to {Key} was cancelled.", cancellationToken);
            }
            else if (queueLimit is { } ql && limit == ql)
            {
                outcome = Outcomes.Rejected;
                failure = QueueTimeExceeded();
            }
            else
            {
                outcome = Outcomes.Timeout;
                failure = new OperationCanceledException($"The call to {Key} timed out after {_options.CallTimeout} (CallTimeout).");
            }

            _instruments.Completed(outcome, waited.TotalSeconds);
            AiOpsInferenceDiagnostics.Stop(activity, outcome, failure);
            throw failure;
        }

        return _options.CallTimeout - _time.GetElapsedTime(started);
    }

    private ModelRejectedException QueueTimeExceeded() =>
        new($"{Key}: the call waited longer than {_options.MaxQueueTime} (MaxQueueTime) for its turn and was dropped unrun; retry later or add capacity.") { Key = Key };

    /// <summary>
    /// Hot swap: loads the model file (the same path, re-read, or a new one) into a new session, warms it up, switches
    /// to it atomically and disposes the previous session once the calls using it have finished. Calls never fail
    /// because of a swap. When the load fails the previous file keeps serving, <see cref="LastReloadFailure"/> and
    /// <see cref="Status"/> say why, and the exception is thrown.
    /// </summary>
    /// <param name="path">The new file; <see langword="null"/> to re-read the current one.</param>
    /// <param name="expectedSha256">
    /// The SHA-256 the file must have. When <paramref name="path"/> is <see langword="null"/> and this is
    /// <see langword="null"/>, the hash pinned so far (if any) still applies.
    /// </param>
    /// <param name="allowSignatureChange">
    /// Install the new file even when its inputs or outputs differ from the serving version's
    /// (<see cref="ModelMetadata.CheckReplacement(ModelMetadata)"/>): callers built for the old signature will then fail.
    /// </param>
    /// <param name="cancellationToken">Cancels the load (the previous file keeps serving).</param>
    /// <returns>A task that completes when the new file serves.</returns>
    /// <exception cref="ModelLoadException">The file is missing, corrupt, fails the hash check or fails warm-up.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA is mandatory and cannot be used.</exception>
    /// <exception cref="ModelSignatureMismatchException">
    /// The new file's signature is not compatible with the serving one and <paramref name="allowSignatureChange"/> is
    /// <see langword="false"/>; the previous file keeps serving and <see cref="LastReloadFailure"/> says why.
    /// </exception>
    public async Task ReloadAsync(string? path = null, string? expectedSha256 = null, bool allowSignatureChange = false, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _loadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var newPath = path ?? ModelPath;
            var pinned = path is null ? expectedSha256 ?? _expectedSha256 : expectedSha256;
            LoadedSession loaded;
            try
            {
                loaded = await Task.Run(() => SessionLoader.Load(Key, newPath, pinned, _options, _reporter, _logger, _time, cancellationToken, BeforeSessionCreate), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is ModelLoadException or ExecutionProviderUnavailableException)
            {
                _instruments.Reload(Outcomes.Failed);
                if (Volatile.Read(ref _current) is { } serving)
                {
                    Volatile.Write(ref _reloadFailure, e.Message);
                    Log.ReloadFailed(_logger, e, Key, serving.Sha256, e.Message);
                }
                else
                {
                    _loadError = e;
                    Log.LoadFailed(_logger, e, Key, e.Message);
                }

                UpdateStatus();
                ReloadCompleted?.Invoke(e);
                throw;
            }

            if (!allowSignatureChange && Volatile.Read(ref _current) is { } current
                && current.Metadata.CheckReplacement(loaded.Metadata) is { IsCompatible: false } compatibility)
            {
                loaded.Release();
                var refused = new ModelSignatureMismatchException(
                    $"Reload of {Key} from '{newPath}' refused: its signature is not compatible with the serving version's ({compatibility}); the previous file keeps serving. Pass allowSignatureChange to replace it anyway.",
                    compatibility) { Key = Key };
                Volatile.Write(ref _reloadFailure, refused.Message);
                _instruments.Reload(Outcomes.Refused);
                Log.ReloadFailed(_logger, refused, Key, current.Sha256, refused.Message);
                UpdateStatus();
                ReloadCompleted?.Invoke(refused);
                throw refused;
            }

            Volatile.Write(ref _path, newPath);
            _expectedSha256 = pinned;
            Volatile.Write(ref _reloadFailure, null);
            _loadError = null;
            Install(loaded);
            _instruments.Reload(Outcomes.Ok);
            Log.Swapped(_logger, Key, newPath, loaded.Sha256);
            ReloadCompleted?.Invoke(null);
        }
        finally
        {
            _loadLock.Release();
        }
    }

    /// <summary>Stops the batch worker (queued calls fail with <see cref="ModelNotReadyException"/>) and releases the session once in-flight calls finish.</summary>
    /// <returns>A task that completes when the worker has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_watchLock)
        {
            _watcher?.Dispose();
            _watcher = null;
            _debounce?.Dispose();
            _debounce = null;
        }

        await StopBatcherAsync().ConfigureAwait(false);
        _sequences?.Dispose();
        Interlocked.Exchange(ref _current, null)?.Release();
        UpdateStatus();
        while (_runOptionsPool.TryDequeue(out var runOptions))
        {
            runOptions.Dispose();
        }

        _sharedRunOptions.Dispose();
        _ownedMetrics?.Dispose();
        _loadLock.Dispose();
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/> (for containers and <c>using</c>).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The first load (at host start or in <see cref="CreateAsync"/>).</summary>
    internal async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _loadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LoadedSession loaded;
            try
            {
                loaded = await Task.Run(() => SessionLoader.Load(Key, ModelPath, _expectedSha256, _options, _reporter, _logger, _time, cancellationToken, BeforeSessionCreate), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (e is ModelLoadException or ExecutionProviderUnavailableException)
            {
                _loadError = e;
                Log.LoadFailed(_logger, e, Key, e.Message);
                UpdateStatus();
                throw;
            }

            _loadError = null;
            Install(loaded);
        }
        finally
        {
            _loadLock.Release();
        }
    }

    private void Install(LoadedSession loaded)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            loaded.Release();
            return;
        }

        Interlocked.Exchange(ref _current, loaded)?.Release();
        if (_options.Batching.Enabled)
        {
            if (loaded.IsBatchable)
            {
                StartBatcher();
            }
            else if (!_warnedNotBatchable)
            {
                _warnedNotBatchable = true;
                Log.NotBatchable(_logger, Key, $"inputs {loaded.DescribeInputs()} and outputs {loaded.DescribeOutputs()} do not all start with the same named dynamic dimension; if the first dimension is the batch under different names (tf2onnx's unk__N), declare it per tensor in Batching:BatchAxes (0, or none for a tensor that is not batched) or set Batching:AssumeFirstDimensionIsBatch");
            }
        }

        if (_options.WatchFile)
        {
            StartWatching();
        }

        UpdateStatus();
    }

    private void UpdateStatus()
    {
        var current = Volatile.Read(ref _current);
        ModelRunnerStatus status;
        if (Volatile.Read(ref _disposed) != 0)
        {
            status = new ModelRunnerStatus(ModelReadiness.Failed, null, $"{Key} has been disposed.");
        }
        else if (current is null)
        {
            status = _loadError is null
                ? new ModelRunnerStatus(ModelReadiness.NotReady, null, "Loading and warming up.")
                : new ModelRunnerStatus(ModelReadiness.Failed, null, _loadError.Message);
        }
        else if (Volatile.Read(ref _reloadFailure) is { } failure)
        {
            status = new ModelRunnerStatus(ModelReadiness.Degraded, current.ExecutionProvider, $"Reload failed: {failure} Still serving '{current.Path}' (sha256 {current.Sha256}).");
        }
        else if (current.FallbackReason is { } reason)
        {
            status = new ModelRunnerStatus(ModelReadiness.Degraded, current.ExecutionProvider, $"Running on {current.ExecutionProvider} because {reason}");
        }
        else
        {
            // Serving; a warm-up the graph refused is said, not held against the model (real inputs may be fine).
            status = new ModelRunnerStatus(ModelReadiness.Ready, current.ExecutionProvider, current.WarmUpSkipped);
        }

        Volatile.Write(ref _status, status);
    }

    private LoadedSession AcquireSession()
    {
        while (true)
        {
            var session = Volatile.Read(ref _current);
            if (session is null)
            {
                _instruments.Rejected();
                var status = Status;
                throw new ModelNotReadyException($"{Key} is not ready ({status.Readiness}): {status.Reason}", _loadError) { Key = Key };
            }

            if (session.TryAcquire())
            {
                return session;
            }

            // That session was swapped out and drained between the read and the acquire; the new one is already installed.
        }
    }

    private ModelResponse RunDirect(LoadedSession session, ModelTensor[] inputs, long started, Activity? activity, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        CancellationTokenSource? timeoutSource = null;
        ITimer? timer = null;
        var token = cancellationToken;
        if (timeout is { } left)
        {
            timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer = _time.CreateTimer(s_cancelOnTimeout, timeoutSource, left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            token = timeoutSource.Token;
        }

        var runOptions = _sharedRunOptions;
        CancellationTokenRegistration registration = default;
        var outcome = Outcomes.Error;
        Exception? failure = null;
        try
        {
            if (token.CanBeCanceled)
            {
                runOptions = RentRunOptions();

                // Cancelling (or the timeout) sets the terminate flag; ONNX Runtime stops the run between operators.
                registration = token.UnsafeRegister(static s => ((RunOptions)s!).Terminate = true, runOptions);
            }

            BeforeRun?.Invoke();
            var outputs = session.Run(inputs, runOptions);
            AfterRun?.Invoke();

            // ONNX Runtime looks at the terminate flag only between operators: a run whose last operator was still busy
            // when the timeout (or the caller's cancellation) came completes anyway. Its result is late: the call fails
            // as timed out (or cancelled), as the contract says, rather than answering past CallTimeout.
            token.ThrowIfCancellationRequested();

            _instruments.Batch(session.Rows(inputs));
            outcome = Outcomes.Ok;
            return new ModelResponse(Key, outputs);
        }
        catch (Exception e) when (token.IsCancellationRequested && e is OnnxRuntimeException or OperationCanceledException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                outcome = Outcomes.Cancelled;
                throw failure = new OperationCanceledException($"The call to {Key} was cancelled.", e, cancellationToken);
            }

            outcome = Outcomes.Timeout;
            throw failure = new OperationCanceledException($"The call to {Key} timed out after {_options.CallTimeout} (CallTimeout).", e, token);
        }
        catch (OnnxRuntimeException e)
        {
            // Validation passed, so the failure is inside the graph: callers get an AiOps error that names the version.
            throw failure = ExecutionFailed(e, $"inputs {string.Join(", ", inputs.Select(i => $"{i.Name}{i.FormatShape()}"))}");
        }
        catch (Exception e) when (activity is not null && failure is null)
        {
            failure = e;
            throw;
        }
        finally
        {
            if (!ReferenceEquals(runOptions, _sharedRunOptions))
            {
                // Disposing the registration waits for a running callback, so the flag cannot be set after the reset below.
                registration.Dispose();
                ReturnRunOptions(runOptions);
            }

            timer?.Dispose();
            timeoutSource?.Dispose();
            _instruments.Completed(outcome, _time.GetElapsedTime(started).TotalSeconds);
            AiOpsInferenceDiagnostics.Stop(activity, outcome, failure);
        }
    }

    private ModelExecutionException ExecutionFailed(OnnxRuntimeException e, string what) =>
        new($"{Key} failed inside ONNX Runtime on {what} (the inputs matched the model's declared signature): {e.Message}", e) { Key = Key };

    private RunOptions RentRunOptions() => _runOptionsPool.TryDequeue(out var runOptions) ? runOptions : new RunOptions();

    private void ReturnRunOptions(RunOptions runOptions)
    {
        if (runOptions.Terminate)
        {
            runOptions.Terminate = false;
        }

        if (_runOptionsPool.Count < RunOptionsPoolSize && Volatile.Read(ref _disposed) == 0)
        {
            _runOptionsPool.Enqueue(runOptions);
        }
        else
        {
            runOptions.Dispose();
        }
    }

    private void StartWatching()
    {
        lock (_watchLock)
        {
            if (_watcher is not null || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            var full = Path.GetFullPath(ModelPath);
            var folder = Path.GetDirectoryName(full)!;
            var watcher = new FileSystemWatcher(folder, Path.GetFileName(full))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };

            // External data files are watched with the model: a change of the weights reloads it (and re-checks the pin).
            foreach (var external in Volatile.Read(ref _current)?.ExternalFiles ?? [])
            {
                watcher.Filters.Add(Path.GetFileName(external));
                watcher.IncludeSubdirectories |= !string.Equals(Path.GetDirectoryName(external), folder, StringComparison.Ordinal);
            }

            watcher.Changed += OnFileChanged;
            watcher.Created += OnFileChanged;
            watcher.Renamed += OnFileChanged;
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
    }

    private void OnFileChanged(object sender, FileSystemEventArgs e)
    {
        lock (_watchLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            // Debounce: a copy raises several events; reload once the file has been quiet for ReloadDebounce.
            _debounce?.Dispose();
            _debounce = _time.CreateTimer(static s => _ = ((OnnxModelRunner)s!).ReloadFromWatcherAsync(), this, _options.ReloadDebounce, Timeout.InfiniteTimeSpan);
        }

        WatchedFileChanged?.Invoke();
    }

    private async Task ReloadFromWatcherAsync()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        Log.FileChanged(_logger, Key, ModelPath);
        try
        {
            await ReloadAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is ModelLoadException or ModelSignatureMismatchException or ExecutionProviderUnavailableException or ObjectDisposedException or OperationCanceledException)
        {
            // Already logged and recorded in Status / LastReloadFailure; the previous file keeps serving.
        }
    }
}
