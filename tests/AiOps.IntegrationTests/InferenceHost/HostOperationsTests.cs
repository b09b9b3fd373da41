using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiOps.Release.Rollout;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.IntegrationTests.InferenceHost;

/// <summary>Tests that change the host (queue, rollout, files), each on a host of its own.</summary>
public sealed class HostOperationsTests
{
    private static readonly ModelKey V1 = new("classifier", "1");

    [Fact]
    public async Task Infer_QueueFull_Returns429AndTheQueuedCallStillAnswers()
    {
        await using var host = await RunningHost.StartAsync(new Dictionary<string, string?>
        {
            ["AiOps:Models:classifier:MaxQueueLength"] = "1",
            ["AiOps:Release:Models:classifier:Resilience:MaxRetryAttempts"] = "0",
        });
        var runner = host.Repository.GetOnnxRunner(V1)!;
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        runner.BeforeRun = () =>
        {
            entered.Release();
            release.Wait();
        };
        var features = RunningHost.Features(1, seed: 5);
        var body = RunningHost.InferBody(features);

        var first = host.InferAsync(body, version: "1");
        await entered.WaitAsync();
        using var rejected = await host.InferAsync(body, version: "1");
        runner.BeforeRun = null;
        release.Release();
        using var answered = await first;

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Contains("MaxQueueLength", await RunningHost.ReadErrorAsync(rejected), StringComparison.Ordinal);
        RunningHost.AssertClose(TestModels.TestModels.Classifier(1).Predict(features), (await RunningHost.ReadAnswerAsync(answered)).Probabilities);
        Assert.Equal(0, runner.PendingCalls);
        var metrics = await host.Client.GetStringAsync("/metrics");
        Assert.Matches("aiops_inference_requests_total\\{[^}]*outcome=\"rejected\"", metrics);
    }

    [Fact]
    public async Task UnloadThenLoad_ReadinessFlipsAndInferReturns503WhileUnloaded()
    {
        // Readiness "false" is a 4xx in the protocol (400, as Triton answers); a call to an unloaded model is 503.
        await using var host = await RunningHost.StartAsync();
        var body = RunningHost.InferBody(RunningHost.Features(1));

        var unload = await host.Client.PostAsync("/v2/repository/models/classifier/unload", null);
        var modelReady = await host.Client.GetAsync("/v2/models/classifier/ready");
        var versionReady = await host.Client.GetAsync("/v2/models/classifier/versions/1/ready");
        var infer = await host.InferAsync(body);
        var index = await (await host.Client.PostAsync("/v2/repository/index", null)).Content.ReadFromJsonAsync<JsonElement>();
        var readyIndex = await (await host.Client.PostAsync("/v2/repository/index", new StringContent("{\"ready\": true}"))).Content.ReadFromJsonAsync<JsonElement>();
        var load = await host.Client.PostAsync("/v2/repository/models/classifier/load", null);
        var readyAgain = await host.Client.GetAsync("/v2/models/classifier/versions/1/ready");
        var inferAgain = await host.InferAsync(body);

        Assert.Equal(HttpStatusCode.OK, unload.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, modelReady.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, versionReady.StatusCode);
        Assert.False((await versionReady.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, infer.StatusCode);
        Assert.Contains("unloaded", await RunningHost.ReadErrorAsync(infer), StringComparison.Ordinal);
        Assert.All(index.EnumerateArray(), e => Assert.Equal("UNAVAILABLE", e.GetProperty("state").GetString()));
        Assert.Equal(2, index.GetArrayLength());
        Assert.Equal(0, readyIndex.GetArrayLength()); // {"ready": true} lists only the versions that serve
        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, inferAgain.StatusCode);
    }

    [Fact]
    public async Task Load_ReplacedFileUnderTraffic_HotSwapsWithReadinessAndCallsNeverFailing()
    {
        await using var host = await RunningHost.StartAsync();
        var features = RunningHost.Features(2, seed: 21);
        var body = RunningHost.InferBody(features);
        var v1 = TestModels.TestModels.Classifier(1).Predict(features);
        var v2 = TestModels.TestModels.Classifier(2).Predict(features);
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var sawOld = 0;
        var sawNew = 0;
        var readyChecks = 0;

        var traffic = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (i == 0)
                {
                    using var ready = await host.Client.GetAsync("/v2/models/classifier/versions/1/ready");
                    Interlocked.Increment(ref readyChecks);
                    if (ready.StatusCode != HttpStatusCode.OK)
                    {
                        lock (failures)
                        {
                            failures.Add($"ready {(int)ready.StatusCode}");
                        }
                    }

                    continue;
                }

                using var response = await host.InferAsync(body, version: "1");
                if (!response.IsSuccessStatusCode)
                {
                    lock (failures)
                    {
                        failures.Add($"infer {(int)response.StatusCode}");
                    }

                    continue;
                }

                var p = (await RunningHost.ReadAnswerAsync(response)).Probabilities;
                if (RunningHost.Close(v1, p))
                {
                    Interlocked.Increment(ref sawOld);
                }
                else if (RunningHost.Close(v2, p))
                {
                    Interlocked.Increment(ref sawNew);
                }
                else
                {
                    lock (failures)
                    {
                        failures.Add("answer matches neither file");
                    }
                }
            }
        })).ToArray();

        await RunningHost.WaitUntilAsync(() => Volatile.Read(ref sawOld) >= 30 && Volatile.Read(ref readyChecks) >= 10, "traffic on the old file");

        // Replace version 1's file with version 2's weights (write next to it, rename over it), then ask the host to load it.
        var target = host.ModelFile(1);
        File.Copy(host.ModelFile(2), target + ".new", overwrite: true);
        File.Move(target + ".new", target, overwrite: true);
        using var load = await host.Client.PostAsync("/v2/repository/models/classifier/load", null);
        var newAfterLoad = Volatile.Read(ref sawNew);
        await RunningHost.WaitUntilAsync(() => Volatile.Read(ref sawNew) >= newAfterLoad + 30, "traffic on the new file");

        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        Assert.Empty(failures);
        var afterSwap = await RunningHost.ReadAnswerAsync(await host.InferAsync(body, version: "1"));
        Assert.Equal("1", afterSwap.Version);
        RunningHost.AssertClose(v2, afterSwap.Probabilities);
        Assert.Equal(host.Repository.GetOnnxRunner(new ModelKey("classifier", "2"))!.Sha256, host.Repository.GetOnnxRunner(V1)!.Sha256);
    }

    [Fact]
    public async Task Infer_CanaryAtTenPercent_RoutesStickilyByRoutingKeyAndAnswersWithTheChosenVersion()
    {
        await using var host = await RunningHost.StartAsync();
        var manager = host.App.Services.GetRequiredService<IRolloutManager>();
        await manager.StartAsync(new ModelId("classifier"), new ModelVersion("2"));
        var features = RunningHost.Features(1, seed: 31);
        var body = RunningHost.InferBody(features);
        var expected = new Dictionary<string, float[]>
        {
            ["1"] = TestModels.TestModels.Classifier(1).Predict(features),
            ["2"] = TestModels.TestModels.Classifier(2).Predict(features),
        };
        var firstChoice = new Dictionary<string, string>();

        for (var round = 0; round < 2; round++)
        {
            for (var user = 0; user < 200; user++)
            {
                var key = $"user-{user}";
                var answer = await RunningHost.ReadAnswerAsync(await host.InferAsync(body, headers: new Dictionary<string, string> { ["x-aiops-routing-key"] = key }));
                RunningHost.AssertClose(expected[answer.Version], answer.Probabilities);
                if (round == 0)
                {
                    firstChoice[key] = answer.Version;
                }
                else
                {
                    Assert.Equal(firstChoice[key], answer.Version);
                }
            }
        }

        var canaryUsers = firstChoice.Values.Count(v => v == "2");
        Assert.InRange(canaryUsers, 5, 45); // 10 % of 200 users, with room for the hash's spread
        var pinned = await RunningHost.ReadAnswerAsync(await host.InferAsync(body, headers: new Dictionary<string, string>
        {
            ["x-aiops-routing-key"] = firstChoice.First(p => p.Value == "2").Key,
            ["x-aiops-version"] = "1",
        }));
        Assert.Equal("1", pinned.Version);
    }

    [Fact]
    public async Task RolloutApi_StartThenAbortOverLoopback_MovesTrafficAndTheHistoryNamesWho()
    {
        await using var host = await RunningHost.StartAsync();
        var features = RunningHost.Features(1, seed: 37);
        var body = RunningHost.InferBody(features);

        async Task<int> CanaryUsersAsync()
        {
            var canary = 0;
            for (var user = 0; user < 200; user++)
            {
                var answer = await RunningHost.ReadAnswerAsync(await host.InferAsync(body, headers: new Dictionary<string, string> { ["x-aiops-routing-key"] = $"user-{user}" }));
                canary += answer.Version == "2" ? 1 : 0;
            }

            return canary;
        }

        using var started = await host.Client.PostAsync("/aiops/rollouts/classifier/start", new StringContent("""{"version":"2","actor":"ann","reason":"new weights"}""", Encoding.UTF8, "application/json"));
        Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
        Assert.InRange(await CanaryUsersAsync(), 5, 45);

        using var aborted = await host.Client.PostAsync("/aiops/rollouts/classifier/abort", new StringContent("""{"actor":"bob","reason":"latency"}""", Encoding.UTF8, "application/json"));
        Assert.True(aborted.IsSuccessStatusCode, await aborted.Content.ReadAsStringAsync());
        Assert.Equal(0, await CanaryUsersAsync());

        using var state = JsonDocument.Parse(await host.Client.GetStringAsync("/aiops/rollouts/classifier"));
        var history = state.RootElement.GetProperty("history").EnumerateArray().ToArray();
        Assert.Equal(["Start:ann", "Abort:bob"], history.Select(d => d.GetProperty("action").GetString() + ":" + d.GetProperty("actor").GetString()));
        using var badVerb = await host.Client.PostAsync("/aiops/rollouts/classifier/finish", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, badVerb.StatusCode);
        Assert.Equal("application/problem+json", badVerb.Content.Headers.ContentType?.MediaType);
    }
}
