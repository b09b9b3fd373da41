using System.Text.Json;
using AiOps.Samples.InferenceHost.Repository;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace AiOps.Samples.InferenceHost.Oip;

/// <summary>
/// The Open Inference Protocol (KServe / Triton "v2") HTTP endpoints: health, server and model metadata, model
/// readiness, inference, and (optionally) the repository load/unload extension.
/// </summary>
public static class OipEndpoints
{
    /// <summary>The platform reported in model metadata.</summary>
    public const string Platform = "onnxruntime_onnx";

    /// <summary>The server name reported by <c>GET /v2</c>.</summary>
    public const string ServerName = "aiops-inference-host";

    /// <summary>Maps every endpoint of the protocol.</summary>
    /// <param name="app">The application.</param>
    /// <param name="options">The host settings.</param>
    /// <returns>The application.</returns>
    public static IEndpointRouteBuilder MapOpenInferenceProtocol(this IEndpointRouteBuilder app, InferenceHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        app.MapGet("/v2", ServerMetadataAsync);
        app.MapGet("/v2/health/live", LiveAsync);
        app.MapGet("/v2/health/ready", ServerReadyAsync);
        app.MapGet("/v2/models/{name}", (HttpContext c, string name) => ModelMetadataAsync(c, name, null));
        app.MapGet("/v2/models/{name}/versions/{version}", (HttpContext c, string name, string version) => ModelMetadataAsync(c, name, version));
        app.MapGet("/v2/models/{name}/ready", (HttpContext c, string name) => ModelReadyAsync(c, name, null));
        app.MapGet("/v2/models/{name}/versions/{version}/ready", (HttpContext c, string name, string version) => ModelReadyAsync(c, name, version));
        app.MapPost("/v2/models/{name}/infer", (HttpContext c, string name) => InferAsync(c, name, null, options));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (HttpContext c, string name, string version) => InferAsync(c, name, version, options));
        if (options.EnableRepositoryApi)
        {
            app.MapPost("/v2/repository/index", RepositoryIndexAsync);
            app.MapPost("/v2/repository/models/{name}/load", (HttpContext c, string name) => RepositoryActionAsync(c, name, load: true));
            app.MapPost("/v2/repository/models/{name}/unload", (HttpContext c, string name) => RepositoryActionAsync(c, name, load: false));
        }

        return app;
    }

    /// <summary>Maps a failure to its HTTP status: 400 bad input, 404 unknown model or version, 429 queue full, 503 not ready or circuit open, 504 timed out, and the status Kestrel gives a bad request (e.g. 413 for a body over the limit).</summary>
    /// <param name="exception">The failure.</param>
    /// <param name="status">The status.</param>
    /// <returns>Whether the failure is one the protocol answers (others are server errors).</returns>
    public static bool TryMapFailure(Exception exception, out int status)
    {
        status = exception switch
        {
            ModelInputException or JsonException => StatusCodes.Status400BadRequest,
            ModelNotFoundException => StatusCodes.Status404NotFound,
            ModelRejectedException => StatusCodes.Status429TooManyRequests,
            ModelNotReadyException or BrokenCircuitException => StatusCodes.Status503ServiceUnavailable,
            TimeoutRejectedException => StatusCodes.Status504GatewayTimeout,
            ModelExecutionException => StatusCodes.Status500InternalServerError, // answered as JSON naming the version
            BadHttpRequestException bad => bad.StatusCode,
            _ => 0,
        };
        return status != 0;
    }

    private static Task ServerMetadataAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", ServerName);
            w.WriteString("version", typeof(OipEndpoints).Assembly.GetName().Version?.ToString() ?? "0");
            w.WriteStartArray("extensions");
            w.WriteStringValue("model_repository");
            w.WriteEndArray();
            w.WriteEndObject();
        });

    private static Task LiveAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("live", true);
            w.WriteEndObject();
        });

    private static Task ServerReadyAsync(HttpContext context)
    {
        var repository = context.RequestServices.GetRequiredService<ModelRepository>();
        var catalog = context.RequestServices.GetRequiredService<IModelRunnerCatalog>();
        var serving = 0;
        var notReady = new List<string>();
        foreach (var key in catalog.Keys)
        {
            if (repository.IsUnloaded(key))
            {
                continue; // taken out deliberately: it does not make the server unready
            }

            if (catalog.TryGetRunner(key, out var runner) && runner.Status.IsServing)
            {
                serving++;
            }
            else
            {
                notReady.Add(key.ToString());
            }
        }

        var ready = serving > 0 && notReady.Count == 0;
        return WriteAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("ready", ready);
            if (!ready)
            {
                w.WriteString("error", notReady.Count > 0 ? $"Not ready: {string.Join(", ", notReady)}." : "No model version is serving.");
            }

            w.WriteEndObject();
        });
    }

    private static Task ModelMetadataAsync(HttpContext context, string name, string? version)
    {
        if (!TryResolve(context, name, version, out var key, out var runner, out var versions, out var error))
        {
            return WriteErrorAsync(context, StatusCodes.Status404NotFound, error);
        }

        var metadata = runner.Metadata;
        return WriteAsync(context, StatusCodes.Status200OK, w =>
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
                OipCodec.WriteSpec(w, spec);
            }

            w.WriteEndArray();
            w.WriteStartArray("outputs");
            foreach (var spec in metadata.Outputs)
            {
                OipCodec.WriteSpec(w, spec);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static Task ModelReadyAsync(HttpContext context, string name, string? version)
    {
        if (!TryResolve(context, name, version, out var key, out var runner, out var versions, out var error))
        {
            return WriteErrorAsync(context, StatusCodes.Status404NotFound, error);
        }

        var catalog = context.RequestServices.GetRequiredService<IModelRunnerCatalog>();

        // A model is ready when any of its versions serves (requests without a version can be answered); a version when it serves.
        var status = runner.Status;
        var ready = version is null
            ? versions.Any(v => catalog.TryGetRunner(new ModelKey(key.Model, v), out var r) && r.Status.IsServing)
            : status.IsServing;
        return WriteAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", key.Model.Value);
            if (version is not null)
            {
                w.WriteString("version", key.Version.Value);
            }

            w.WriteBoolean("ready", ready);
            if (!ready)
            {
                w.WriteString("error", status.Reason ?? status.Readiness.ToString());
            }

            w.WriteEndObject();
        });
    }

    private static async Task InferAsync(HttpContext context, string name, string? version, InferenceHostOptions options)
    {
        var headers = context.Request.Headers;
        var pinned = version ?? (headers.TryGetValue(options.VersionHeader, out var h) && !string.IsNullOrWhiteSpace(h) ? h.ToString() : null);
        if (!TryResolve(context, name, pinned, out var key, out _, out _, out var error))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, error).ConfigureAwait(false);
            return;
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
            var routingKey = headers.TryGetValue(options.RoutingKeyHeader, out var rk) && !string.IsNullOrEmpty(rk) ? rk.ToString() : null;
            var request = OipCodec.ParseRequest(document.RootElement, routingKey, pinned is null ? (ModelVersion?)null : key.Version);
            var requestedOutputs = OipCodec.ParseRequestedOutputs(document.RootElement);
            var client = context.RequestServices.GetRequiredKeyedService<IModelClient>(key.Model.Value);
            var response = await client.InferAsync(request, context.RequestAborted).ConfigureAwait(false);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
            await using (var writer = new Utf8JsonWriter(buffer))
            {
                OipCodec.WriteResponse(writer, response, request.RequestId, requestedOutputs);
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.Headers[options.VersionHeader] = response.Key.Version.Value;
            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception e) when (TryMapFailure(e, out var status))
        {
            if (e is BadHttpRequestException)
            {
                // The rest of the body is not read; ask Kestrel to close the connection after the answer.
                context.Response.Headers.Connection = "close";
            }

            await WriteErrorAsync(context, status, e.Message).ConfigureAwait(false);
        }
    }

    private static Task RepositoryIndexAsync(HttpContext context)
    {
        var catalog = context.RequestServices.GetRequiredService<IModelRunnerCatalog>();
        return WriteAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteStartArray();
            foreach (var key in catalog.Keys)
            {
                var status = catalog.TryGetRunner(key, out var runner) ? runner.Status : new ModelRunnerStatus(ModelReadiness.Failed, null, "Not found.");
                w.WriteStartObject();
                w.WriteString("name", key.Model.Value);
                w.WriteString("version", key.Version.Value);
                w.WriteString("state", status.IsServing ? "READY" : status.Readiness == ModelReadiness.NotReady ? "UNAVAILABLE" : "FAILED");
                w.WriteString("reason", status.Reason ?? string.Empty);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private static async Task RepositoryActionAsync(HttpContext context, string name, bool load)
    {
        var repository = context.RequestServices.GetRequiredService<ModelRepository>();
        try
        {
            if (!ModelId.IsValid(name, out var invalid))
            {
                throw new ModelNotFoundException(invalid!);
            }

            var versions = load
                ? await repository.LoadAsync(new ModelId(name), context.RequestAborted).ConfigureAwait(false)
                : repository.Unload(new ModelId(name));
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

    /// <summary>Finds the model version a request is about: the named one, or the model's newest when none is named.</summary>
    private static bool TryResolve(
        HttpContext context,
        string name,
        string? version,
        out ModelKey key,
        out IModelRunner runner,
        out IReadOnlyList<ModelVersion> versions,
        out string error)
    {
        key = default;
        runner = null!;
        versions = [];
        var repository = context.RequestServices.GetRequiredService<ModelRepository>();
        if (!ModelId.IsValid(name, out _) || repository.VersionsOf(new ModelId(name)) is not { Count: > 0 } found)
        {
            error = $"Unknown model '{name}'; served: {string.Join(", ", repository.Models)}.";
            return false;
        }

        versions = found;
        var model = new ModelId(name);
        ModelVersion chosen;
        if (version is null)
        {
            chosen = found[^1];
        }
        else if (ModelVersion.IsValid(version, out _) && found.Contains(new ModelVersion(version)))
        {
            chosen = new ModelVersion(version);
        }
        else
        {
            error = $"Unknown version '{version}' of model '{name}'; served: {string.Join(", ", found)}.";
            return false;
        }

        key = new ModelKey(model, chosen);
        var catalog = context.RequestServices.GetRequiredService<IModelRunnerCatalog>();
        if (!catalog.TryGetRunner(key, out var r))
        {
            error = $"Model version {key} is not loaded.";
            return false;
        }

        runner = r;
        error = string.Empty;
        return true;
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message) =>
        WriteAsync(context, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });

    private static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
