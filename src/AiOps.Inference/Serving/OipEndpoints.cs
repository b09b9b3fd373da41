using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiOps.Inference.Serving;

/// <summary>The handlers of the REST endpoints (mapped by <c>MapOpenInferenceProtocol()</c>).</summary>
internal sealed partial class OipEndpoints
{
    /// <summary>The platform reported in model metadata.</summary>
    public const string Platform = "onnxruntime_onnx";

    /// <summary>The header the answering version is returned in when the version header is switched off.</summary>
    public const string DefaultVersionHeader = "x-aiops-version";

    internal const string UnknownModel = "unknown";

    private readonly IModelRunnerCatalog _catalog;
    private readonly ModelRepository _repository;
    private readonly IServedVersionResolver _versions;
    private readonly IServiceProvider _services;
    private readonly ServingMetrics _metrics;

    internal ServingMetrics Metrics => _metrics;
    private readonly IOptionsMonitor<OpenInferenceProtocolOptions> _options;
    private readonly ILogger _logger;

    public OipEndpoints(
        IModelRunnerCatalog catalog,
        ModelRepository repository,
        IServedVersionResolver versions,
        IServiceProvider services,
        ServingMetrics metrics,
        IOptionsMonitor<OpenInferenceProtocolOptions> options,
        ILogger<OipEndpoints> logger)
    {
        _catalog = catalog;
        _repository = repository;
        _versions = versions;
        _services = services;
        _metrics = metrics;
        _options = options;
        _logger = logger;
    }

    internal OpenInferenceProtocolOptions Options => _options.CurrentValue;

    public Task ServerMetadataAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", Options.ServerName);
            w.WriteString("version", typeof(OipEndpoints).Assembly.GetName().Version?.ToString() ?? "0");
            w.WriteStartArray("extensions");
            foreach (var e in Extensions())
            {
                w.WriteStringValue(e);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

    public static Task LiveAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("live", true);
            w.WriteEndObject();
        });

    /// <summary>Ready when at least one version serves and every version not unloaded on purpose serves; the spec answers false with a 4xx (400).</summary>
    public Task ServerReadyAsync(HttpContext context)
    {
        var (ready, error) = CheckServerReady();
        return WriteAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("ready", ready);
            if (error is not null)
            {
                w.WriteString("error", error);
            }

            w.WriteEndObject();
        });
    }

    /// <summary>Whether the server is ready, and why not.</summary>
    internal (bool Ready, string? Error) CheckServerReady()
    {
        var serving = 0;
        var notReady = new List<string>();
        foreach (var key in _catalog.Keys)
        {
            if (_repository.IsUnloaded(key))
            {
                continue; // taken out deliberately: it does not make the server unready
            }

            if (_catalog.TryGetRunner(key, out var runner) && runner.Status.IsServing)
            {
                serving++;
            }
            else
            {
                notReady.Add(key.ToString());
            }
        }

        return serving > 0 && notReady.Count == 0
            ? (true, null)
            : (false, notReady.Count > 0 ? $"Not ready: {string.Join(", ", notReady)}." : "No model version is serving.");
    }

    /// <summary>The extensions the server advertises.</summary>
    internal IEnumerable<string> Extensions()
    {
        yield return "binary_tensor_data";
        yield return "classification";
        if (Options.EnableModelRepository)
        {
            yield return "model_repository";
        }
    }

    public async Task ModelMetadataAsync(HttpContext context, string name, string? version)
    {
        var resolved = await ResolveAsync(name, version, context.RequestAborted).ConfigureAwait(false);
        if (resolved.Error is { } error)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, error).ConfigureAwait(false);
            return;
        }

        var (key, runner, versions) = (resolved.Key, resolved.Runner!, resolved.Versions);
        var metadata = runner.Metadata;
        await WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", key.Model.Value);
            w.WriteStartArray("versions");
            foreach (var v in version is null ? versions : [key.Version])
            {
                w.WriteStringValue(v.Value);
            }

            w.WriteEndArray();
            w.WriteString("platform", Platform);
            w.WriteStartArray("inputs");
            foreach (var spec in metadata.Inputs)
            {
                if (!IsCarriedState(key, spec.Name, input: true))
                {
                    WriteSpec(w, spec);
                }
            }

            w.WriteEndArray();
            w.WriteStartArray("outputs");
            foreach (var spec in metadata.Outputs)
            {
                if (!IsCarriedState(key, spec.Name, input: false))
                {
                    WriteSpec(w, spec);
                }
            }

            w.WriteEndArray();
            w.WriteStartObject("parameters");
            w.WriteString("served_version", key.Version.Value);
            w.WriteEndObject();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>A model (unversioned) is ready when its served version is; a version when it serves. Not ready is 400 (the spec's 4xx).</summary>
    public async Task ModelReadyAsync(HttpContext context, string name, string? version)
    {
        var resolved = await ResolveAsync(name, version, context.RequestAborted).ConfigureAwait(false);
        if (resolved.Error is { } error)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, error).ConfigureAwait(false);
            return;
        }

        var status = resolved.Runner!.Status;
        var ready = status.IsServing;
        await WriteAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", resolved.Key.Model.Value);
            w.WriteString("version", resolved.Key.Version.Value);
            w.WriteBoolean("ready", ready);
            if (!ready)
            {
                w.WriteString("error", status.Reason ?? status.Readiness.ToString());
            }

            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public async Task InferAsync(HttpContext context, string name, string? version)
    {
        var start = _metrics.Start();
        var modelTag = UnknownModel;
        var outcome = "ok";
        byte[]? rented = null;
        try
        {
            var options = Options;
            var headers = context.Request.Headers;
            var pinned = version;
            if (pinned is null && !string.IsNullOrWhiteSpace(options.VersionHeader)
                && headers.TryGetValue(options.VersionHeader, out var h) && !string.IsNullOrWhiteSpace(h))
            {
                pinned = h.ToString();
            }

            if (!TryFindModel(name, out var model, out var versions, out var notFound))
            {
                throw new OipRequestException(StatusCodes.Status404NotFound, notFound);
            }

            modelTag = model.Value;
            if (pinned is not null && !(ModelVersion.IsValid(pinned, out _) && versions.Contains(new ModelVersion(pinned))))
            {
                throw new OipRequestException(StatusCodes.Status404NotFound, $"Unknown version '{Truncate(pinned)}' of model '{model}'; served: {string.Join(", ", versions)}.");
            }

            var limits = LimitsOf(model, versions, options);
            int length;
            (rented, length) = await ReadBodyAsync(context, options.MaxRequestBodyBytes).ConfigureAwait(false);
            var headerLength = HeaderLength(context, length);
            using var document = Parse(rented.AsMemory(0, headerLength), options.MaxNestingDepth);
            var request = OipCodec.ParseRequest(document.RootElement, rented.AsMemory(headerLength, length - headerLength), limits, model.Value);
            var routingKey = headers.TryGetValue(options.RoutingKeyHeader, out var rk) && !string.IsNullOrEmpty(rk) ? rk.ToString() : null;
            var modelRequest = new ModelRequest(request.Inputs)
            {
                RequestId = request.IdText,
                // A sequence's calls route together (the version holding its state), unless the host names a key.
                RoutingKey = routingKey ?? request.Sequence.Id ?? request.IdText,
                PinnedVersion = pinned is null ? (ModelVersion?)null : new ModelVersion(pinned),
                SequenceId = request.Sequence.Id,
                SequenceStart = request.Sequence.Start,
                SequenceEnd = request.Sequence.End,
            };

            var response = await RunAsync(model, modelRequest, context.RequestAborted).ConfigureAwait(false);
            var json = new ArrayBufferWriter<byte>(512);
            var binary = new ArrayBufferWriter<byte>();
            var anyBinary = OipCodec.WriteResponse(json, binary, response, request);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers[string.IsNullOrWhiteSpace(options.VersionHeader) ? DefaultVersionHeader : options.VersionHeader] = response.Key.Version.Value;
            if (anyBinary)
            {
                context.Response.ContentType = "application/octet-stream";
                context.Response.Headers[OipCodec.HeaderContentLength] = json.WrittenCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.Response.ContentLength = json.WrittenCount + binary.WrittenCount;
                await context.Response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.WriteAsync(binary.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
            }
            else
            {
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = json.WrittenCount;
                await context.Response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            outcome = "cancelled"; // the client went away: nobody to answer
        }
        catch (Exception e)
        {
            var (status, kind, message) = Classify(e);
            outcome = kind;
            if (status >= 500 && kind == "error")
            {
                LogInferFailed(_logger, e, modelTag);
            }

            if (e is BadHttpRequestException || status == StatusCodes.Status413PayloadTooLarge)
            {
                // The rest of the body is not read; ask Kestrel to close the connection after the answer.
                context.Response.Headers.Connection = "close";
            }

            if (!context.Response.HasStarted)
            {
                await WriteErrorAsync(context, status, message).ConfigureAwait(false);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            _metrics.Record(start, modelTag, "rest", outcome);
        }
    }

    public async Task RepositoryIndexAsync(HttpContext context)
    {
        var readyOnly = false;
        if (context.Request.ContentLength is not 0 && (context.Request.ContentLength is not null || context.Request.Headers.TransferEncoding.Count > 0))
        {
            try
            {
                var (rented, length) = await ReadBodyAsync(context, 64 * 1024).ConfigureAwait(false);
                try
                {
                    if (length > 0)
                    {
                        using var document = Parse(rented.AsMemory(0, length), 4);
                        if (document.RootElement.ValueKind != JsonValueKind.Object)
                        {
                            throw new OipRequestException(400, "Expected the index request body to be a JSON object (e.g. {\"ready\": true}).");
                        }

                        if (document.RootElement.TryGetProperty("ready", out var r))
                        {
                            readyOnly = r.ValueKind switch
                            {
                                JsonValueKind.True => true,
                                JsonValueKind.False => false,
                                _ => throw new OipRequestException(400, "Expected 'ready' to be true or false."),
                            };
                        }
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
            catch (Exception e) when (Classify(e) is { Status: < 500 } c)
            {
                await WriteErrorAsync(context, c.Status, c.Message).ConfigureAwait(false);
                return;
            }
        }

        await WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartArray();
            foreach (var key in _catalog.Keys)
            {
                var status = _catalog.TryGetRunner(key, out var runner) ? runner.Status : new ModelRunnerStatus(ModelReadiness.Failed, null, "Not found.");
                if (readyOnly && !status.IsServing)
                {
                    continue;
                }

                w.WriteStartObject();
                w.WriteString("name", key.Model.Value);
                w.WriteString("version", key.Version.Value);
                w.WriteString("state", status.IsServing ? "READY" : status.Readiness == ModelReadiness.NotReady ? "UNAVAILABLE" : "FAILED");
                w.WriteString("reason", status.Reason ?? string.Empty);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    public async Task RepositoryActionAsync(HttpContext context, string name, bool load)
    {
        try
        {
            if (!ModelId.IsValid(name, out _))
            {
                throw new ModelNotFoundException($"Unknown model '{Truncate(name)}'; served: {string.Join(", ", _repository.Models)}.");
            }

            var versions = load
                ? await _repository.LoadAsync(new ModelId(name), context.RequestAborted).ConfigureAwait(false)
                : _repository.Unload(new ModelId(name));
            await WriteAsync(context, StatusCodes.Status200OK, w =>
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteStartArray(load ? "loaded" : "unloaded");
                foreach (var v in versions)
                {
                    w.WriteStringValue(v.Value);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }).ConfigureAwait(false);
        }
        catch (ModelNotFoundException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, e.Message).ConfigureAwait(false);
        }
        catch (ModelSignatureMismatchException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status409Conflict, e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ModelLoadException or ExecutionProviderUnavailableException)
        {
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>The answer to a path under <c>/v2</c> that no endpoint takes: 405 with <c>Allow</c> when the path is known for other methods, else 404.</summary>
    public Task UnmatchedAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        var allowed = AllowedMethods(path, Options.EnableModelRepository);
        if (allowed is not null)
        {
            context.Response.Headers.Allow = allowed;
            return WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, $"{context.Request.Method} is not allowed on {Truncate(path)}; allowed: {allowed}.");
        }

        return WriteErrorAsync(context, StatusCodes.Status404NotFound, $"No Open Inference Protocol endpoint at {Truncate(path)}.");
    }

    /// <summary>The methods the protocol takes on <paramref name="path"/>, or <see langword="null"/> when it is no endpoint.</summary>
    internal static string? AllowedMethods(string path, bool repository)
    {
        var segments = path.Trim('/').Split('/');
        if (segments.Length == 0 || segments[0] != "v2")
        {
            return null;
        }

        return segments switch
        {
            ["v2"] => "GET",
            ["v2", "health", "live" or "ready"] => "GET",
            ["v2", "models", _] => "GET",
            ["v2", "models", _, "ready"] => "GET",
            ["v2", "models", _, "infer"] => "POST",
            ["v2", "models", _, "versions", _] => "GET",
            ["v2", "models", _, "versions", _, "ready"] => "GET",
            ["v2", "models", _, "versions", _, "infer"] => "POST",
            ["v2", "repository", "index"] when repository => "POST",
            ["v2", "repository", "models", _, "load" or "unload"] when repository => "POST",
            _ => null,
        };
    }

    /// <summary>Maps a failure to its status, outcome tag and message.</summary>
    internal static (int Status, string Outcome, string Message) Classify(Exception e)
    {
        switch (e)
        {
            case OipRequestException r:
                return (r.Status, r.Status == StatusCodes.Status413PayloadTooLarge ? "too_large" : r.Status == StatusCodes.Status404NotFound ? "not_found" : "bad_input", r.Message);
            case ModelInputException or JsonException:
                return (StatusCodes.Status400BadRequest, "bad_input", e is JsonException ? $"The request body is not valid JSON: {e.Message}" : e.Message);
            case ModelNotFoundException:
                return (StatusCodes.Status404NotFound, "not_found", e.Message);
            case ModelRejectedException:
                return (StatusCodes.Status429TooManyRequests, "rejected", e.Message);
            case ModelNotReadyException:
                return (StatusCodes.Status503ServiceUnavailable, "not_ready", e.Message);
            case BadHttpRequestException bad:
                return (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "too_large" : "bad_input", bad.Message);
            case ModelExecutionException:
                return (StatusCodes.Status500InternalServerError, "error", e.Message);
            default:
                break;
        }

        // The resilience pipeline of AiOps.Release (Polly) is not referenced here: its rejections are known by name.
        for (var t = e.GetType(); t is not null; t = t.BaseType)
        {
            switch (t.FullName)
            {
                case "Polly.Timeout.TimeoutRejectedException":
                    return (StatusCodes.Status504GatewayTimeout, "timeout", e.Message);
                case "Polly.CircuitBreaker.BrokenCircuitException":
                    return (StatusCodes.Status503ServiceUnavailable, "not_ready", e.Message);
                default:
                    break;
            }
        }

        return e is OperationCanceledException
            ? (StatusCodes.Status504GatewayTimeout, "timeout", "The call was cancelled before it completed (timed out).")
            : (StatusCodes.Status500InternalServerError, "error", "The server failed the request; see its log.");
    }

    internal async ValueTask<ModelResponse> RunAsync(ModelId model, ModelRequest request, CancellationToken cancellationToken)
    {
        if (_services.GetKeyedService<IModelClient>(model.Value) is { } client)
        {
            return await client.InferAsync(request, cancellationToken).ConfigureAwait(false);
        }

        // No router (AiOps.Release not used): the pinned version, else the served one.
        var version = request.PinnedVersion ?? await _versions.ResolveAsync(model, cancellationToken).ConfigureAwait(false)
            ?? throw new ModelNotFoundException($"Model '{model}' has no version loaded.");
        var key = new ModelKey(model, version);
        return _catalog.TryGetRunner(key, out var runner)
            ? await runner.RunAsync(request, cancellationToken).ConfigureAwait(false)
            : throw new ModelNotFoundException($"Model version {key} is not loaded.") { Key = key };
    }

    /// <summary>
    /// Whether a tensor of a stateful model is a state the runner carries between a sequence's calls (an input the
    /// client leaves out, an output the response leaves out): metadata does not list it.
    /// </summary>
    internal bool IsCarriedState(ModelKey key, string name, bool input) =>
        _repository.GetOnnxRunner(key) is { } onnx && (input ? onnx.IsCarriedStateInput(name) : onnx.IsHiddenStateOutput(name));

    /// <summary>The limits of a request to <paramref name="model"/>: inputs and outputs capped at the most any of its versions declares.</summary>
    internal OipLimits LimitsOf(ModelId model, IReadOnlyList<ModelVersion> versions, OpenInferenceProtocolOptions options)
    {
        int inputs = 0, outputs = 0;
        foreach (var v in versions)
        {
            if (_catalog.TryGetRunner(new ModelKey(model, v), out var runner))
            {
                var metadata = runner.Metadata;
                inputs = Math.Max(inputs, metadata.Inputs.Count);
                outputs = Math.Max(outputs, metadata.Outputs.Count);
            }
        }

        // A version not loaded yet declares nothing: the options' cap applies (the runner refuses the call anyway).
        var maxInputs = inputs > 0 ? Math.Min(inputs, options.MaxInputs) : options.MaxInputs;
        var maxOutputs = outputs > 0 ? outputs : options.MaxInputs;
        return new OipLimits(maxInputs, maxOutputs, options.MaxElements, options.MaxNestingDepth);
    }

    internal bool TryFindModel(string name, out ModelId model, out IReadOnlyList<ModelVersion> versions, out string error)
    {
        model = default;
        versions = [];
        error = string.Empty;
        if (ModelId.IsValid(name, out _))
        {
            model = new ModelId(name);
            versions = _repository.VersionsOf(model);
            if (versions.Count > 0)
            {
                return true;
            }
        }

        error = $"Unknown model '{Truncate(name)}'; served: {string.Join(", ", _repository.Models)}.";
        return false;
    }

    /// <summary>Finds the version a metadata or readiness request is about: the named one, or the served (stable) one.</summary>
    internal async ValueTask<(ModelKey Key, IModelRunner? Runner, IReadOnlyList<ModelVersion> Versions, string? Error)> ResolveAsync(string name, string? version, CancellationToken cancellationToken)
    {
        if (!TryFindModel(name, out var model, out var versions, out var error))
        {
            return (default, null, [], error);
        }

        ModelVersion chosen;
        if (version is null)
        {
            chosen = await _versions.ResolveAsync(model, cancellationToken).ConfigureAwait(false) ?? versions[^1];
        }
        else if (ModelVersion.IsValid(version, out _) && versions.Contains(new ModelVersion(version)))
        {
            chosen = new ModelVersion(version);
        }
        else
        {
            return (default, null, versions, $"Unknown version '{Truncate(version)}' of model '{model}'; served: {string.Join(", ", versions)}.");
        }

        var key = new ModelKey(model, chosen);
        return _catalog.TryGetRunner(key, out var runner)
            ? (key, runner, versions, null)
            : (key, null, versions, $"Model version {key} is not loaded.");
    }

    /// <summary>Reads the whole body into a pooled buffer, refusing more than <paramref name="max"/> bytes (413) before reading past it.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext context, long max)
    {
        var declared = context.Request.ContentLength;
        if (declared > max)
        {
            throw new OipRequestException(StatusCodes.Status413PayloadTooLarge, $"The request body is {declared} bytes; at most {max} are accepted (AiOps:Serving:MaxRequestBodyBytes).");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit && (limit.MaxRequestBodySize is null || limit.MaxRequestBodySize > max))
        {
            limit.MaxRequestBodySize = max;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(declared ?? 16 * 1024, max) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, max + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
                if (length > max)
                {
                    throw new OipRequestException(StatusCodes.Status413PayloadTooLarge, $"The request body passes {max} bytes, the most accepted (AiOps:Serving:MaxRequestBodyBytes).");
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The JSON header's length: the binary extension's header, or the whole body.</summary>
    private static int HeaderLength(HttpContext context, int bodyLength)
    {
        if (!context.Request.Headers.TryGetValue(OipCodec.HeaderContentLength, out var value))
        {
            return bodyLength;
        }

        if (!int.TryParse(value.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length) || length > bodyLength)
        {
            throw new OipRequestException(400, $"{OipCodec.HeaderContentLength} is '{Truncate(value.ToString())}'; expected the JSON header's length in bytes, at most the body's {bodyLength}.");
        }

        return length;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> json, int maxNestingDepth)
    {
        try
        {
            // Root object, inputs array, tensor object, data array, then one level per nested dimension.
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxNestingDepth + 4 });
        }
        catch (JsonException e)
        {
            throw new OipRequestException(400, $"The request body is not valid JSON, or nests deeper than {maxNestingDepth} levels of data (AiOps:Serving:MaxNestingDepth): {e.Message}");
        }
    }

    private static void WriteSpec(Utf8JsonWriter writer, TensorSpec spec)
    {
        writer.WriteStartObject();
        writer.WriteString("name", spec.Name);
        writer.WriteString("datatype", OipDatatypes.NameOf(spec.ElementType));
        writer.WriteStartArray("shape");
        foreach (var d in spec.Dimensions)
        {
            writer.WriteNumberValue(d < 0 ? -1 : d);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    internal static string Truncate(string s) => s.Length > 64 ? s[..64] + "…" : s;

    internal static Task WriteErrorAsync(HttpContext context, int status, string message) =>
        WriteAsync(context, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });

    private static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Inference request to model '{Model}' failed.")]
    private static partial void LogInferFailed(ILogger logger, Exception exception, string model);
}
