using System.Collections.Concurrent;
using System.Diagnostics;
using AiOps.Inference;

namespace AiOps.IntegrationTests.InferenceHost;

/// <summary>The sample host honours an incoming W3C <c>traceparent</c>: the inference span joins the caller's trace.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task Infer_WithTraceparentHeader_InferenceSpanJoinsTheCallersTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var parentSpan = ActivitySpanId.CreateRandom();
        var runs = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == AiOpsInferenceDiagnostics.ActivitySourceName || s.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.OperationName == AiOpsInferenceDiagnostics.RunActivityName && a.TraceId == traceId)
                {
                    runs.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var host = await RunningHost.StartAsync();
        using var response = await host.InferAsync(
            RunningHost.InferBody(TestModels.TestModels.Features(1)),
            headers: new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{parentSpan}-01" });
        await RunningHost.ReadAnswerAsync(response);

        // Spans from other tests' hosts carry other trace ids: only this request's span can match.
        var run = Assert.Single(runs);
        Assert.Equal(RunningHost.Model, run.GetTagItem("aiops.model"));
        Assert.Equal("ok", run.GetTagItem("aiops.outcome"));

        // Its parent is the server's request span, whose parent is the caller's span from the header.
        Assert.NotEqual(parentSpan, run.ParentSpanId);
        var request = run.Parent;
        while (request?.Parent is not null)
        {
            request = request.Parent;
        }

        Assert.NotNull(request);
        Assert.Equal(parentSpan, request.ParentSpanId);
    }
}
