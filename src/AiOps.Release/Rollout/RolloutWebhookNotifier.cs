using System.Net.Http.Json;
using System.Threading.Channels;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace AiOps.Release.Rollout;

/// <summary>Where and how rollout notifications are sent (<c>AddRolloutWebhook</c>).</summary>
public sealed class RolloutWebhookOptions
{
    /// <summary>The URL every notification is POSTed to as JSON.</summary>
    public Uri? Url { get; set; }

    /// <summary>How many times a failed delivery (an exception or a non-success status) is retried, 0–10. Default: 5.</summary>
    public int MaxRetryAttempts { get; set; } = 5;

    /// <summary>The base delay between retries (exponential, with jitter); zero retries at once. Default: 2 seconds.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The time one delivery attempt may take. Default: 10 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many notifications may wait to be sent; beyond it the oldest is dropped (and logged). Default: 1000.</summary>
    public int QueueCapacity { get; set; } = 1000;
}

/// <summary>
/// The JSON body of a rollout notification.
/// <c>Type</c> is <c>pre-rollout</c> (a rollout starts), <c>step</c> (the canary moved to another weight),
/// <c>promotion</c>, <c>rollback</c> (rolled back, aborted or undone), <c>pause</c>, <c>resume</c>, <c>approval</c> or
/// <c>reseed</c> (the state store was found reset).
/// </summary>
/// <param name="Type">The kind of notification.</param>
/// <param name="Model">The model.</param>
/// <param name="Action">The decision's action.</param>
/// <param name="At">When the decision was made.</param>
/// <param name="StepIndex">The step after the decision (0-based).</param>
/// <param name="CanaryWeightPercent">The canary weight after the decision.</param>
/// <param name="Actor">Who decided (<see langword="null"/> for the controller).</param>
/// <param name="Reasons">Why.</param>
public sealed record RolloutNotification(string Type, string Model, string Action, DateTimeOffset At, int StepIndex, double CanaryWeightPercent, string? Actor, IReadOnlyList<string> Reasons);

/// <summary>
/// Sends a webhook for every rollout decision that changes something (holds are not sent), in the background: a
/// bounded queue, one delivery at a time, each retried through a Polly pipeline (attempt timeout, exponential retry).
/// A delivery that still fails is logged and dropped; notifications never delay or fail a decision.
/// </summary>
internal sealed class RolloutWebhookNotifier : IHostedService, IDisposable
{
    /// <summary>The DI key of an optional <see cref="HttpMessageHandler"/> the notifier sends through (a proxy, a test).</summary>
    public const string HandlerKey = "aiops-release-webhook";

    private readonly RolloutManager _manager;
    private readonly RolloutWebhookOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _pipeline;
    private readonly Channel<RolloutNotification> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public RolloutWebhookNotifier(RolloutManager manager, RolloutWebhookOptions options, IServiceProvider services, TimeProvider time, ILogger<RolloutWebhookNotifier> logger)
    {
        _manager = manager;
        _options = options;
        _logger = logger;
        var handler = services.GetKeyedService<HttpMessageHandler>(HandlerKey);
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's attempt timeout bounds each delivery
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.RetryDelay > TimeSpan.Zero,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException),
            });
        }

        _pipeline = builder.AddTimeout(options.AttemptTimeout).Build();
        _queue = Channel.CreateBounded<RolloutNotification>(new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _manager.DecisionMade += OnDecision;
        _loop ??= Task.Run(() => SendLoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _manager.DecisionMade -= OnDecision;
        _queue.Writer.TryComplete();
        if (_loop is { } loop)
        {
            try
            {
                // Deliver what is queued while the host allows, then stop.
                await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await _stopping.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        _manager.DecisionMade -= OnDecision;
        _stopping.Cancel();
        _stopping.Dispose();
        _http.Dispose();
    }

    internal static string? TypeOf(RolloutAction action) => action switch
    {
        RolloutAction.Start => "pre-rollout",
        RolloutAction.Advance or RolloutAction.SkipStep => "step",
        RolloutAction.Promote => "promotion",
        RolloutAction.Rollback or RolloutAction.Abort or RolloutAction.Undo => "rollback",
        RolloutAction.Pause => "pause",
        RolloutAction.Resume => "resume",
        RolloutAction.Approve => "approval",
        RolloutAction.Reseed => "reseed",
        _ => null,
    };

    private void OnDecision(ModelId model, RolloutDecision decision)
    {
        if (TypeOf(decision.Action) is { } type)
        {
            _queue.Writer.TryWrite(new RolloutNotification(type, model.Value, decision.Action.ToString(), decision.At, decision.StepIndex, decision.CanaryWeightPercent, decision.Actor, decision.Reasons));
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var notification in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await _pipeline.ExecuteAsync(
                    static async (state, ct) =>
                    {
                        using var response = await state.Http.PostAsJsonAsync(state.Url, state.Notification, ct).ConfigureAwait(false);
                        response.EnsureSuccessStatusCode();
                    },
                    (Http: _http, Url: _options.Url!, Notification: notification),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.LogError(ex, "Could not deliver the {Type} notification of {Model} to {Url} after {Retries} retries; dropped.", notification.Type, notification.Model, _options.Url, _options.MaxRetryAttempts);
            }
        }
    }
}
