using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiOps.Inference.Serving.Grpc;

/// <summary>
/// The gRPC <c>inference.GRPCInferenceService</c> of the Open Inference Protocol over the same catalog, version policy,
/// limits and request-duration histogram (<c>protocol=grpc</c>) as the REST endpoints. Inputs come as typed contents or
/// as <c>raw_input_contents</c> (little-endian, one entry per input); outputs are answered as
/// <c>raw_output_contents</c>, as Triton does. Failures are gRPC statuses with the REST message (400 InvalidArgument,
/// 404 NotFound, 413 ResourceExhausted, 429 ResourceExhausted, 503 Unavailable, 504 DeadlineExceeded, 500 Internal).
/// </summary>
internal sealed partial class OipGrpcService(OipEndpoints endpoints, ILogger<OipGrpcService> logger) : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = endpoints.CheckServerReady().Ready });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var response = new ServerMetadataResponse
        {
            Name = endpoints.Options.ServerName,
            Version = typeof(OipGrpcService).Assembly.GetName().Version?.ToString() ?? "0",
        };
        response.Extensions.AddRange(endpoints.Extensions().Where(e => e != "binary_tensor_data" && e != "classification"));
        return Task.FromResult(response);
    }

    public override async Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        var resolved = await endpoints.ResolveAsync(request.Name, NullIfEmpty(request.Version), context.CancellationToken).ConfigureAwait(false);
        return resolved.Error is { } error
            ? throw new RpcException(new Status(StatusCode.NotFound, error))
            : new ModelReadyResponse { Ready = resolved.Runner!.Status.IsServing };
    }

    public override async Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var version = NullIfEmpty(request.Version);
        var resolved = await endpoints.ResolveAsync(request.Name, version, context.CancellationToken).ConfigureAwait(false);
        if (resolved.Error is { } error)
        {
            throw new RpcException(new Status(StatusCode.NotFound, error));
        }

        var response = new ModelMetadataResponse { Name = resolved.Key.Model.Value, Platform = OipEndpoints.Platform };
        response.Versions.AddRange(version is null ? resolved.Versions.Select(v => v.Value) : [resolved.Key.Version.Value]);
        var metadata = resolved.Runner!.Metadata;
        var key = resolved.Key;
        response.Inputs.AddRange(metadata.Inputs.Where(i => !endpoints.IsCarriedState(key, i.Name, input: true)).Select(Spec));
        response.Outputs.AddRange(metadata.Outputs.Where(o => !endpoints.IsCarriedState(key, o.Name, input: false)).Select(Spec));
        return response;
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var metrics = endpoints.Metrics;
        var start = metrics.Start();
        var modelTag = OipEndpoints.UnknownModel;
        var outcome = "ok";
        try
        {
            var options = endpoints.Options;
            if (!endpoints.TryFindModel(request.ModelName, out var model, out var versions, out var notFound))
            {
                throw new OipRequestException(StatusCodes.Status404NotFound, notFound);
            }

            modelTag = model.Value;
            var pinned = NullIfEmpty(request.ModelVersion);
            if (pinned is not null && !(ModelVersion.IsValid(pinned, out _) && versions.Contains(new ModelVersion(pinned))))
            {
                throw new OipRequestException(StatusCodes.Status404NotFound, $"Unknown version '{OipEndpoints.Truncate(pinned)}' of model '{model}'; served: {string.Join(", ", versions)}.");
            }

            var limits = endpoints.LimitsOf(model, versions, options);
            var inputs = ParseInputs(request, limits, model.Value);
            if (request.Outputs.Count > limits.MaxOutputs)
            {
                throw Bad($"The request asks for {request.Outputs.Count} outputs; the model has {limits.MaxOutputs}.");
            }

            var routingKey = context.RequestHeaders.GetValue(options.RoutingKeyHeader.ToLowerInvariant());
            var id = NullIfEmpty(request.Id);
            var sequence = ReadSequence(request.Parameters);
            var modelRequest = new ModelRequest(inputs)
            {
                RequestId = id,
                // A sequence's calls route together (the version holding its state), unless the host names a key.
                RoutingKey = string.IsNullOrEmpty(routingKey) ? sequence.Id ?? id : routingKey,
                PinnedVersion = pinned is null ? (ModelVersion?)null : new ModelVersion(pinned),
                SequenceId = sequence.Id,
                SequenceStart = sequence.Start,
                SequenceEnd = sequence.End,
            };

            var answer = await endpoints.RunAsync(model, modelRequest, context.CancellationToken).ConfigureAwait(false);
            return BuildResponse(answer, request);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            outcome = "cancelled";
            throw new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }
        catch (Exception e) when (e is not RpcException)
        {
            var (status, kind, message) = OipEndpoints.Classify(e);
            outcome = kind;
            if (status >= 500 && kind == "error")
            {
                LogInferFailed(logger, e, modelTag);
            }

            throw new RpcException(new Status(ToGrpc(status), message));
        }
        finally
        {
            metrics.Record(start, modelTag, "grpc", outcome);
        }
    }

    private static List<ModelTensor> ParseInputs(ModelInferRequest request, OipLimits limits, string model)
    {
        var count = request.Inputs.Count;
        if (count == 0)
        {
            throw Bad("Expected at least one tensor in 'inputs'.");
        }

        if (count > limits.MaxInputs)
        {
            throw Bad($"The request has {count} inputs; model '{model}' takes at most {limits.MaxInputs}.");
        }

        var raw = request.RawInputContents;
        if (raw.Count != 0 && raw.Count != count)
        {
            throw Bad($"The request has {raw.Count} raw_input_contents for {count} inputs; expected one per input, or none.");
        }

        var names = new HashSet<string>(count, StringComparer.Ordinal);
        var tensors = new List<ModelTensor>(count);
        long elements = 0;
        for (var i = 0; i < count; i++)
        {
            var input = request.Inputs[i];
            var name = input.Name;
            if (string.IsNullOrEmpty(name))
            {
                throw Bad($"Input {i} has no name.");
            }

            if (!names.Add(name))
            {
                throw Bad($"Input '{OipEndpoints.Truncate(name)}' is given twice; expected distinct input names.");
            }

            if (!OipDatatypes.TryGet(input.Datatype, out var datatype))
            {
                throw Bad($"Input '{OipEndpoints.Truncate(name)}' has datatype '{OipEndpoints.Truncate(input.Datatype)}'; expected one of {OipDatatypes.Names}.");
            }

            if (input.Shape.Count > limits.MaxNestingDepth)
            {
                throw Bad($"Input '{OipEndpoints.Truncate(name)}' has rank {input.Shape.Count}; at most {limits.MaxNestingDepth} dimensions are accepted.");
            }

            var shape = input.Shape.ToArray();
            long expected = 1;
            foreach (var dim in shape)
            {
                if (dim < 0)
                {
                    throw Bad($"Input '{OipEndpoints.Truncate(name)}' has shape entry {dim}; expected non-negative integers.");
                }

                expected = dim == 0 || expected <= limits.MaxElements / dim ? expected * dim : long.MaxValue;
            }

            if (expected > limits.MaxElements - elements)
            {
                throw new OipRequestException(StatusCodes.Status413PayloadTooLarge, $"Input '{OipEndpoints.Truncate(name)}' has shape {ModelTensor.FormatShape(shape)}: the request's inputs pass the limit of {limits.MaxElements} elements.");
            }

            elements += expected;
            if (raw.Count != 0)
            {
                var bytes = raw[i];
                if (datatype.FixedByteLength(expected) is { } takes && bytes.Length != takes)
                {
                    throw Bad($"Input '{OipEndpoints.Truncate(name)}' has {bytes.Length} bytes of raw_input_contents; shape {ModelTensor.FormatShape(shape)} of {datatype.Name} takes {takes}.");
                }

                tensors.Add(datatype.FromBytes(name, shape, (int)expected, bytes.Span));
            }
            else
            {
                tensors.Add(datatype.FromContents(name, shape, (int)expected, input.Contents ?? new InferTensorContents()));
            }
        }

        return tensors;
    }

    private static ModelInferResponse BuildResponse(ModelResponse answer, ModelInferRequest request)
    {
        var chosen = new List<ModelTensor>(answer.Outputs.Count);
        if (request.Outputs.Count == 0)
        {
            chosen.AddRange(answer.Outputs);
        }
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var asked in request.Outputs)
            {
                if (!names.Add(asked.Name))
                {
                    throw Bad($"Output '{OipEndpoints.Truncate(asked.Name)}' is asked for twice.");
                }

                chosen.Add(answer.Outputs.FirstOrDefault(o => string.Equals(o.Name, asked.Name, StringComparison.Ordinal))
                    ?? throw Bad($"Output '{OipEndpoints.Truncate(asked.Name)}' was requested; model {answer.Key} has: {string.Join(", ", answer.Outputs.Select(o => o.Name))}."));
            }
        }

        var response = new ModelInferResponse { ModelName = answer.Key.Model.Value, ModelVersion = answer.Key.Version.Value, Id = request.Id };
        foreach (var chosenOutput in chosen)
        {
            var output = OipDatatypes.ToWire(chosenOutput);
            if (!OipDatatypes.TryGet(output.ElementType, out var datatype))
            {
                throw new NotSupportedException($"Output '{output.Name}' has element type {output.ElementType}, which the protocol writer does not handle.");
            }

            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = datatype.Name };
            tensor.Shape.AddRange(output.Shape.ToArray());
            response.Outputs.Add(tensor);
            var bytes = new byte[datatype.ByteLength(output)];
            datatype.WriteBytes(output, bytes);
            response.RawOutputContents.Add(UnsafeByteOperations.UnsafeWrap(bytes));
        }

        return response;
    }

    /// <summary>The sequence parameters of a request, as Triton's clients send them (<c>sequence_id</c> as int64, uint64 or string).</summary>
    internal static OipSequence ReadSequence(Google.Protobuf.Collections.MapField<string, InferParameter> parameters)
    {
        string? id = null;
        if (parameters.TryGetValue("sequence_id", out var p))
        {
            id = p.ParameterChoiceCase switch
            {
                InferParameter.ParameterChoiceOneofCase.Uint64Param => OipSequence.NumberId(p.Uint64Param),
                InferParameter.ParameterChoiceOneofCase.Int64Param when p.Int64Param >= 0 => OipSequence.NumberId((ulong)p.Int64Param),
                InferParameter.ParameterChoiceOneofCase.StringParam => OipSequence.StringId(p.StringParam),
                _ => throw Bad($"Expected parameter 'sequence_id' to be an unsigned integer or a string of at most {OipSequence.MaxIdLength} characters; it is {p.ParameterChoiceCase}."),
            };
        }

        return new OipSequence(id, Flag(parameters, "sequence_start"), Flag(parameters, "sequence_end")).Validated();

        static bool Flag(Google.Protobuf.Collections.MapField<string, InferParameter> parameters, string name) =>
            parameters.TryGetValue(name, out var f) && (f.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.BoolParam
                ? f.BoolParam
                : throw Bad($"Expected parameter '{name}' to be a bool_param; it is {f.ParameterChoiceCase}."));
    }

    private static ModelMetadataResponse.Types.TensorMetadata Spec(TensorSpec spec)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = spec.Name, Datatype = OipDatatypes.NameOf(spec.ElementType) };
        tensor.Shape.AddRange(spec.Dimensions.Select(d => d < 0 ? -1 : d));
        return tensor;
    }

    private static StatusCode ToGrpc(int status) => status switch
    {
        StatusCodes.Status400BadRequest => StatusCode.InvalidArgument,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        StatusCodes.Status504GatewayTimeout => StatusCode.DeadlineExceeded,
        _ when status is >= 400 and < 500 => StatusCode.InvalidArgument,
        _ => StatusCode.Internal,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static OipRequestException Bad(string message) => new(StatusCodes.Status400BadRequest, message);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "gRPC inference request to model '{Model}' failed.")]
    private static partial void LogInferFailed(ILogger logger, Exception exception, string model);
}
