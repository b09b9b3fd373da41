using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Shadow;

/// <summary>
/// Sends shadow copies to their version off the request path: one bounded queue per model with a shadow version,
/// read by one background loop each, so shadow load on the candidate is one call at a time. A full queue drops the
/// copy and counts it. Shadow answers go to the comparison log and the metrics only.
/// </summary>
internal sealed class ShadowDispatcher : BackgroundService, IShadowComparisonLog
{
    private readonly IModelRunnerCatalog _catalog;
    private readonly ReleaseMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<ModelId, Queue> _queues = [];

    public ShadowDispatcher(
        IEnumerable<ReleaseModelRegistration> models,
        IOptionsMonitor<ModelReleaseOptions> options,
        IModelRunnerCatalog catalog,
        ReleaseMetrics metrics,
        TimeProvider time,
        ILogger<ShadowDispatcher> logger)
    {
        _catalog = catalog;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        foreach (var m in models)
        {
            var o = options.Get(m.Model.Value).Shadow;
            if (o.Version is not null && !_queues.ContainsKey(m.Model))
            {
                _queues[m.Model] = new Queue(o);
            }
        }
    }

    /// <summary>Queues a copy of a finished call; returns at once. False when the queue is full (the copy is dropped and counted).</summary>
    public bool TryEnqueue(ModelId model, ModelVersion shadowVersion, ModelRequest request, ModelResponse primary)
    {
        if (!_queues.TryGetValue(model, out var queue))
        {
            return false;
        }

        // Cheap check first: a full queue must not cost the caller the copies below.
        if (queue.Channel.Reader.Count >= queue.Options.QueueCapacity)
        {
            Dropped(model, queue);
            return false;
        }

        var inputs = new ModelTensor[request.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = TensorValues.Clone(request.Inputs[i]);
        }

        var outputs = new ModelTensor[primary.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i] = TensorValues.Clone(primary.Outputs[i]);
        }

        // The sequence fields travel too: a stateful shadow version keeps its own state per sequence (a dropped copy
        // leaves that sequence's shadow state a step behind; its later comparisons then show as mismatches, never on
        // the caller's path).
        var copy = new ModelRequest(inputs)
        {
            RequestId = request.RequestId,
            RoutingKey = request.RoutingKey,
            SequenceId = request.SequenceId,
            SequenceStart = request.SequenceStart,
            SequenceEnd = request.SequenceEnd,
        };
        if (!queue.Channel.Writer.TryWrite(new Item(new ModelKey(model, shadowVersion), primary.Key.Version, copy, outputs)))
        {
            Dropped(model, queue);
            return false;
        }

        Interlocked.Increment(ref queue.Queued);
        return true;
    }

    public IReadOnlyList<ShadowComparison> GetRecent(ModelId model)
    {
        if (!_queues.TryGetValue(model, out var queue))
        {
            return [];
        }

        lock (queue.Log)
        {
            return [.. queue.Log];
        }
    }

    public ShadowStatistics GetStatistics(ModelId model) =>
        _queues.TryGetValue(model, out var q)
            ? new ShadowStatistics(Interlocked.Read(ref q.Queued), Interlocked.Read(ref q.Dropped), Interlocked.Read(ref q.Matched), Interlocked.Read(ref q.Mismatched), Interlocked.Read(ref q.Errors))
            : new ShadowStatistics(0, 0, 0, 0, 0);

    /// <summary>Completes when at least <paramref name="count"/> copies of the model have been compared (for tests and drain on shutdown).</summary>
    internal Task WhenComparedAsync(ModelId model, long count, CancellationToken cancellationToken)
    {
        var queue = _queues[model];
        lock (queue.Waiters)
        {
            if (GetStatistics(model).Compared >= count)
            {
                return Task.CompletedTask;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            queue.Waiters.Add((count, tcs));
            return tcs.Task.WaitAsync(cancellationToken);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_queues.Select(p => RunQueueAsync(p.Key, p.Value, stoppingToken)));

    private async Task RunQueueAsync(ModelId model, Queue queue, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in queue.Channel.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await CompareAsync(model, queue, item, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: queued copies are dropped, they were never owed to a caller.
        }
    }

    private async Task CompareAsync(ModelId model, Queue queue, Item item, CancellationToken stoppingToken)
    {
        ShadowOutcome outcome;
        double diff;
        string detail;
        try
        {
            if (!_catalog.TryGetRunner(item.Shadow, out var runner))
            {
                throw new ModelNotFoundException($"Shadow version {item.Shadow} is not loaded in this process.") { Key = item.Shadow };
            }

            using var timeout = new CancellationTokenSource(queue.Options.Timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
            var answer = await runner.RunAsync(item.Request, linked.Token).ConfigureAwait(false);
            var (match, max, text) = TensorValues.Compare(item.PrimaryOutputs, answer.Outputs, queue.Options.Tolerance);
            outcome = match ? ShadowOutcome.Match : ShadowOutcome.Mismatch;
            diff = max;
            detail = text;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            outcome = ShadowOutcome.Error;
            diff = double.NaN;
            detail = $"{ex.GetType().Name}: {ex.Message}";
            _logger.LogDebug(ex, "Shadow call to {Shadow} failed.", item.Shadow);
        }

        switch (outcome)
        {
            case ShadowOutcome.Match:
                Interlocked.Increment(ref queue.Matched);
                break;
            case ShadowOutcome.Mismatch:
                Interlocked.Increment(ref queue.Mismatched);
                break;
            default:
                Interlocked.Increment(ref queue.Errors);
                break;
        }

        _metrics.ShadowCompared(model, item.Shadow.Version, outcome.ToString().ToLowerInvariant(), diff);
        if (outcome != ShadowOutcome.Match)
        {
            var entry = new ShadowComparison(model, item.Primary, item.Shadow.Version, _time.GetUtcNow(), outcome, diff, detail) { RequestId = item.Request.RequestId };
            lock (queue.Log)
            {
                if (queue.Log.Count >= queue.Options.LogCapacity)
                {
                    queue.Log.Dequeue();
                }

                queue.Log.Enqueue(entry);
            }
        }

        Signal(model, queue);
    }

    private void Dropped(ModelId model, Queue queue)
    {
        Interlocked.Increment(ref queue.Dropped);
        _metrics.ShadowDropped(model);
    }

    private void Signal(ModelId model, Queue queue)
    {
        var compared = GetStatistics(model).Compared;
        lock (queue.Waiters)
        {
            for (var i = queue.Waiters.Count - 1; i >= 0; i--)
            {
                if (queue.Waiters[i].Count <= compared)
                {
                    queue.Waiters[i].Done.TrySetResult();
                    queue.Waiters.RemoveAt(i);
                }
            }
        }
    }

    private sealed record Item(ModelKey Shadow, ModelVersion Primary, ModelRequest Request, IReadOnlyList<ModelTensor> PrimaryOutputs);

    private sealed class Queue(ShadowOptions options)
    {
        public readonly ShadowOptions Options = options;
        public readonly Channel<Item> Channel = System.Threading.Channels.Channel.CreateBounded<Item>(
            new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

        public readonly Queue<ShadowComparison> Log = new();
        public readonly List<(long Count, TaskCompletionSource Done)> Waiters = [];
        public long Queued;
        public long Dropped;
        public long Matched;
        public long Mismatched;
        public long Errors;
    }
}
