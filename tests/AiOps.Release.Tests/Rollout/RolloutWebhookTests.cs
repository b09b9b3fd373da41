using System.Net;
using System.Text.Json;
using AiOps.Release.Rollout;
using AiOps.Release.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Release.Tests.Rollout;

/// <summary>Webhook notifications: sent for what changes a rollout, retried through Polly until delivered.</summary>
public sealed class RolloutWebhookTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Answers 503 to the first <c>failFirst</c> requests, then 200; records every body.</summary>
    private sealed class Receiver(int failFirst) : HttpMessageHandler
    {
        private int _requests;

        public List<JsonElement> Delivered { get; } = [];

        public int Requests => Volatile.Read(ref _requests);

        public TaskCompletionSource Got { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Expect { get; set; } = 1;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal(HttpMethod.Post, request.Method);
            Assert.Equal(new Uri("https://hooks.example/rollouts"), request.RequestUri);
            if (Interlocked.Increment(ref _requests) <= failFirst)
            {
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            }

            var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
            lock (Delivered)
            {
                Delivered.Add(body);
                if (Delivered.Count >= Expect)
                {
                    Got.TrySetResult();
                }
            }

            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Notifications_PreRolloutStepAndRollback_DeliveredThroughRetries()
    {
        var receiver = new Receiver(failFirst: 2);
        await using var h = new ReleaseHarness(
            _dir.Path,
            services: sc => sc.AddKeyedSingleton<HttpMessageHandler>(RolloutWebhookNotifier.HandlerKey, receiver),
            builder: b => b.AddRolloutWebhook(new Uri("https://hooks.example/rollouts"), o => o.RetryDelay = TimeSpan.Zero));
        h.HealthyMetrics();
        await h.StartHostedAsync();
        receiver.Expect = 3;

        await h.Manager.StartAsync(Fraud, "2");
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.Manager.EvaluateAsync(Fraud); // a hold: not sent
        await h.Manager.SkipStepAsync(Fraud, "ops", "faster");
        await h.Manager.AbortAsync(Fraud, "ops", "enough");
        await receiver.Got.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(5, receiver.Requests); // two refused, then one per notification
        lock (receiver.Delivered)
        {
            Assert.Equal(["pre-rollout", "step", "rollback"], receiver.Delivered.Select(d => d.GetProperty("type").GetString()));
            Assert.Equal("fraud", receiver.Delivered[0].GetProperty("model").GetString());
            Assert.Equal(50, receiver.Delivered[1].GetProperty("canaryWeightPercent").GetDouble());
            Assert.Equal("ops", receiver.Delivered[2].GetProperty("actor").GetString());
            Assert.Equal("Abort", receiver.Delivered[2].GetProperty("action").GetString());
        }
    }

    [Fact]
    public void AddRolloutWebhook_NotAnHttpUrl_RefusedWithWhatIsExpected()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<ArgumentException>(() => services.AddAiOpsRelease().AddRolloutWebhook(new Uri("file:///tmp/hook")));
        Assert.Contains("absolute http or https URL", error.Message, StringComparison.Ordinal);
    }
}
