using Microsoft.Extensions.Logging;

namespace AiOps.Monitoring.Internal;

/// <summary>
/// The hosted-service timer of the windowed trackers (drift, model quality): every period it runs the close operation on
/// the host's <see cref="TimeProvider"/>; a failure is logged and the next period retries, it never escapes the timer.
/// </summary>
internal sealed partial class PeriodicWindowCloser : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Func<Task> _close;
    private readonly ILogger _logger;
    private readonly string _what;
    private readonly Lock _gate = new();
    private ITimer? _timer;

    /// <param name="time">The clock whose timers drive the periods.</param>
    /// <param name="close">Closes the windows that are due.</param>
    /// <param name="logger">Where failures go.</param>
    /// <param name="what">What is closed, for the log ("drift windows").</param>
    public PeriodicWindowCloser(TimeProvider time, Func<Task> close, ILogger logger, string what)
    {
        _time = time;
        _close = close;
        _logger = logger;
        _what = what;
    }

    /// <summary>Starts the timer (a second call while it runs changes nothing).</summary>
    public void Start(TimeSpan period)
    {
        lock (_gate)
        {
            _timer ??= _time.CreateTimer(_ => _ = RunAsync(), null, period, period);
        }
    }

    /// <summary>Stops the timer; a close already running finishes.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    public void Dispose() => Stop();

    private async Task RunAsync()
    {
        try
        {
            await _close().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogCloseFailed(_logger, ex, _what);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Closing the {What} failed; the next period retries.")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception, string what);
}
