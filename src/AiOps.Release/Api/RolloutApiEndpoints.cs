using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiOps.Release.Rollout;
using AiOps.Release.State;
using AiOps.State;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AiOps.Release.Api;

/// <summary>The handlers of the rollout operator API (mapped by <c>MapAiOpsRolloutApi()</c>).</summary>
internal sealed partial class RolloutApiEndpoints
{
    /// <summary>The most characters of an actor's name.</summary>
    internal const int MaxActorLength = 200;

    /// <summary>The most characters of a reason.</summary>
    internal const int MaxReasonLength = 2000;

    /// <summary>The operator verbs (path segment after the model) and the manager call of each; <c>start</c> is apart (it takes a version).</summary>
    internal static readonly IReadOnlyDictionary<string, Func<IRolloutManager, ModelId, string, string, CancellationToken, ValueTask<RolloutState>>> Verbs =
        new Dictionary<string, Func<IRolloutManager, ModelId, string, string, CancellationToken, ValueTask<RolloutState>>>(StringComparer.Ordinal)
        {
            ["promote"] = static (m, model, actor, reason, ct) => m.PromoteAsync(model, actor, reason, ct),
            ["pause"] = static (m, model, actor, reason, ct) => m.PauseAsync(model, actor, reason, ct),
            ["resume"] = static (m, model, actor, reason, ct) => m.ResumeAsync(model, actor, reason, ct),
            ["abort"] = static (m, model, actor, reason, ct) => m.AbortAsync(model, actor, reason, ct),
            ["skip-step"] = static (m, model, actor, reason, ct) => m.SkipStepAsync(model, actor, reason, ct),
            ["undo"] = static (m, model, actor, reason, ct) => m.UndoAsync(model, actor, reason, ct),
            ["approve"] = static (m, model, actor, reason, ct) => m.ApproveAsync(model, actor, reason, ct),
        };

    /// <summary>Every verb, for messages and <c>Allow</c> decisions.</summary>
    internal static readonly string VerbList = "start, " + string.Join(", ", Verbs.Keys);

    private static readonly JsonSerializerOptions s_json = new(ReleaseJson.Options) { WriteIndented = false };

    private readonly IRolloutManager _manager;
    private readonly IReadOnlyList<ModelId> _models;
    private readonly RolloutApiOptions _options;
    private readonly ILogger _logger;

    public RolloutApiEndpoints(IRolloutManager manager, IEnumerable<ReleaseModelRegistration> models, IOptions<RolloutApiOptions> options, ILogger<RolloutApiEndpoints> logger)
    {
        _manager = manager;
        _models = [.. models.Select(m => m.Model).Distinct().Order()];
        _options = options.Value; // read once: the mapped endpoints' authorization is decided at start-up
        _logger = logger;
    }

    /// <summary>GET <c>{prefix}</c>: every configured model that has a rollout state, without its history (its last decision instead).</summary>
    public Task ListAsync(HttpContext context) => RunAsync(context, async () =>
    {
        var items = new JsonArray();
        foreach (var model in _models)
        {
            if (await _manager.GetStateAsync(model, context.RequestAborted).ConfigureAwait(false) is not { } state)
            {
                continue;
            }

            var node = JsonSerializer.SerializeToNode(state with { History = [] }, s_json)!.AsObject();
            node.Remove("history");
            node["historyCount"] = state.History.Count;
            node["lastDecision"] = state.History.Count > 0 ? JsonSerializer.SerializeToNode(state.History[^1], s_json) : null;
            items.Add(node);
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["rollouts"] = items }).ConfigureAwait(false);
    });

    /// <summary>GET <c>{prefix}/{model}</c>: the state with its whole history.</summary>
    public Task GetAsync(HttpContext context, string model) => RunAsync(context, async () =>
    {
        var id = FindModel(model);
        var state = await _manager.GetStateAsync(id, context.RequestAborted).ConfigureAwait(false)
            ?? throw new ApiProblem(StatusCodes.Status404NotFound, $"Model '{id}' has no rollout yet; start one with POST {{prefix}}/{id}/start.");
        await WriteStateAsync(context, state).ConfigureAwait(false);
    });

    /// <summary>POST <c>{prefix}/{model}/{verb}</c>: start, or one of <see cref="Verbs"/>.</summary>
    public Task ActAsync(HttpContext context, string model, string verb) => RunAsync(context, async () =>
    {
        var isStart = verb == "start";
        if (!isStart && !Verbs.ContainsKey(verb))
        {
            throw new ApiProblem(StatusCodes.Status404NotFound, $"Unknown rollout action '{Truncate(verb)}'; expected one of: {VerbList}.");
        }

        var id = FindModel(model);
        var body = await ReadBodyAsync(context, isStart).ConfigureAwait(false);
        var actor = ActorOf(context.User, body.Actor);
        RolloutState state;
        if (isStart)
        {
            state = await _manager.StartAsync(id, new ModelVersion(body.Version!), actor, body.Reason, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            state = await Verbs[verb](_manager, id, actor, body.Reason!, context.RequestAborted).ConfigureAwait(false);
        }

        LogAction(_logger, verb, id.Value, actor);
        await WriteStateAsync(context, state).ConfigureAwait(false);
    });

    /// <summary>Any other path or method under the prefix: 405 with <c>Allow</c> where the path takes another method, else 404.</summary>
    public Task UnmatchedAsync(HttpContext context, string? rest) => RunAsync(context, () =>
    {
        var segments = (rest ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var allow = segments.Length switch
        {
            0 or 1 => "GET",
            2 when segments[1] == "start" || Verbs.ContainsKey(segments[1]) => "POST",
            _ => null,
        };
        if (allow is null)
        {
            throw new ApiProblem(StatusCodes.Status404NotFound,
                $"No rollout API endpoint at {Truncate(context.Request.Path.Value ?? string.Empty)}; expected GET {{prefix}}, GET {{prefix}}/{{model}} or POST {{prefix}}/{{model}}/{{action}} with action one of: {VerbList}.");
        }

        context.Response.Headers.Allow = allow;
        throw new ApiProblem(StatusCodes.Status405MethodNotAllowed, $"{context.Request.Method} is not allowed on {Truncate(context.Request.Path.Value ?? string.Empty)}; allowed: {allow}.");
    });

    /// <summary>
    /// The decision without a policy: <see langword="null"/> when the request may proceed, else why it is refused. With
    /// a policy the authorization middleware decides and this lets everything through.
    /// </summary>
    internal string? Guard(HttpContext context)
    {
        var options = _options;
        if (options.AuthorizationPolicy is not null)
        {
            return null;
        }

        const string Name = RolloutApiOptions.SectionName + ":" + nameof(RolloutApiOptions.AuthorizationPolicy);
        if (!options.AllowLoopbackWithoutPolicy)
        {
            return $"The rollout API has no authorization policy ({Name}) and loopback requests are not allowed either; name a policy the host defines.";
        }

        return IsDirectLoopback(context)
            ? null
            : $"The rollout API has no authorization policy ({Name}) and answers only direct loopback requests (from 127.0.0.0/8 or ::1 to a loopback host, not proxied); name a policy the host defines to open it to others.";
    }

    /// <summary>
    /// Whether the request comes from a loopback address, to a loopback host name (a browser page served elsewhere
    /// that rebinds its DNS name to 127.0.0.1 keeps its own Host header), without proxy headers.
    /// </summary>
    internal static bool IsDirectLoopback(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
        {
            return false;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        if (!IPAddress.IsLoopback(remote))
        {
            return false;
        }

        var headers = context.Request.Headers;
        if (headers.ContainsKey("Forwarded") || headers.ContainsKey("X-Forwarded-For") || headers.ContainsKey("X-Real-IP"))
        {
            return false;
        }

        var host = context.Request.Host.Host;
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var hostAddress) && IPAddress.IsLoopback(hostAddress.IsIPv4MappedToIPv6 ? hostAddress.MapToIPv4() : hostAddress));
    }

    /// <summary>
    /// Who acts: the authenticated user's name; a body <c>actor</c> that names someone else is recorded as
    /// "user (for actor)"; without an authenticated name, the body's actor; without either the request is refused.
    /// </summary>
    internal static string ActorOf(System.Security.Claims.ClaimsPrincipal? user, string? claimed)
    {
        var name = user?.Identity is { IsAuthenticated: true, Name: { } n } && !string.IsNullOrWhiteSpace(n) ? n.Trim() : null;
        if (name is not null)
        {
            return claimed is null || string.Equals(claimed, name, StringComparison.Ordinal) ? name : $"{name} (for {claimed})";
        }

        return claimed ?? throw new ApiProblem(StatusCodes.Status400BadRequest,
            "Expected 'actor' in the body (who acts, recorded in the rollout history): the request is not authenticated with a user name.");
    }

    private ModelId FindModel(string model)
    {
        if (ModelId.IsValid(model, out _))
        {
            var id = new ModelId(model);
            if (_models.Contains(id))
            {
                return id;
            }
        }

        throw new ApiProblem(StatusCodes.Status404NotFound,
            $"Unknown model '{Truncate(model)}'; configured for release: {(_models.Count == 0 ? "none" : string.Join(", ", _models))}.");
    }

    /// <summary>The fields of an action's body.</summary>
    internal readonly record struct ActionBody(string? Version, string? Actor, string? Reason);

    /// <summary>Reads and checks an action's body: JSON (<c>application/json</c>), at most the configured size, an object with only the known string fields.</summary>
    private async Task<ActionBody> ReadBodyAsync(HttpContext context, bool isStart)
    {
        var max = _options.MaxRequestBodyBytes;
        var request = context.Request;
        if (request.ContentLength > max)
        {
            throw new ApiProblem(StatusCodes.Status413PayloadTooLarge, $"The request body is {request.ContentLength} bytes; at most {max} are accepted ({RolloutApiOptions.SectionName}:{nameof(RolloutApiOptions.MaxRequestBodyBytes)}).");
        }

        if (!IsJson(request.ContentType))
        {
            throw new ApiProblem(StatusCodes.Status415UnsupportedMediaType,
                $"Expected Content-Type application/json (UTF-8); got '{Truncate(request.ContentType ?? "none")}'.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit && (limit.MaxRequestBodySize is null || limit.MaxRequestBodySize > max))
        {
            limit.MaxRequestBodySize = max;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(max + 1);
        try
        {
            var length = 0;
            try
            {
                while (length <= max)
                {
                    var read = await request.Body.ReadAsync(buffer.AsMemory(length, max + 1 - length), context.RequestAborted).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                length = max + 1; // the server's limit (set to ours above) stopped the read
            }

            if (length > max)
            {
                throw new ApiProblem(StatusCodes.Status413PayloadTooLarge, $"The request body passes {max} bytes, the most accepted ({RolloutApiOptions.SectionName}:{nameof(RolloutApiOptions.MaxRequestBodyBytes)}).");
            }

            return ParseBody(buffer.AsSpan(0, length), isStart);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses an action body strictly: one JSON object; <c>version</c> (start only), <c>actor</c>, <c>reason</c>; strings; no duplicates; nothing else.</summary>
    internal static ActionBody ParseBody(ReadOnlySpan<byte> json, bool isStart)
    {
        var expected = isStart
            ? "a JSON object {\"version\": \"2\", \"actor\"?: \"…\", \"reason\"?: \"…\"}"
            : "a JSON object {\"reason\": \"…\", \"actor\"?: \"…\"}";
        if (json.IsEmpty)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, $"The request body is empty; expected {expected}.");
        }

        string? version = null, actor = null, reason = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 2, CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ApiProblem(StatusCodes.Status400BadRequest, $"The request body is not a JSON object; expected {expected}.");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                if (!seen.Add(name))
                {
                    throw new ApiProblem(StatusCodes.Status400BadRequest, $"The property '{Truncate(name)}' appears twice in the request body; expected {expected}.");
                }

                if (name is not ("actor" or "reason") && !(isStart && name == "version"))
                {
                    throw new ApiProblem(StatusCodes.Status400BadRequest, $"Unknown property '{Truncate(name)}' in the request body; expected {expected}.");
                }

                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue; // the same as leaving it out
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new ApiProblem(StatusCodes.Status400BadRequest, $"Expected '{name}' to be a string; got {Describe(reader.TokenType)}.");
                }

                var value = reader.GetString()!;
                switch (name)
                {
                    case "version":
                        version = value;
                        break;
                    case "actor":
                        actor = Text(name, value, MaxActorLength, allowLineBreaks: false);
                        break;
                    default:
                        reason = Text(name, value, MaxReasonLength, allowLineBreaks: true);
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                throw new ApiProblem(StatusCodes.Status400BadRequest, $"The request body has more than one JSON value; expected {expected}.");
            }
        }
        catch (JsonException e)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, $"The request body is not valid JSON ({e.Message}); expected {expected}.");
        }

        if (isStart)
        {
            if (version is null)
            {
                throw new ApiProblem(StatusCodes.Status400BadRequest, $"Expected 'version', the version to roll out; expected {expected}.");
            }

            if (!ModelVersion.IsValid(version, out var error))
            {
                throw new ApiProblem(StatusCodes.Status400BadRequest, $"'version' is '{Truncate(version)}': {error}");
            }
        }
        else if (reason is null)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, $"Expected 'reason' (why, recorded in the rollout history); expected {expected}.");
        }

        return new ActionBody(version, actor, reason);
    }

    /// <summary>A name or reason as recorded: trimmed, not blank, not too long, no control characters (a log line stays one line).</summary>
    private static string Text(string name, string value, int maxLength, bool allowLineBreaks)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, $"Expected '{name}' to be a non-blank text.");
        }

        if (trimmed.Length > maxLength)
        {
            throw new ApiProblem(StatusCodes.Status400BadRequest, $"'{name}' has {trimmed.Length} characters; at most {maxLength} are accepted.");
        }

        foreach (var c in trimmed)
        {
            if (char.IsControl(c) && !(allowLineBreaks && c is '\n' or '\t'))
            {
                throw new ApiProblem(StatusCodes.Status400BadRequest,
                    string.Create(CultureInfo.InvariantCulture, $"'{name}' contains the control character U+{(int)c:X4}; expected printable text{(allowLineBreaks ? " (line breaks and tabs allowed)" : string.Empty)}."));
            }
        }

        return trimmed;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };

    private static bool IsJson(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        if (!media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var charset = media.Charset;
        return !charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Runs a handler: the guard first, then the handler; failures become problem+json answers with a specific status.</summary>
    private async Task RunAsync(HttpContext context, Func<Task> handler)
    {
        try
        {
            if (Guard(context) is { } refused)
            {
                throw new ApiProblem(StatusCodes.Status403Forbidden, refused);
            }

            await handler().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception e)
        {
            var (status, detail) = Classify(e);
            if (status >= 500)
            {
                LogFailed(_logger, e, context.Request.Method, context.Request.Path.Value ?? string.Empty);
            }

            if (status == StatusCodes.Status413PayloadTooLarge || e is BadHttpRequestException)
            {
                context.Response.Headers.Connection = "close"; // the rest of the body is not read
            }

            if (!context.Response.HasStarted)
            {
                await WriteProblemAsync(context, status, detail).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Maps a failure to its status and the detail the caller sees.</summary>
    internal static (int Status, string Detail) Classify(Exception e) => e switch
    {
        ApiProblem p => (p.Status, p.Message),
        BadHttpRequestException bad => (bad.StatusCode, bad.Message),
        ModelNotFoundException => (StatusCodes.Status404NotFound, e.Message),
        ModelSignatureMismatchException => (StatusCodes.Status409Conflict, e.Message),
        InvalidOperationException => (StatusCodes.Status409Conflict, e.Message),
        ArgumentException => (StatusCodes.Status409Conflict, e.Message),
        IOException or TimeoutException => (StatusCodes.Status503ServiceUnavailable, $"The rollout state store could not be reached: {e.Message}"),
        OperationCanceledException => (StatusCodes.Status503ServiceUnavailable, "The call was cancelled before it completed."),
        _ when e.GetType().FullName?.StartsWith("StackExchange.Redis.", StringComparison.Ordinal) == true =>
            (StatusCodes.Status503ServiceUnavailable, $"The rollout state store could not be reached: {e.Message}"),
        _ => (StatusCodes.Status500InternalServerError, "The server failed the request; see its log."),
    };

    private static Task WriteStateAsync(HttpContext context, RolloutState state) =>
        WriteJsonAsync(context, StatusCodes.Status200OK, JsonSerializer.SerializeToNode(state, s_json)!);

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonNode node, string contentType = "application/json; charset=utf-8")
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(node, s_json);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Writes an RFC 7807 / 9457 problem: type, title, status, detail, instance.</summary>
    internal static Task WriteProblemAsync(HttpContext context, int status, string detail) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["type"] = ProblemType(status),
            ["title"] = ReasonPhrases.GetReasonPhrase(status),
            ["status"] = status,
            ["detail"] = detail,
            ["instance"] = context.Request.Path.Value,
        }, "application/problem+json; charset=utf-8");

    private static string ProblemType(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    };

    internal static string Truncate(string s) => s.Length > 64 ? s[..64] + "…" : s;

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Rollout API: {Verb} on model '{Model}' by {Actor}.")]
    private static partial void LogAction(ILogger logger, string verb, string model, string actor);

    [LoggerMessage(EventId = 41, Level = LogLevel.Error, Message = "Rollout API request {Method} {Path} failed.")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string path);
}

/// <summary>A refusal with its HTTP status (becomes a problem+json answer).</summary>
internal sealed class ApiProblem(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
