using System.Net;
using System.Text;
using System.Text.Json;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Release.Tests.Api;

/// <summary>The rollout operator API end to end: real Kestrel, the real rollout manager, the file state store.</summary>
public sealed class RolloutApiTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertRecorded(RolloutState state, RolloutAction action, string actor, string reason)
    {
        var last = state.History[^1];
        Assert.Equal(action, last.Action);
        Assert.Equal(actor, last.Actor);
        Assert.Contains($"by {actor}: {reason}", last.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryVerb_EndToEnd_AnswersTheStateAndTheHistoryNamesWhoAndWhy()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);

        var started = await host.ActAsync("start", new { version = "2", actor = "ann", reason = "new fraud features" });
        Assert.Equal((RolloutPhase.Progressing, new ModelVersion("1"), new ModelVersion("2"), 10.0), (started.Phase, started.Stable, started.Canary!.Value, started.CanaryWeightPercent));
        Assert.Equal((RolloutAction.Start, "ann"), (started.History[^1].Action, started.History[^1].Actor));
        Assert.EndsWith("by ann: new fraud features", started.History[^1].Reasons[0], StringComparison.Ordinal);

        var paused = await host.ActAsync("pause", new { actor = "bob", reason = "marketing push" });
        Assert.True(paused.Paused);
        AssertRecorded(paused, RolloutAction.Pause, "bob", "marketing push");

        var resumed = await host.ActAsync("resume", new { actor = "bob", reason = "push over" });
        Assert.False(resumed.Paused);
        AssertRecorded(resumed, RolloutAction.Resume, "bob", "push over");

        var skipped = await host.ActAsync("skip-step", new { actor = "cat", reason = "10 % looked fine" });
        Assert.Equal((1, 50.0), (skipped.StepIndex, skipped.CanaryWeightPercent));
        AssertRecorded(skipped, RolloutAction.SkipStep, "cat", "10 % looked fine");

        var approved = await host.ActAsync("approve", new { actor = "dan", reason = "business sign-off" });
        Assert.Equal(1, approved.ApprovedStep);
        AssertRecorded(approved, RolloutAction.Approve, "dan", "business sign-off");

        var promoted = await host.ActAsync("promote", new { actor = "eve", reason = "ship it" });
        Assert.Equal((RolloutPhase.Promoted, new ModelVersion("2"), new ModelVersion("1")), (promoted.Phase, promoted.Stable, promoted.PreviousStable!.Value));
        AssertRecorded(promoted, RolloutAction.Promote, "eve", "ship it");

        var undone = await host.ActAsync("undo", new { actor = "fay", reason = "conversion dropped" });
        Assert.Equal((RolloutPhase.RolledBack, new ModelVersion("1")), (undone.Phase, undone.Stable));
        AssertRecorded(undone, RolloutAction.Undo, "fay", "conversion dropped");

        var again = await host.ActAsync("start", new { version = "2", actor = "ann" });
        Assert.Equal(RolloutPhase.Progressing, again.Phase);
        Assert.EndsWith("; by ann", again.History[^1].Reasons[0], StringComparison.Ordinal);
        var aborted = await host.ActAsync("abort", new { actor = "gus", reason = "wrong build" });
        Assert.Equal((RolloutPhase.RolledBack, 0.0), (aborted.Phase, aborted.CanaryWeightPercent));
        AssertRecorded(aborted, RolloutAction.Abort, "gus", "wrong build");

        // The answers are what the store holds (one write per action), and GET reads the same state and history.
        var stored = (await host.Store.GetAsync(Fraud))!;
        Assert.Equal(aborted.Revision, stored.Revision);
        Assert.Equal(9, stored.Revision);
        using var get = await host.GetAsync("/fraud");
        var read = RolloutApiHost.ReadState(await get.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(
            [RolloutAction.Start, RolloutAction.Pause, RolloutAction.Resume, RolloutAction.SkipStep, RolloutAction.Approve, RolloutAction.Promote, RolloutAction.Undo, RolloutAction.Start, RolloutAction.Abort],
            read.History.Select(d => d.Action));
        Assert.Equal(["ann", "bob", "bob", "cat", "dan", "eve", "fay", "ann", "gus"], read.History.Select(d => d.Actor));
        Assert.Equal("no-store", get.Headers.CacheControl?.ToString());

        // The list: every model with a state, its last decision instead of the whole history.
        using var list = await host.GetAsync(string.Empty);
        using var doc = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        var item = Assert.Single(doc.RootElement.GetProperty("rollouts").EnumerateArray());
        Assert.Equal("fraud", item.GetProperty("model").GetString());
        Assert.Equal("RolledBack", item.GetProperty("phase").GetString());
        Assert.Equal(9, item.GetProperty("historyCount").GetInt32());
        Assert.Equal("gus", item.GetProperty("lastDecision").GetProperty("actor").GetString());
        Assert.False(item.TryGetProperty("history", out _));
    }

    [Fact]
    public async Task List_NoRolloutYet_IsEmpty_AndGetIs404()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);

        using var list = await host.GetAsync(string.Empty);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("""{"rollouts":[]}""", await list.Content.ReadAsStringAsync());
        using var get = await host.GetAsync("/fraud");
        Assert.Contains("has no rollout yet", await RolloutApiHost.ProblemAsync(get, HttpStatusCode.NotFound), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownModelVerbOrRoute_ProblemJson404Or405()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);

        using var unknownModel = await host.PostAsync("/churn/promote", """{"actor":"a","reason":"r"}""");
        Assert.Contains("Unknown model 'churn'; configured for release: fraud.", await RolloutApiHost.ProblemAsync(unknownModel, HttpStatusCode.NotFound), StringComparison.Ordinal);
        using var unknownGet = await host.GetAsync("/churn");
        await RolloutApiHost.ProblemAsync(unknownGet, HttpStatusCode.NotFound);
        using var badName = await host.GetAsync("/..%2Fetc");
        await RolloutApiHost.ProblemAsync(badName, HttpStatusCode.NotFound);

        using var unknownVerb = await host.PostAsync("/fraud/frobnicate", """{"actor":"a","reason":"r"}""");
        Assert.Contains("expected one of: start, promote, pause, resume, abort, skip-step, undo, approve", await RolloutApiHost.ProblemAsync(unknownVerb, HttpStatusCode.NotFound), StringComparison.Ordinal);

        using var getVerb = await host.GetAsync("/fraud/promote");
        await RolloutApiHost.ProblemAsync(getVerb, HttpStatusCode.MethodNotAllowed);
        Assert.Equal("POST", string.Join(",", getVerb.Content.Headers.Allow));
        using var postModel = await host.PostAsync("/fraud", "{}");
        await RolloutApiHost.ProblemAsync(postModel, HttpStatusCode.MethodNotAllowed);
        Assert.Equal("GET", string.Join(",", postModel.Content.Headers.Allow));
        using var deep = await host.GetAsync("/fraud/promote/now");
        await RolloutApiHost.ProblemAsync(deep, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task VerbNotValidInTheCurrentState_409WithTheManagersReason_StateUnchanged()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);

        using var promoteIdle = await host.PostAsync("/fraud/promote", """{"actor":"a","reason":"r"}""");
        Assert.Contains("expected a progressing rollout", await RolloutApiHost.ProblemAsync(promoteIdle, HttpStatusCode.Conflict), StringComparison.Ordinal);

        await host.ActAsync("start", new { version = "2", actor = "ann" });
        using var undo = await host.PostAsync("/fraud/undo", """{"actor":"a","reason":"r"}""");
        Assert.Contains("expected a promoted rollout", await RolloutApiHost.ProblemAsync(undo, HttpStatusCode.Conflict), StringComparison.Ordinal);
        using var startTwice = await host.PostAsync("/fraud/start", """{"version":"2","actor":"a"}""");
        Assert.Contains("already progressing", await RolloutApiHost.ProblemAsync(startTwice, HttpStatusCode.Conflict), StringComparison.Ordinal);

        var state = (await host.Store.GetAsync(Fraud))!;
        Assert.Equal((1L, RolloutPhase.Progressing), (state.Revision, state.Phase));

        await host.ActAsync("abort", new { actor = "a", reason = "r" });
        using var startStable = await host.PostAsync("/fraud/start", """{"version":"1","actor":"a"}""");
        Assert.Contains("already stable", await RolloutApiHost.ProblemAsync(startStable, HttpStatusCode.Conflict), StringComparison.Ordinal);
        using var notLoaded = await host.PostAsync("/fraud/start", """{"version":"9","actor":"a"}""");
        Assert.Contains("not loaded", await RolloutApiHost.ProblemAsync(notLoaded, HttpStatusCode.NotFound), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "/fraud/promote", "not json", "not valid JSON" },
        { "/fraud/promote", "[]", "not a JSON object" },
        { "/fraud/promote", "\"promote\"", "not a JSON object" },
        { "/fraud/promote", """{"actor":"a","reason":"r","force":true}""", "Unknown property 'force'" },
        { "/fraud/promote", """{"actor":"a","reason":"r","version":"2"}""", "Unknown property 'version'" },
        { "/fraud/promote", """{"actor":"a","reason":"r","reason":"s"}""", "appears twice" },
        { "/fraud/promote", """{"actor":"a","reason":7}""", "Expected 'reason' to be a string; got a number" },
        { "/fraud/promote", """{"actor":["a"],"reason":"r"}""", "Expected 'actor' to be a string; got an array" },
        { "/fraud/promote", """{"actor":"a","reason":{"x":1}}""", "Expected 'reason' to be a string; got an object" },
        { "/fraud/promote", """{"actor":"a","reason":{"x":{"y":1}}}""", "Expected 'reason' to be a string; got an object" },
        { "/fraud/promote", """{"actor":"a"}""", "Expected 'reason'" },
        { "/fraud/promote", """{"actor":"a","reason":"   "}""", "non-blank" },
        { "/fraud/promote", """{"actor":"a\nb","reason":"r"}""", "control character U+000A" },
        { "/fraud/promote", """{"actor":"a","reason":"r"} {}""", "not valid JSON" },
        { "/fraud/promote", """{"actor":"a","reason":"r",}""", "not valid JSON" },
        { "/fraud/promote", """{"reason":"r"}""", "Expected 'actor'" },
        { "/fraud/promote", "", "empty" },
        { "/fraud/start", """{"actor":"a"}""", "Expected 'version'" },
        { "/fraud/start", """{"version":"../2","actor":"a"}""", "'version' is '../2'" },
        { "/fraud/start", """{"version":2,"actor":"a"}""", "Expected 'version' to be a string" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadBody_400ProblemNamingWhatWasExpected_NothingWritten(string path, string body, string expected)
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);
        await host.ActAsync("start", new { version = "2", actor = "ann" });
        if (path.EndsWith("/start", StringComparison.Ordinal))
        {
            await host.ActAsync("abort", new { actor = "ann", reason = "to start again" });
        }

        var before = (await host.Store.GetAsync(Fraud))!.Revision;

        using var response = await host.PostAsync(path, body);

        Assert.Contains(expected, await RolloutApiHost.ProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Equal(before, (await host.Store.GetAsync(Fraud))!.Revision);
    }

    [Fact]
    public async Task OversizeOrNonJsonBody_413Or415Problem()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path, o => o.MaxRequestBodyBytes = 1024);
        await host.ActAsync("start", new { version = "2", actor = "ann" });
        var big = JsonSerializer.Serialize(new { actor = "a", reason = new string('x', 5000) });

        using var declared = await host.PostAsync("/fraud/promote", big);
        Assert.Contains("at most 1024", await RolloutApiHost.ProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge), StringComparison.Ordinal);

        // Chunked (no Content-Length): refused once the body passes the limit.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, RolloutApiHost.Prefix + "/fraud/promote")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))),
        };
        chunked.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var chunkedResponse = await host.Client.SendAsync(chunked);
        Assert.Contains("passes 1024 bytes", await RolloutApiHost.ProblemAsync(chunkedResponse, HttpStatusCode.RequestEntityTooLarge), StringComparison.Ordinal);

        // Under the limit it is taken.
        using var longReason = await host.PostAsync("/fraud/promote", JsonSerializer.Serialize(new { actor = "a", reason = new string('x', 900) }));
        Assert.Equal(HttpStatusCode.OK, longReason.StatusCode);

        using var text = await host.PostAsync("/fraud/abort", """{"actor":"a","reason":"r"}""", contentType: "text/plain");
        Assert.Contains("Expected Content-Type application/json", await RolloutApiHost.ProblemAsync(text, HttpStatusCode.UnsupportedMediaType), StringComparison.Ordinal);
        using var form = await host.PostAsync("/fraud/abort", "actor=a&reason=r", contentType: "application/x-www-form-urlencoded");
        await RolloutApiHost.ProblemAsync(form, HttpStatusCode.UnsupportedMediaType);
        using var latin1 = await host.PostAsync("/fraud/abort", """{"actor":"a","reason":"r"}""", contentType: "application/json; charset=iso-8859-1");
        await RolloutApiHost.ProblemAsync(latin1, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task TwoPromotesAtOnce_OneSucceedsTheOther409_StateHasOnePromotion()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);
        for (var round = 0; round < 5; round++)
        {
            await host.ActAsync("start", new { version = round % 2 == 0 ? "2" : "1", actor = "ann" });
            var before = (await host.Store.GetAsync(Fraud))!;
            using var gate = new Barrier(8);
            var calls = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                gate.SignalAndWait();
                using var r = await host.PostAsync("/fraud/promote", JsonSerializer.Serialize(new { actor = "op" + i, reason = "race" }));
                return (r.StatusCode, await r.Content.ReadAsStringAsync());
            })).ToArray();
            var results = await Task.WhenAll(calls);

            Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
            {
                Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
                Assert.Contains("expected a progressing rollout", r.Item2, StringComparison.Ordinal);
            });
            var after = (await host.Store.GetAsync(Fraud))!;
            Assert.Equal(before.Revision + 1, after.Revision);
            Assert.Equal(RolloutPhase.Promoted, after.Phase);
            Assert.Equal(before.History.Count + 1, after.History.Count);
            Assert.Equal(RolloutAction.Promote, after.History[^1].Action);
            var winner = RolloutApiHost.ReadState(results.Single(r => r.StatusCode == HttpStatusCode.OK).Item2);
            Assert.Equal(after.History[^1].Actor, winner.History[^1].Actor);
        }
    }

    [Fact]
    public async Task WithPolicy_Unauthenticated401_WithoutTheRole403_OperatorActsUnderTheirOwnName()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path, o => o.AuthorizationPolicy = RolloutApiHost.Policy, authentication: true);

        using var anonymous = await host.PostAsync("/fraud/start", """{"version":"2","actor":"mallory"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var anonymousGet = await host.GetAsync(string.Empty);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousGet.StatusCode);
        using var viewer = await host.PostAsync("/fraud/start", """{"version":"2"}""", user: "victor", roles: "viewer");
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Null(await host.Store.GetAsync(Fraud));

        var started = await host.ActAsync("start", new { version = "2", reason = "ticket 42" }, user: "alice", roles: "operator");
        Assert.Equal("alice", started.History[^1].Actor);
        var paused = await host.ActAsync("pause", new { reason = "on behalf of the on-call", actor = "bob" }, user: "alice", roles: "operator");
        Assert.Equal("alice (for bob)", paused.History[^1].Actor);
        var same = await host.ActAsync("resume", new { reason = "r", actor = "alice" }, user: "alice", roles: "operator");
        Assert.Equal("alice", same.History[^1].Actor);
        using var read = await host.GetAsync("/fraud", user: "alice", roles: "operator");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task WithPolicyNotDefinedByTheHost_MapThrowsNamingIt()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton<IModelRunnerCatalog>(ReleaseHarness.DefaultCatalog());
        builder.Services.AddAuthorization();
        builder.Services.AddAiOpsRelease(o => o.StateDirectory = _dir.Path).AddModel("fraud").ConfigureRolloutApi(o => o.AuthorizationPolicy = "nobody-defined-this");
        await using var app = builder.Build();

        var e = Assert.Throws<InvalidOperationException>(() => app.MapAiOpsRolloutApi());
        Assert.Contains("names 'nobody-defined-this', which the host does not define", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutPolicy_LoopbackNotAllowed_Refuses403()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path, o => o.AllowLoopbackWithoutPolicy = false);

        using var get = await host.GetAsync(string.Empty);
        Assert.Contains("no authorization policy (AiOps:Release:Api:AuthorizationPolicy)", await RolloutApiHost.ProblemAsync(get, HttpStatusCode.Forbidden), StringComparison.Ordinal);
        using var start = await host.PostAsync("/fraud/start", """{"version":"2","actor":"a"}""");
        await RolloutApiHost.ProblemAsync(start, HttpStatusCode.Forbidden);
        using var unknown = await host.GetAsync("/fraud/x/y");
        await RolloutApiHost.ProblemAsync(unknown, HttpStatusCode.Forbidden);
        Assert.Null(await host.Store.GetAsync(Fraud));
    }

    [Fact]
    public async Task WithoutPolicy_ProxiedLoopbackRequest_Refuses403()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path);
        using var request = new HttpRequestMessage(HttpMethod.Get, RolloutApiHost.Prefix);
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");

        using var response = await host.Client.SendAsync(request);

        await RolloutApiHost.ProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [NonLoopbackFact]
    public async Task WithoutPolicy_RequestFromANonLoopbackAddress_Refuses403_NothingWritten()
    {
        var address = RolloutApiHost.NonLoopbackAddress!;
        await using var host = await RolloutApiHost.StartAsync(_dir.Path, bind: address);
        Assert.Equal(address.ToString(), host.Client.BaseAddress!.Host);

        using var start = await host.PostAsync("/fraud/start", """{"version":"2","actor":"mallory"}""");
        Assert.Contains("answers only direct loopback requests", await RolloutApiHost.ProblemAsync(start, HttpStatusCode.Forbidden), StringComparison.Ordinal);
        using var list = await host.GetAsync(string.Empty);
        await RolloutApiHost.ProblemAsync(list, HttpStatusCode.Forbidden);
        Assert.Null(await host.Store.GetAsync(Fraud));
    }

    [NonLoopbackFact]
    public async Task WithPolicy_RequestFromANonLoopbackAddress_OperatorIsServed()
    {
        await using var host = await RolloutApiHost.StartAsync(_dir.Path, o => o.AuthorizationPolicy = RolloutApiHost.Policy, authentication: true, bind: RolloutApiHost.NonLoopbackAddress);

        var started = await host.ActAsync("start", new { version = "2" }, user: "alice", roles: "operator");

        Assert.Equal("alice", started.History[^1].Actor);
    }
}
