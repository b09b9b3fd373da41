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
        var body = default(RequestBody);
        var writing = false;
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

            if (!TryFindServed(name, options, out var served, out var notFound))
            {
                throw new OipRequestException(StatusCodes.Status404NotFound, notFound);
            }

            var model = served.Model;
            modelTag = model.Value;
            if (pinned is not null && !(ModelVersion.IsValid(pinned, out _) && served.Versions.Contains(new ModelVersion(pinned))))
            {
                throw new OipRequestException(StatusCodes.Status404NotFound, $"Unknown version '{Truncate(pinned)}' of model '{model}'; served: {string.Join(", ", served.Versions)}.");
            }

            body = await ReadBodyAsync(context, options.MaxRequestBodyBytes).ConfigureAwait(false);
            var request = OipCodec.ParseRequest(body.Memory, HeaderLength(context, body.Memory.Length), served.Limits, model.Value);
            body.Release(); // the tensors hold copies: the body's buffer goes back before the model runs
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

            var response = await RunAsync(served, modelRequest, context.RequestAborted).ConfigureAwait(false);
            var plans = OipCodec.Plan(response, request);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers[string.IsNullOrWhiteSpace(options.VersionHeader) ? DefaultVersionHeader : options.VersionHeader] = response.Key.Version.Value;
            if (OipCodec.AnyBinary(plans))
            {
                var json = new ArrayBufferWriter<byte>(512);
                var binary = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(json))
                {
                    OipCodec.WriteResponse(writer, binary, plans, response, request);
                }

                context.Response.ContentType = "application/octet-stream";
                context.Response.Headers[OipCodec.HeaderContentLength] = json.WrittenCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.Response.ContentLength = json.WrittenCount + binary.WrittenCount;
                await context.Response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.WriteAsync(binary.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
            }
            else
            {
                // Straight into the response's pipe: every check ran in Plan, so nothing fails half-way; the server sends
                // the headers and the answer in one write when the handler returns.
                context.Response.ContentType = "application/json";
                writing = true;
                var writer = RentWriter(context.Response.BodyWriter);
                try
                {
                    OipCodec.WriteResponse(writer, null, plans, response, request);
                }
                finally
                {
                    ReturnWriter(writer);
                }
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

            if (writing)
            {
                // Part of an answer may sit in the response pipe: no error body can follow it; drop the connection.
                context.Abort();
            }
            else
            {
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
        }
        finally
        {
            body.Release();
            _metrics.Record(start, modelTag, "rest", outcome);
        }
    }

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static readonly ArrayBufferWriter<byte> s_nowhere = new(1);

    /// <summary>This thread's JSON writer, pointed at <paramref name="output"/> (one writer per thread, no allocation per answer).</summary>
    private static Utf8JsonWriter RentWriter(IBufferWriter<byte> output)
    {
        var writer = t_writer;
        t_writer = null;
        if (writer is null)
        {
            return new Utf8JsonWriter(output);
        }

        writer.Reset(output);
        return writer;
    }

    private static void ReturnWriter(Utf8JsonWriter writer)
    {
        writer.Reset(s_nowhere); // holds no response's pipe between answers
        t_writer = writer;
    }

    public async Task RepositoryIndexAsync(HttpContext context)
    {
        var readyOnly = false;
        if (context.Request.ContentLength is not 0 && (context.Request.ContentLength is not null || context.Request.Headers.TransferEncoding.Count > 0))
        {
            try
            {
                var body = await ReadBodyAsync(context, 64 * 1024).ConfigureAwait(false);
                try
                {
                    if (body.Memory.Length > 0)
                    {
                        using var document = OipCodec.ParseDocument(body.Memory, 4);
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
                    body.Release();
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

    internal ValueTask<ModelResponse> RunAsync(ModelId model, ModelRequest request, CancellationToken cancellationToken) =>
        _services.GetKeyedService<IModelClient>(model.Value) is { } client
            ? client.InferAsync(request, cancellationToken)
            : RunOnRunnerAsync(model, request, cancellationToken);

    /// <summary>Runs through the model's keyed client, looked up once per model (the container does not change).</summary>
    private ValueTask<ModelResponse> RunAsync(ServedModel served, ModelRequest request, CancellationToken cancellationToken) =>
        served.Client is { } client
            ? client.InferAsync(request, cancellationToken)
            : RunOnRunnerAsync(served.Model, request, cancellationToken);

    /// <summary>No router (AiOps.Release not used): the pinned version, else the served one.</summary>
    private ValueTask<ModelResponse> RunOnRunnerAsync(ModelId model, ModelRequest request, CancellationToken cancellationToken)
    {
        if (request.PinnedVersion is { } pinned)
        {
            return RunOnRunnerAsync(new ModelKey(model, pinned), request, cancellationToken);
        }

        var resolving = _versions.ResolveAsync(model, cancellationToken);
        return resolving.IsCompletedSuccessfully
            ? RunOnRunnerAsync(Served(model, resolving.Result), request, cancellationToken)
            : AwaitResolvedAsync(model, resolving, request, cancellationToken);
    }

    private async ValueTask<ModelResponse> AwaitResolvedAsync(ModelId model, ValueTask<ModelVersion?> resolving, ModelRequest request, CancellationToken cancellationToken) =>
        await RunOnRunnerAsync(Served(model, await resolving.ConfigureAwait(false)), request, cancellationToken).ConfigureAwait(false);

    private static ModelKey Served(ModelId model, ModelVersion? version) =>
        new(model, version ?? throw new ModelNotFoundException($"Model '{model}' has no version loaded."));

    private ValueTask<ModelResponse> RunOnRunnerAsync(ModelKey key, ModelRequest request, CancellationToken cancellationToken) =>
        _catalog.TryGetRunner(key, out var runner)
            ? runner.RunAsync(request, cancellationToken)
            : ValueTask.FromException<ModelResponse>(new ModelNotFoundException($"Model version {key} is not loaded.") { Key = key });

    /// <summary>
    /// Whether a tensor of a stateful model is a state the runner carries between a sequence's calls (an input the
    /// client leaves out, an output the response leaves out): metadata does not list it.
    /// </summary>
    internal bool IsCarriedState(ModelKey key, string name, bool input) =>
        _repository.GetOnnxRunner(key) is { } onnx && (input ? onnx.IsCarriedStateInput(name) : onnx.IsHiddenStateOutput(name));

    /// <summary>The limits of a request to <paramref name="model"/>: inputs and outputs capped at the most any of its versions declares.</summary>
    internal OipLimits LimitsOf(ModelId model, IReadOnlyList<ModelVersion> versions, OpenInferenceProtocolOptions options) =>
        LimitsOf(model, versions, options, out _);

    private OipLimits LimitsOf(ModelId model, IReadOnlyList<ModelVersion> versions, OpenInferenceProtocolOptions options, out bool complete)
    {
        int inputs = 0, outputs = 0;
        complete = true;
        foreach (var v in versions)
        {
            if (_catalog.TryGetRunner(new ModelKey(model, v), out var runner))
            {
                var metadata = runner.Metadata;
                inputs = Math.Max(inputs, metadata.Inputs.Count);
                outputs = Math.Max(outputs, metadata.Outputs.Count);
            }
            else
            {
                complete = false;
            }
        }

        // A version not loaded yet declares nothing: the options' cap applies (the runner refuses the call anyway).
        var maxInputs = inputs > 0 ? Math.Min(inputs, options.MaxInputs) : options.MaxInputs;
        var maxOutputs = outputs > 0 ? outputs : options.MaxInputs;
        return new OipLimits(maxInputs, maxOutputs, options.MaxElements, options.MaxNestingDepth);
    }

    /// <summary>
    /// What an infer call needs of a model before its body is read, kept per model name: its versions, the request
    /// limits, its keyed client. Valid while the catalog hands out the same key collection, the options are the same
    /// instance and the repository has not loaded or unloaded since (<see cref="ModelRepository.Generation"/>); a model
    /// with a version whose runner is not there yet is not kept (its limits change when it comes). Only served models'
    /// names get an entry.
    /// </summary>
    private sealed class ServedModel(ModelId model, IReadOnlyList<ModelVersion> versions, OipLimits limits, IModelClient? client, object keys, OpenInferenceProtocolOptions options, int generation)
    {
        public ModelId Model { get; } = model;

        public IReadOnlyList<ModelVersion> Versions { get; } = versions;

        public OipLimits Limits { get; } = limits;

        public IModelClient? Client { get; } = client;

        public bool IsCurrent(object keys, OpenInferenceProtocolOptions options, int generation) =>
            ReferenceEquals(keys, _keys) && ReferenceEquals(options, _options) && generation == _generation;

        private readonly object _keys = keys;
        private readonly OpenInferenceProtocolOptions _options = options;
        private readonly int _generation = generation;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ServedModel> _served = new(StringComparer.Ordinal);

    private bool TryFindServed(string name, OpenInferenceProtocolOptions options, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ServedModel? served, out string error)
    {
        var keys = _catalog.Keys;
        var generation = _repository.Generation;
        if (_served.TryGetValue(name, out served) && served.IsCurrent(keys, options, generation))
        {
            error = string.Empty;
            return true;
        }

        if (!TryFindModel(name, out var model, out var versions, out error))
        {
            served = null;
            return false;
        }

        var limits = LimitsOf(model, versions, options, out var complete);
        served = new ServedModel(model, versions, limits, _services.GetKeyedService<IModelClient>(model.Value), keys, options, generation);
        if (complete)
        {
            _served[name] = served;
        }

        return true;
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

    /// <summary>
    /// A request body read whole: in place in the request pipe when it came complete in one contiguous read (the usual
    /// small request: no copy), else in a pooled buffer. <see cref="Release"/> hands it back (idempotent).
    /// </summary>
    private struct RequestBody
    {
        public ReadOnlyMemory<byte> Memory;
        public byte[]? Rented;
        public System.IO.Pipelines.PipeReader? Reader;
        public SequencePosition End;

        public void Release()
        {
            Memory = default;
            if (Rented is { } rented)
            {
                Rented = null;
                ArrayPool<byte>.Shared.Return(rented);
            }

            if (Reader is { } reader)
            {
                Reader = null;
                reader.AdvanceTo(End);
            }
        }
    }

    /// <summary>Reads the whole body, refusing more than <paramref name="max"/> bytes (413) before reading past it.</summary>
    private static async ValueTask<RequestBody> ReadBodyAsync(HttpContext context, long max)
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

        var pipe = context.Request.BodyReader;
        var result = await pipe.ReadAsync(context.RequestAborted).ConfigureAwait(false);
        var buffer = result.Buffer;
        if (buffer.Length > max)
        {
            pipe.AdvanceTo(buffer.End);
            throw TooLarge(max);
        }

        if (result.IsCompleted && buffer.IsSingleSegment)
        {
            return new RequestBody { Memory = buffer.First, Reader = pipe, End = buffer.End };
        }

        // Not whole yet: copy as it comes, consuming the pipe (a body left unconsumed in it would stall past the server's
        // request buffer).
        var rented = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(declared ?? 16 * 1024, buffer.Length), max) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length + buffer.Length > max)
                {
                    pipe.AdvanceTo(buffer.End);
                    throw TooLarge(max);
                }

                if (length + buffer.Length > rented.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)rented.Length * 2, length + buffer.Length), max + 1));
                    rented.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = bigger;
                }

                buffer.CopyTo(rented.AsSpan(length));
                length += (int)buffer.Length;
                pipe.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return new RequestBody { Memory = rented.AsMemory(0, length), Rented = rented };
                }

                result = await pipe.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                buffer = result.Buffer;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
    }

    private static OipRequestException TooLarge(long max) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body passes {max} bytes, the most accepted (AiOps:Serving:MaxRequestBodyBytes).");

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
