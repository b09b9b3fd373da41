using System.Threading.Channels;
using AiOps.Release.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Plumbing;

/// <summary>The shared periodic job (src/Shared/PeriodicJob.cs), through AiOps.Release's copy of it.</summary>
public sealed class PeriodicJobTests
{
    // Guards against a hang only; no test asserts on elapsed real time.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private static readonly DateTimeOffset Start = new(2024, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeLogger _logger = new();

    /// <summary>A work that reports each start (with the fake time it began at) and, when gated, waits to be released.</summary>
    private sealed class Probe(TimeProvider time, bool gated = false)
    {
        private readonly Channel<DateTimeOffset> _started = Channel.CreateUnbounded<DateTimeOffset>();
        private readonly Channel<bool> _releases = Channel.CreateUnbounded<bool>();
        private int _running;
        private int _maxRunning;
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public int MaxConcurrent => Volatile.Read(ref _maxRunning);

        public Func<int, Exception?>? Fail { get; init; }

        public async Task WorkAsync(CancellationToken cancellationToken)
        {
            var running = Interlocked.Increment(ref _running);
            InterlockedMax(ref _maxRunning, running);
            var run = Interlocked.Increment(ref _runs);
            try
            {
                _started.Writer.TryWrite(time.GetUtcNow());
                if (gated)
                {
                    await _releases.Reader.ReadAsync(cancellationToken);
                }

                if (Fail?.Invoke(run) is { } error)
                {
                    throw error;
                }
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }

        public async Task<DateTimeOffset> NextStartAsync() => await _started.Reader.ReadAsync().AsTask().WaitAsync(HangGuard);

        public bool TryNextStart(out DateTimeOffset at) => _started.Reader.TryRead(out at);

        public void Release() => _releases.Writer.TryWrite(true);

        private static void InterlockedMax(ref int target, int value)
        {
            int current;
            while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
            {
            }
        }
    }

    private PeriodicJob NewJob(Probe probe, bool runAtStart, TimeProvider? time = null) =>
        new("test job", Interval, runAtStart, probe.WorkAsync, time ?? _time, _logger);

    [Fact]
    public async Task Start_RunAtStartTrue_RunsAtOnceThenEveryInterval()
    {
        var probe = new Probe(_time);
        await using var job = NewJob(probe, runAtStart: true);

        job.Start();

        Assert.Equal(Start, await probe.NextStartAsync());
        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.False(probe.TryNextStart(out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Start + Interval, await probe.NextStartAsync());
        _time.Advance(Interval);
        Assert.Equal(Start + (2 * Interval), await probe.NextStartAsync());
    }

    [Fact]
    public async Task Start_RunAtStartFalse_FirstRunOneIntervalAfterStart()
    {
        var probe = new Probe(_time);
        await using var job = NewJob(probe, runAtStart: false);

        job.Start();
        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));

        Assert.False(probe.TryNextStart(out _));
        Assert.Equal(0, probe.Runs);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Start + Interval, await probe.NextStartAsync());
        _time.Advance(Interval);
        Assert.Equal(Start + (2 * Interval), await probe.NextStartAsync());
    }

    [Fact]
    public async Task Work_SlowerThanInterval_NeverOverlapsAndMergesMissedTicksIntoOneRun()
    {
        var probe = new Probe(_time, gated: true);
        await using var job = NewJob(probe, runAtStart: true);
        job.Start();
        Assert.Equal(Start, await probe.NextStartAsync());

        // Five intervals pass while the first run is still going: no second run starts meanwhile.
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(Interval);
        }

        Assert.Equal(1, probe.Runs);
        probe.Release();

        // The five missed ticks become one run right after the slow one, then the grid resumes (start + 6 intervals).
        Assert.Equal(Start + (5 * Interval), await probe.NextStartAsync());
        probe.Release();
        _time.Advance(Interval);
        Assert.Equal(Start + (6 * Interval), await probe.NextStartAsync());
        probe.Release();
        Assert.Equal(3, probe.Runs);
        Assert.Equal(1, probe.MaxConcurrent);
    }

    [Fact]
    public async Task Work_Throws_FailureLoggedAndNextTickStillRuns()
    {
        var probe = new Probe(_time) { Fail = run => run == 1 ? new InvalidOperationException("store unreachable") : null };
        await using var job = NewJob(probe, runAtStart: true);

        job.Start();
        await probe.NextStartAsync();
        _time.Advance(Interval);
        await probe.NextStartAsync();

        var record = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(record.Exception);
        Assert.Contains("test job", record.Message, StringComparison.Ordinal);
        Assert.Equal(2, probe.Runs);
    }

    [Fact]
    public async Task StopAsync_WhileWorkRuns_CancelsItsTokenAndStopsTheSchedule()
    {
        var probe = new Probe(_time, gated: true); // the gated work waits on its token: only cancellation ends it
        var job = NewJob(probe, runAtStart: true);
        job.Start();
        await probe.NextStartAsync();

        await job.StopAsync().WaitAsync(HangGuard);

        Assert.True(job.Completion.IsCompletedSuccessfully);
        _time.Advance(10 * Interval);
        Assert.Equal(1, probe.Runs);
        Assert.Empty(_logger.Collector.GetSnapshot()); // a cancelled run is not a failure
        job.Dispose();
    }

    [Fact]
    public async Task StoppingToken_Cancelled_StopsPromptly()
    {
        var probe = new Probe(_time);
        using var stopping = new CancellationTokenSource();
        using var job = NewJob(probe, runAtStart: false);
        job.Start(stopping.Token);

        await stopping.CancelAsync();

        await job.Completion.WaitAsync(HangGuard);
        _time.Advance(10 * Interval);
        Assert.Equal(0, probe.Runs);
    }

    [Fact]
    public async Task Dispose_Twice_AndAfterwardsStartIsRefused()
    {
        var probe = new Probe(_time, gated: true);
        var job = NewJob(probe, runAtStart: true);
        job.Start();
        await probe.NextStartAsync();

        job.Dispose();
        job.Dispose();
        await job.DisposeAsync();

        await job.Completion.WaitAsync(HangGuard);
        Assert.Throws<ObjectDisposedException>(() => job.Start());
        await job.StopAsync(); // still safe
    }

    [Fact]
    public async Task Start_AfterStop_StartsANewSchedule()
    {
        var probe = new Probe(_time);
        await using var job = NewJob(probe, runAtStart: false);
        job.Start();
        await job.StopAsync();

        job.Start();
        _time.Advance(Interval);

        Assert.Equal(Start + Interval, await probe.NextStartAsync());
    }

    [Fact]
    public async Task WallClock_StepsBackOrForward_NoBurstAndNoStall()
    {
        var clock = new SteppingClock(_time);
        var probe = new Probe(clock);
        await using var job = NewJob(probe, runAtStart: false, time: clock);
        job.Start();
        _time.Advance(Interval);
        await probe.NextStartAsync();

        // The wall clock jumps back an hour (NTP correction): the next run still comes one interval later, not an hour later.
        clock.Offset = TimeSpan.FromHours(-1);
        _time.Advance(Interval);
        await probe.NextStartAsync();

        // It jumps forward a day: one run per interval still, no catch-up burst for the "missed" day.
        clock.Offset = TimeSpan.FromDays(1);
        _time.Advance(Interval);
        await probe.NextStartAsync();
        Assert.False(probe.TryNextStart(out _));
        Assert.Equal(3, probe.Runs);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_IntervalNotPositive_RefusedWithMessage(int seconds)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PeriodicJob("rollout evaluation", TimeSpan.FromSeconds(seconds), runAtStart: false, _ => Task.CompletedTask, _time, _logger));

        Assert.Equal("interval", ex.ParamName);
        Assert.Contains("rollout evaluation", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected a positive time span", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A clock whose wall time can be stepped (as an operator or NTP would) while its timers keep the fake pace.</summary>
    private sealed class SteppingClock(FakeTimeProvider inner) : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime, period);
    }
}
