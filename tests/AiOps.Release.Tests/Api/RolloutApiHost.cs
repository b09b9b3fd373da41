using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiOps.Release.Api;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Tests.Api;

/// <summary>
/// A real Kestrel host (port 0) with AiOps.Release over the fake catalog (model "fraud": stable 1, candidate 2), the
/// file state store in a temp folder and <c>MapAiOpsRolloutApi()</c>; optionally a test authentication scheme (headers
/// <c>X-Test-User</c>, <c>X-Test-Roles</c>) and the policy <see cref="Policy"/> (authenticated, role <c>operator</c>).
/// </summary>
internal sealed class RolloutApiHost : IAsyncDisposable
{
    public const string Policy = "rollout-operators";
    public const string Prefix = "/aiops/rollouts";

    private RolloutApiHost(WebApplication app, Uri address)
    {
        App = app;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public IRolloutStateStore Store => App.Services.GetRequiredService<IRolloutStateStore>();

    public static async Task<RolloutApiHost> StartAsync(
        string stateDirectory,
        Action<RolloutApiOptions>? api = null,
        bool authentication = false,
        IPAddress? bind = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = stateDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(bind ?? IPAddress.Loopback, 0));
        builder.Services.AddSingleton<IModelRunnerCatalog>(ReleaseHarness.DefaultCatalog());
        builder.Services.AddSingleton<AiOps.Metrics.IVersionMetricsSource>(new FakeMetricsSource());
        var release = builder.Services.AddAiOpsRelease(o =>
        {
            o.StateDirectory = Path.Combine(stateDirectory, "rollouts");
            o.EnableController = false; // only the API moves the rollout in these tests
        }).AddModel(ReleaseHarness.Model, o =>
        {
            o.StableVersion = "1";
            o.Steps = [10, 50, 100];
            o.StepHold = TimeSpan.FromHours(24);
            o.ApprovalSteps = [1];
        });
        if (api is not null)
        {
            release.ConfigureRolloutApi(api);
        }

        if (authentication)
        {
            builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
            builder.Services.AddAuthorization(o => o.AddPolicy(Policy, p => p.RequireAuthenticatedUser().RequireRole("operator")));
        }

        var app = builder.Build();
        app.MapAiOpsRolloutApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RolloutApiHost(app, new Uri(address));
    }

    public async Task<HttpResponseMessage> PostAsync(string path, string body, string? user = null, string? roles = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        AddUser(request, user, roles);
        return await Client.SendAsync(request);
    }

    public async Task<HttpResponseMessage> GetAsync(string path, string? user = null, string? roles = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Prefix + path);
        AddUser(request, user, roles);
        return await Client.SendAsync(request);
    }

    /// <summary>Posts an action and returns the state it answers with (asserting 200).</summary>
    public async Task<RolloutState> ActAsync(string verb, object body, string? user = null, string? roles = null)
    {
        using var response = await PostAsync($"/{ReleaseHarness.Model}/{verb}", JsonSerializer.Serialize(body), user, roles);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{verb}: {(int)response.StatusCode} {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return ReadState(text);
    }

    public static RolloutState ReadState(string json) =>
        JsonSerializer.Deserialize<RolloutState>(json, JsonOptions) ?? throw new InvalidOperationException("null state: " + json);

    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    /// <summary>Reads a problem+json answer, asserting its status and content type; returns its detail.</summary>
    public static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        Assert.Equal((int)expected, root.GetProperty("status").GetInt32());
        Assert.StartsWith("https://tools.ietf.org/html/rfc9110#section-", root.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        return root.GetProperty("detail").GetString()!;
    }

    /// <summary>A non-loopback unicast IPv4 address of this machine (eth0 and the like), or null.</summary>
    public static IPAddress? NonLoopbackAddress { get; } = FindNonLoopback();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static void AddUser(HttpRequestMessage request, string? user, string? roles)
    {
        if (user is not null)
        {
            request.Headers.Add(TestAuthHandler.UserHeader, user);
        }

        if (roles is not null)
        {
            request.Headers.Add(TestAuthHandler.RolesHeader, roles);
        }
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        o.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        return o;
    }

    private static IPAddress? FindNonLoopback()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}

/// <summary>Authenticates from headers: <c>X-Test-User</c> (the name) and <c>X-Test-Roles</c> (comma-separated); no header, no user.</summary>
internal sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";
    public const string UserHeader = "X-Test-User";
    public const string RolesHeader = "X-Test-Roles";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(UserHeader, out var user) || string.IsNullOrEmpty(user))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, user.ToString()) };
        foreach (var role in Request.Headers[RolesHeader].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}

/// <summary>A fact skipped, with the reason, when the machine has no non-loopback IPv4 address to bind Kestrel to.</summary>
public sealed class NonLoopbackFactAttribute : FactAttribute
{
    public NonLoopbackFactAttribute()
    {
        if (RolloutApiHost.NonLoopbackAddress is null)
        {
            Skip = "This machine has no non-loopback IPv4 address (e.g. eth0) to bind Kestrel to; the decision itself is covered by RolloutApiGuardTests.";
        }
    }
}
