using AiOps.Monitoring.Metrics;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.Logging;

namespace AiOps.Monitoring.Runners;

/// <summary>
/// A runner decorator that records every call: latency (<c>aiops_model_request_duration_seconds</c>), outcome
/// (<c>aiops_model_requests_total{outcome}</c>: ok, bad_input, rejected, timeout, cancelled, unavailable, error),
/// calls in flight, and a time-stamped sample in the per-version store the rollout controller reads. After a
/// successful call it hands the request and response to every <see cref="IInferenceObserver"/>; an observer that
/// throws is logged and counted and never fails the call. Create it with
/// <see cref="IModelRunnerMonitor.Wrap(IModelRunner)"/> or <c>runner.WithMonitoring(services)</c>.
/// </summary>
public sealed partial class MonitoredModelRunner : DelegatingModelRunner
{
    private readonly TimeProvider _time;
    private readonly RunnerInstruments _instruments;
    private readonly VersionSeries _series;
    private readonly IInferenceObserver[] _observers;
    private readonly MonitoringMetrics _metrics;
    private readonly ILogger _logger;
    private readonly double _secondsPerTick;

    internal MonitoredModelRunner(IModelRunner inner, MonitoringRuntime runtime)
        : base(inner)
    {
        _time = runtime.Time;
        _metrics = runtime.Metrics;
        _logger = runtime.Logger;
        _observers = runtime.Observers;
        MonitoredKey = inner.Key;
        _instruments = runtime.Metrics.Bind(MonitoredKey);
        _series = runtime.Store.GetOrAdd(MonitoredKey);
        _series.Runner = this;
        _secondsPerTick = 1.0 / _time.TimestampFrequency;
    }

    /// <summary>The model version recorded for every call (the inner runner's key when it was wrapped).</summary>
    public ModelKey MonitoredKey { get; }

    /// <summary>The runner being monitored.</summary>
    public IModelRunner InnerRunner => Inner;

    /// <inheritdoc />
    public override ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
    {
        var start = _time.GetTimestamp();
        _instruments.Started();
        ValueTask<ModelResponse> pending;
        try
        {
            pending = Inner.RunAsync(request, cancellationToken);
        }
        catch (Exception ex)
        {
            Complete(start, Classify(ex, cancellationToken));
            throw;
        }

        // Fast path without an async state machine when the inner runner answered synchronously.
        if (pending.IsCompletedSuccessfully)
        {
            var response = pending.Result;
            Succeeded(start, request, response);
            return new ValueTask<ModelResponse>(response);
        }

        return AwaitAsync(pending, start, request, cancellationToken);
    }

    private async ValueTask<ModelResponse> AwaitAsync(ValueTask<ModelResponse> pending, long start, ModelRequest request, CancellationToken cancellationToken)
    {
        ModelResponse response;
        try
        {
            response = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Complete(start, Classify(ex, cancellationToken));
            throw;
        }

        Succeeded(start, request, response);
        return response;
    }

    private void Succeeded(long start, ModelRequest request, ModelResponse response)
    {
        Complete(start, CallOutcome.Ok);
        if (_observers.Length != 0)
        {
            Observe(request, response);
        }
    }

    private void Complete(long start, CallOutcome outcome)
    {
        var end = _time.GetTimestamp();
        var seconds = (end - start) * _secondsPerTick;
        _instruments.Completed(outcome, seconds);

        // Bad input is the caller's fault and a cancelled call never completed: neither counts for the version.
        if (outcome is not (CallOutcome.BadInput or CallOutcome.Cancelled))
        {
            _series.Record(end, seconds * 1000, outcome != CallOutcome.Ok);
        }
    }

    private void Observe(ModelRequest request, ModelResponse response)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnInference(response.Key, request, response);
            }
            catch (Exception ex)
            {
                _metrics.ObserverErrors.Add(1, new KeyValuePair<string, object?>("observer", observer.GetType().Name));
                LogObserverFailed(_logger, observer.GetType().Name, MonitoredKey.ToString(), ex);
            }
        }
    }

    internal static CallOutcome Classify(Exception ex, CancellationToken callerToken) => ex switch
    {
        ModelInputException => CallOutcome.BadInput,
        ModelRejectedException => CallOutcome.Rejected,
        ModelNotReadyException or ModelNotFoundException or ModelLoadException or ExecutionProviderUnavailableException => CallOutcome.Unavailable,
        OperationCanceledException when callerToken.IsCancellationRequested => CallOutcome.Cancelled,
        OperationCanceledException or TimeoutException => CallOutcome.Timeout,
        _ => CallOutcome.Error,
    };

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "Inference observer {Observer} failed for {Key}; the call itself succeeded")]
    private static partial void LogObserverFailed(ILogger logger, string observer, string key, Exception exception);
}
