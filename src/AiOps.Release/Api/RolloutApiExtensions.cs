using AiOps.Release.Api;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the rollout operator HTTP API of AiOps.Release.</summary>
public static class AiOpsRolloutApiEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the rollout operator API under <paramref name="prefix"/>: <c>GET {prefix}</c> (every model with a rollout
    /// state, each with its last decision), <c>GET {prefix}/{model}</c> (state and history), <c>POST {prefix}/{model}/start</c>
    /// (body <c>{"version": "2", "actor"?: "…", "reason"?: "…"}</c>) and <c>POST {prefix}/{model}/promote|pause|resume|abort|skip-step|undo|approve</c>
    /// (body <c>{"reason": "…", "actor"?: "…"}</c>). Answers are JSON (the <see cref="AiOps.State.RolloutState"/>); errors are
    /// RFC 7807 <c>application/problem+json</c>: 400 bad body, 403 refused, 404 unknown model or action, 405 wrong method,
    /// 409 the action does not apply to the current state, 413 body too large, 415 not JSON, 503 state store unreachable.
    /// Needs <c>services.AddAiOpsRelease()</c>.
    /// </summary>
    /// <remarks>
    /// <para><b>Authorization</b> (<see cref="RolloutApiOptions"/>, section <c>AiOps:Release:Api</c>): when
    /// <see cref="RolloutApiOptions.AuthorizationPolicy"/> names a policy, every endpoint requires it
    /// (<c>RequireAuthorization(policy)</c>; the host registers authentication and the policy). When none is named,
    /// every request is refused with 403, except direct loopback requests while
    /// <see cref="RolloutApiOptions.AllowLoopbackWithoutPolicy"/> is on (the default, for samples): production hosts must name a policy.</para>
    /// <para><b>Who acts</b>: the authenticated user's name; a body <c>actor</c> naming someone else is recorded as
    /// <c>user (for actor)</c>; unauthenticated (loopback) callers must send <c>actor</c>, else 400.</para>
    /// <para>Anti-forgery tokens are not used: the API takes only <c>application/json</c> bodies, which a browser page
    /// of another origin cannot send without a CORS preflight this API does not grant (unless the host adds CORS to
    /// the group).</para>
    /// </remarks>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="prefix">The route prefix. Default: <c>/aiops/rollouts</c>.</param>
    /// <returns>The endpoint group: attach rate limiting, CORS or more endpoints to it.</returns>
    /// <exception cref="InvalidOperationException"><c>AddAiOpsRelease()</c> was not called, or the named policy is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a route prefix starting with '/'.</exception>
    public static RouteGroupBuilder MapAiOpsRolloutApi(this IEndpointRouteBuilder endpoints, string prefix = "/aiops/rollouts")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.StartsWith('/') || prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('?', StringComparison.Ordinal) || (prefix.Length > 1 && prefix.EndsWith('/')))
        {
            throw new ArgumentException($"Expected a route prefix starting with '/', without a trailing '/', '{{' or '?' (e.g. /aiops/rollouts); got '{prefix}'.", nameof(prefix));
        }

        var services = endpoints.ServiceProvider;
        if (services.GetService<AiOps.Release.Rollout.IRolloutManager>() is null)
        {
            throw new InvalidOperationException("MapAiOpsRolloutApi() needs services.AddAiOpsRelease() first.");
        }

        var handlers = ActivatorUtilities.CreateInstance<RolloutApiEndpoints>(services);
        var options = services.GetRequiredService<IOptions<RolloutApiOptions>>().Value;
        var group = endpoints.MapGroup(prefix);
        if (options.AuthorizationPolicy is { } policy)
        {
            var provider = services.GetService<IAuthorizationPolicyProvider>()
                ?? throw new InvalidOperationException(
                    $"{RolloutApiOptions.SectionName}:{nameof(RolloutApiOptions.AuthorizationPolicy)} names '{policy}', but authorization is not registered; call services.AddAuthorization(o => o.AddPolicy(\"{policy}\", …)).");
            if (provider.GetPolicyAsync(policy).GetAwaiter().GetResult() is null)
            {
                throw new InvalidOperationException(
                    $"{RolloutApiOptions.SectionName}:{nameof(RolloutApiOptions.AuthorizationPolicy)} names '{policy}', which the host does not define; add it with services.AddAuthorization(o => o.AddPolicy(\"{policy}\", …)).");
            }

            group.RequireAuthorization(policy);
        }

        group.MapGet(string.Empty, handlers.ListAsync);
        group.MapGet("/{model}", (HttpContext c, string model) => handlers.GetAsync(c, model));
        group.MapPost("/{model}/{verb}", (HttpContext c, string model, string verb) => handlers.ActAsync(c, model, verb));
        // Everything else under the prefix (any method): problem+json 404, or 405 with Allow. A fallback (lowest order),
        // so the endpoints above always win.
        group.MapFallback("/{**rest}", (HttpContext c, string? rest) => handlers.UnmatchedAsync(c, rest));
        return group;
    }
}
