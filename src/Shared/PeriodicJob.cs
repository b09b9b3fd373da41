// Linked into several assemblies (src/Shared/Shared.props): each copy lives in its assembly's own namespace.
// Types are spelled in full (no using directives): the implicit usings differ between the projects that compile this.
#if AIOPS_SHARED_RELEASE
namespace AiOps.Release.Internal;
#elif AIOPS_SHARED_MONITORING
namespace AiOps.Monitoring.Internal;
#elif AIOPS_SHARED_DATA
namespace AiOps.Data.Internal;
#elif AIOPS_SHARED_INFERENCE
namespace AiOps.Inference.Internal;
#else
namespace AiOps.Internal;
#endif

/// <summary>
/// Runs a piece of work every <see cref="Interval"/> of a <see cref="System.TimeProvider"/>'s time: the one periodic loop of AiOps.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Explicit first run: with <see cref="RunAtStart"/> the work runs as soon as <see cref="Start"/> is called, otherwise
/// one interval after it. Ticks fall on a grid anchored at <see cref="Start"/> (start + n × interval), so the schedule does
/// not drift by the time the work takes.</item>
/// <item>Awaited, never overlapping: a run is awaited before the next one can start. Ticks that fall due while a run is
/// still going are merged into one run that starts when it ends (as <see cref="System.Threading.PeriodicTimer"/> does):
/// however slow the work, there is never more than one run at a time nor a burst of catch-up runs. (Dropping such a tick
/// instead would race with a test that advances fake time as soon as it sees the work's effect.)</item>
/// <item>Failures are logged with the job's name and the next tick runs again; the loop never dies of an exception.</item>
/// <item>The schedule uses only the provider's timers (monotonic), never its wall clock: a clock stepped back or forward
/// neither stalls the job nor makes it run in a burst.</item>
/// <item><see cref="StopAsync"/> (or the token given to <see cref="Start"/>) cancels the wait and the token the work
/// sees; <see cref="Dispose"/> may be called at any time, more than once.</item>
/// </list>
/// </remarks>
internal sealed partial class PeriodicJob : System.IDisposable, System.IAsyncDisposable
{
    private readonly System.Func<System.Threading.CancellationToken, System.Threading.Tasks.Task> _work;
    private readonly System.TimeProvider _time;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;
    private readonly System.Threading.Lock _gate = new();
    private System.Threading.CancellationTokenSource? _stopping;
    private System.Threading.PeriodicTimer? _timer;
    private System.Threading.Tasks.Task? _loop;
    private bool _disposed;

    /// <summary>Creates a job; nothing runs before <see cref="Start"/>.</summary>
    /// <param name="name">What the job does, for the log ("rollout evaluation").</param>
    /// <param name="interval">Time between ticks; must be positive.</param>
    /// <param name="runAtStart">Whether the first run is at <see cref="Start"/> (<see langword="true"/>) or one interval after it.</param>
    /// <param name="work">The work; it receives a token that is cancelled when the job stops.</param>
    /// <param name="time">The clock whose timers drive the ticks.</param>
    /// <param name="logger">Where failures of the work go.</param>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="interval"/> is zero, negative or infinite.</exception>
    public PeriodicJob(
        string name,
        System.TimeSpan interval,
        bool runAtStart,
        System.Func<System.Threading.CancellationToken, System.Threading.Tasks.Task> work,
        System.TimeProvider time,
        Microsoft.Extensions.Logging.ILogger logger)
    {
        System.ArgumentException.ThrowIfNullOrWhiteSpace(name);
        System.ArgumentNullException.ThrowIfNull(work);
        System.ArgumentNullException.ThrowIfNull(time);
        System.ArgumentNullException.ThrowIfNull(logger);
        if (interval <= System.TimeSpan.Zero || interval == System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new System.ArgumentOutOfRangeException(
                nameof(interval),
                interval,
                $"The interval of the periodic job '{name}' is {interval}; expected a positive time span (e.g. 00:00:30).");
        }

        Name = name;
        Interval = interval;
        RunAtStart = runAtStart;
        _work = work;
        _time = time;
        _logger = logger;
    }

    /// <summary>What the job does (as logged).</summary>
    public string Name { get; }

    /// <summary>Time between ticks.</summary>
    public System.TimeSpan Interval { get; }

    /// <summary>Whether the first run is at <see cref="Start"/> rather than one interval after it.</summary>
    public bool RunAtStart { get; }

    /// <summary>The loop: completes once the job has stopped (never faults). A completed task before <see cref="Start"/>.</summary>
    public System.Threading.Tasks.Task Completion
    {
        get
        {
            lock (_gate)
            {
                return _loop ?? System.Threading.Tasks.Task.CompletedTask;
            }
        }
    }

    /// <summary>Starts the schedule now; a call while the job runs changes nothing, a call after it stopped starts it again.</summary>
    /// <param name="stoppingToken">Stops the job when cancelled (e.g. the host's stopping token).</param>
    /// <exception cref="System.ObjectDisposedException">The job was disposed.</exception>
    public void Start(System.Threading.CancellationToken stoppingToken = default)
    {
        lock (_gate)
        {
            System.ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loop is { IsCompleted: false })
            {
                return;
            }

            _stopping = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);

            // The timer is created here, not when the loop gets a thread, so the grid is anchored at this call.
            _timer = new System.Threading.PeriodicTimer(Interval, _time);
            var timer = _timer;
            var token = _stopping.Token;
            _loop = System.Threading.Tasks.Task.Run(() => LoopAsync(timer, token), System.Threading.CancellationToken.None);
        }
    }

    /// <summary>Stops the job: cancels the wait and the work's token, then waits for a run in progress to end.</summary>
    /// <param name="cancellationToken">Stops waiting for the run in progress (it still sees its own token cancelled).</param>
    public async System.Threading.Tasks.Task StopAsync(System.Threading.CancellationToken cancellationToken = default)
    {
        System.Threading.Tasks.Task loop;
        lock (_gate)
        {
            if (_loop is null)
            {
                return;
            }

            loop = _loop;
            CancelUnderLock();
        }

        await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the job without waiting for a run in progress; safe to call more than once.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            CancelUnderLock();
        }
    }

    /// <summary>Stops the job and waits for a run in progress to end; safe to call more than once.</summary>
    public async System.Threading.Tasks.ValueTask DisposeAsync()
    {
        System.Threading.Tasks.Task loop;
        lock (_gate)
        {
            loop = _loop ?? System.Threading.Tasks.Task.CompletedTask;
            _disposed = true;
            CancelUnderLock();
        }

        await loop.ConfigureAwait(false);
    }

    private void CancelUnderLock()
    {
        if (_stopping is { IsCancellationRequested: false } stopping)
        {
            stopping.Cancel();
        }

        // Disposing the timer also ends a pending WaitForNextTickAsync (it returns false).
        _timer?.Dispose();
    }

    private async System.Threading.Tasks.Task LoopAsync(System.Threading.PeriodicTimer timer, System.Threading.CancellationToken token)
    {
        try
        {
            if (RunAtStart)
            {
                await RunOnceAsync(token).ConfigureAwait(false);
            }

            while (!token.IsCancellationRequested && await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                await RunOnceAsync(token).ConfigureAwait(false);
            }
        }
        catch (System.OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            timer.Dispose();
            lock (_gate)
            {
                _stopping?.Dispose();
                _stopping = null;
            }
        }
    }

    private async System.Threading.Tasks.Task RunOnceAsync(System.Threading.CancellationToken token)
    {
        if (token.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _work(token).ConfigureAwait(false);
        }
        catch (System.OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The job is stopping: the work gave up, as asked.
        }
#pragma warning disable CA1031 // Any failure of one run is logged and the next tick retries: the loop must not die.
        catch (System.Exception ex)
#pragma warning restore CA1031
        {
            LogRunFailed(_logger, ex, Name);
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(
        EventId = 900,
        EventName = "PeriodicJobFailed",
        Level = Microsoft.Extensions.Logging.LogLevel.Error,
        Message = "The periodic {Job} failed; it runs again at the next tick.")]
    private static partial void LogRunFailed(Microsoft.Extensions.Logging.ILogger logger, System.Exception exception, string job);
}
