using System.Net;
using System.Security.Claims;
using AiOps.Release.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Tests.Api;

/// <summary>The decisions behind the API: who may call without a policy, who is recorded as acting, what a body may hold.</summary>
public sealed class RolloutApiGuardTests
{
    private static RolloutApiEndpoints Endpoints(Action<RolloutApiOptions>? configure = null)
    {
        var options = new RolloutApiOptions();
        configure?.Invoke(options);
        return new RolloutApiEndpoints(null!, [], Options.Create(options), NullLogger<RolloutApiEndpoints>.Instance);
    }

    private static DefaultHttpContext Request(string? remote, string host = "localhost", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = remote is null ? null : IPAddress.Parse(remote);
        context.Request.Host = HostString.FromUriComponent(host);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return context;
    }

    [Theory]
    [InlineData("127.0.0.1", "localhost:5000", true)]
    [InlineData("127.0.0.1", "127.0.0.1:5000", true)]
    [InlineData("127.8.9.10", "127.0.0.1", true)]
    [InlineData("::1", "[::1]:5000", true)]
    [InlineData("::ffff:127.0.0.1", "localhost", true)]
    [InlineData("10.0.0.5", "localhost", false)]
    [InlineData("192.0.2.2", "192.0.2.2:5000", false)]
    [InlineData("::ffff:10.0.0.5", "localhost", false)]
    [InlineData("fd00::2", "localhost", false)]
    [InlineData(null, "localhost", false)]
    [InlineData("127.0.0.1", "evil.example:5000", false)] // a page whose DNS name was rebound to 127.0.0.1
    [InlineData("127.0.0.1", "localhost.evil.example", false)]
    public void Guard_WithoutPolicy_OnlyDirectLoopbackPasses(string? remote, string host, bool allowed)
    {
        var refused = Endpoints().Guard(Request(remote, host));

        Assert.Equal(allowed, refused is null);
        if (!allowed)
        {
            Assert.Contains("AiOps:Release:Api:AuthorizationPolicy", refused, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("Forwarded", "for=203.0.113.9")]
    [InlineData("X-Real-IP", "203.0.113.9")]
    public void Guard_WithoutPolicy_ProxiedLoopbackIsRefused(string header, string value) =>
        Assert.NotNull(Endpoints().Guard(Request("127.0.0.1", "localhost", (header, value))));

    [Fact]
    public void Guard_LoopbackSwitchedOff_RefusesEvenLoopback() =>
        Assert.Contains("loopback requests are not allowed", Endpoints(o => o.AllowLoopbackWithoutPolicy = false).Guard(Request("127.0.0.1")), StringComparison.Ordinal);

    [Fact]
    public void Guard_WithPolicy_LeavesTheDecisionToAuthorization() =>
        Assert.Null(Endpoints(o => o.AuthorizationPolicy = "ops").Guard(Request("10.0.0.5", "api.example")));

    [Fact]
    public void ActorOf_AuthenticatedName_ElseTheBodys_ElseRefused()
    {
        var alice = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice")], "test"));
        var unnamed = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "123")], "test"));
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity());

        Assert.Equal("alice", RolloutApiEndpoints.ActorOf(alice, null));
        Assert.Equal("alice", RolloutApiEndpoints.ActorOf(alice, "alice"));
        Assert.Equal("alice (for bob)", RolloutApiEndpoints.ActorOf(alice, "bob"));
        Assert.Equal("bob", RolloutApiEndpoints.ActorOf(anonymous, "bob"));
        Assert.Equal("bob", RolloutApiEndpoints.ActorOf(unnamed, "bob"));
        var e = Assert.Throws<ApiProblem>(() => RolloutApiEndpoints.ActorOf(anonymous, null));
        Assert.Equal((400, true), (e.Status, e.Message.Contains("Expected 'actor'", StringComparison.Ordinal)));
    }

    [Fact]
    public void ParseBody_TakesTheKnownFieldsTrimmed_NullAsAbsent()
    {
        var start = RolloutApiEndpoints.ParseBody("""{ "version": "2.1", "actor": " ann ", "reason": null }"""u8, isStart: true);
        Assert.Equal(new RolloutApiEndpoints.ActionBody("2.1", "ann", null), start);
        var promote = RolloutApiEndpoints.ParseBody("""{"reason":"line one\nline two","actor":null}"""u8, isStart: false);
        Assert.Equal(new RolloutApiEndpoints.ActionBody(null, null, "line one\nline two"), promote);
    }

    [Theory]
    [InlineData("{\"reason\":\"" + "a\\u0000b" + "\"}", "U+0000")]
    [InlineData("{\"reason\":\"r\",\"actor\":\"a\\tb\"}", "U+0009")]
    [InlineData("{\"reason\":\"r\"}garbage", "not valid JSON")]
    [InlineData("{\"reason\":\"r\"} ", null)]
    public void ParseBody_Strict(string body, string? expected)
    {
        if (expected is null)
        {
            Assert.Equal("r", RolloutApiEndpoints.ParseBody(System.Text.Encoding.UTF8.GetBytes(body), isStart: false).Reason);
            return;
        }

        var e = Assert.Throws<ApiProblem>(() => RolloutApiEndpoints.ParseBody(System.Text.Encoding.UTF8.GetBytes(body), isStart: false));
        Assert.Equal(400, e.Status);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" ops", 100_000, "AiOps:Release:Api:AuthorizationPolicy is ' ops'")]
    [InlineData("", 100_000, "AiOps:Release:Api:AuthorizationPolicy is empty")]
    [InlineData(null, 100, "AiOps:Release:Api:MaxRequestBodyBytes is 100; expected 256 to 1048576 bytes.")]
    [InlineData(null, 2_000_000, "AiOps:Release:Api:MaxRequestBodyBytes is 2000000")]
    public void Options_OutOfRange_NameTheKey(string? policy, int maxBody, string expected)
    {
        var result = new RolloutApiOptionsValidator().Validate(null, new RolloutApiOptions { AuthorizationPolicy = policy, MaxRequestBodyBytes = maxBody });

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_AreValid() =>
        Assert.True(new RolloutApiOptionsValidator().Validate(null, new RolloutApiOptions()).Succeeded);
}
