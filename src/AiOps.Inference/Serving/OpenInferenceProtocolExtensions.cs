using AiOps;
using AiOps.Inference.Internal;
using AiOps.Inference.Serving;
using AiOps.Inference.Serving.Grpc;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder
{
    /// <summary>Maps the Open Inference Protocol (KServe / Triton "v2") REST endpoints.</summary>
    public static class OpenInferenceProtocolEndpointRouteBuilderExtensions
    {
        /// <summary>
        /// Maps every REST endpoint of the Open Inference Protocol v2 under <c>/v2</c>: server live/ready/metadata, model
        /// metadata and readiness, infer (each unversioned and <c>/versions/{version}</c>), and, when
        /// <see cref="OpenInferenceProtocolOptions.EnableModelRepository"/> is set, the model repository extension
        /// (<c>POST /v2/repository/index</c>, <c>/v2/repository/models/{name}/load</c>, <c>/unload</c>). Any other path or
        /// method under <c>/v2</c> is answered with a JSON 404 or 405. Needs <c>services.AddOpenInferenceProtocol()</c>.
        /// </summary>
        /// <remarks>
        /// Version policy: an unversioned request is about the model's served version, the stable one (see
        /// <see cref="IServedVersionResolver"/>): unversioned metadata and readiness describe it, and an unversioned infer
        /// call goes through the model's keyed <see cref="IModelClient"/> (the canary router when AiOps.Release is used,
        /// which serves stable outside the canary's share) or, without one, straight to the served version.
        /// </remarks>
        /// <param name="endpoints">The application or a route group.</param>
        /// <returns>The <c>/v2</c> endpoint group: attach authorization, rate limiting or CORS to it.</returns>
        public static RouteGroupBuilder MapOpenInferenceProtocol(this IEndpointRouteBuilder endpoints)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            var handlers = endpoints.ServiceProvider.GetService<OipEndpoints>()
                ?? throw new InvalidOperationException("MapOpenInferenceProtocol() needs services.AddOpenInferenceProtocol() first.");
            var options = endpoints.ServiceProvider.GetRequiredService<IOptions<OpenInferenceProtocolOptions>>().Value;

            var group = endpoints.MapGroup("/v2");
            group.MapGet(string.Empty, handlers.ServerMetadataAsync);
            group.MapGet("/health/live", OipEndpoints.LiveAsync);
            group.MapGet("/health/ready", handlers.ServerReadyAsync);
            group.MapGet("/models/{name}", (HttpContext c, string name) => handlers.ModelMetadataAsync(c, name, null));
            group.MapGet("/models/{name}/versions/{version}", (HttpContext c, string name, string version) => handlers.ModelMetadataAsync(c, name, version));
            group.MapGet("/models/{name}/ready", (HttpContext c, string name) => handlers.ModelReadyAsync(c, name, null));
            group.MapGet("/models/{name}/versions/{version}/ready", (HttpContext c, string name, string version) => handlers.ModelReadyAsync(c, name, version));
            // The hot path as plain request delegates: the route values read directly, no parameter binding per call.
            group.MapPost("/models/{name}/infer", c => handlers.InferAsync(c, RouteValue(c, "name"), null));
            group.MapPost("/models/{name}/versions/{version}/infer", c => handlers.InferAsync(c, RouteValue(c, "name"), RouteValue(c, "version")));
            if (options.EnableModelRepository)
            {
                group.MapPost("/repository/index", handlers.RepositoryIndexAsync);
                group.MapPost("/repository/models/{name}/load", (HttpContext c, string name) => handlers.RepositoryActionAsync(c, name, load: true));
                group.MapPost("/repository/models/{name}/unload", (HttpContext c, string name) => handlers.RepositoryActionAsync(c, name, load: false));
            }

            // Everything else under /v2 (any method): JSON 404, or 405 with Allow where the path takes other methods.
            group.Map("/{**rest}", handlers.UnmatchedAsync);
            return group;
        }

        private static string RouteValue(HttpContext context, string name) => context.Request.RouteValues[name] as string ?? string.Empty;

        /// <summary>
        /// Maps the gRPC <c>inference.GRPCInferenceService</c> of the Open Inference Protocol (KServe
        /// <c>grpc_predict_v2.proto</c>, shipped in this package under <c>protos/</c>): ServerLive,
        /// ServerReady, ModelReady, ServerMetadata, ModelMetadata and ModelInfer, over the same models, version policy,
        /// limits and request-duration histogram (<c>protocol=grpc</c>) as <see cref="MapOpenInferenceProtocol"/>. gRPC
        /// needs an HTTP/2 endpoint (TLS, or <c>Protocols = Http2</c> for cleartext). The largest message accepted is
        /// <see cref="OpenInferenceProtocolOptions.MaxRequestBodyBytes"/>. Needs <c>services.AddOpenInferenceProtocol()</c>.
        /// </summary>
        /// <param name="endpoints">The application or a route group.</param>
        /// <returns>The service's convention builder: attach authorization or rate limiting to it.</returns>
        public static GrpcServiceEndpointConventionBuilder MapOpenInferenceProtocolGrpc(this IEndpointRouteBuilder endpoints)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            _ = endpoints.ServiceProvider.GetService<OipEndpoints>()
                ?? throw new InvalidOperationException("MapOpenInferenceProtocolGrpc() needs services.AddOpenInferenceProtocol() first.");
            return endpoints.MapGrpcService<OipGrpcService>();
        }
    }
}

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Registers the Open Inference Protocol endpoints' services.</summary>
    public static class OpenInferenceProtocolServiceCollectionExtensions
    {
        /// <summary>
        /// Registers what <c>app.MapOpenInferenceProtocol()</c> needs: its options (bound from configuration section
        /// <c>AiOps:Serving</c>, then <paramref name="configure"/>; validated at start-up), the <see cref="ModelRepository"/>
        /// and its gate decorator, the default <see cref="IServedVersionResolver"/> (TryAdd: register your own to replace
        /// it) and the request-duration histogram <c>aiops.inference.request.duration</c>. Serves the models of the
        /// registered <see cref="IModelRunnerCatalog"/> (<c>AddAiOpsInference()</c>). Safe to call twice; order-free.
        /// </summary>
        /// <param name="services">The services.</param>
        /// <param name="configure">Sets options in code (after configuration).</param>
        /// <returns>The services.</returns>
        public static IServiceCollection AddOpenInferenceProtocol(this IServiceCollection services, Action<OpenInferenceProtocolOptions>? configure = null)
        {
            ArgumentNullException.ThrowIfNull(services);
            HostingSurface.BindSection<OpenInferenceProtocolOptions>(services, null, OpenInferenceProtocolOptions.SectionName);
            var builder = services.AddOptions<OpenInferenceProtocolOptions>();
            if (configure is not null)
            {
                builder.Configure(configure);
            }

            builder.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OpenInferenceProtocolOptions>, OpenInferenceProtocolOptionsValidator>());
            services.AddMetrics();
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<ModelGates>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelRunnerDecorator, ModelGates>(sp => sp.GetRequiredService<ModelGates>()));
            services.TryAddSingleton(sp => new ModelRepository(sp.GetRequiredService<IModelRunnerCatalog>(), sp.GetRequiredService<ModelGates>()));
            services.TryAddSingleton<IServedVersionResolver>(sp => new DefaultServedVersionResolver(sp, sp.GetRequiredService<IModelRunnerCatalog>()));
            services.TryAddSingleton<ServingMetrics>();
            services.TryAddSingleton<OipEndpoints>();
            services.AddGrpc();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GrpcServiceOptions<OipGrpcService>>, GrpcLimits>());
            return services;
        }
    }
}

namespace AiOps.Inference.Serving.Grpc
{
    /// <summary>The gRPC service's largest accepted message: the REST body limit.</summary>
    internal sealed class GrpcLimits(IOptions<OpenInferenceProtocolOptions> options) : IConfigureOptions<GrpcServiceOptions<OipGrpcService>>
    {
        public void Configure(GrpcServiceOptions<OipGrpcService> o) =>
            o.MaxReceiveMessageSize = (int)Math.Min(options.Value.MaxRequestBodyBytes, int.MaxValue);
    }
}
