using AiOps.Monitoring.Export;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Prometheus scrape endpoint on ASP.NET Core hosts.</summary>
public static class AiOpsMetricsEndpointExtensions
{
    /// <summary>
    /// Maps <c>GET {pattern}</c> to the AiOps metrics (model, drift, quality, GPU, HTTP server and .NET runtime metrics)
    /// in the Prometheus text format, or in OpenMetrics with exemplars (trace ids) when the scraper's <c>Accept</c>
    /// header asks for <c>application/openmetrics-text</c>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (e.g. the <c>WebApplication</c>).</param>
    /// <param name="pattern">The route. Default <c>/metrics</c>.</param>
    /// <returns>The endpoint builder, to add authorization or host filters.</returns>
    /// <example><code>app.MapAiOpsMetrics();   // scrape http://host/metrics</code></example>
    public static IEndpointConventionBuilder MapAiOpsMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        return endpoints.MapGet(pattern, static async (HttpContext context) =>
        {
            var exporter = context.RequestServices.GetRequiredService<AiOpsPrometheusExporter>();
            if (AiOpsPrometheusExporter.AcceptsOpenMetrics(context.Request.Headers.Accept.ToString()))
            {
                context.Response.ContentType = AiOpsPrometheusExporter.OpenMetricsContentType;
                await exporter.WriteOpenMetricsAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            }
            else
            {
                context.Response.ContentType = AiOpsPrometheusExporter.ContentType;
                await exporter.WriteAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            }
        });
    }
}
