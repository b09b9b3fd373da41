using AiOps.Inference;
using AiOps.TestModels;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiOps.Samples.InferenceHost;

/// <summary>
/// Builds the inference host: registered ONNX models served over the Open Inference Protocol (the endpoints of
/// AiOps.Inference, <c>MapOpenInferenceProtocol()</c>), with monitoring (<c>/metrics</c>), canary routing through
/// AiOps.Release, its rollout operator API (<c>/aiops/rollouts</c>, loopback only) and a bounded request body. Everything is wired through the packages' DI extensions; this class only
/// chooses settings.
/// </summary>
/// <remarks>
/// Models come from configuration (<c>AiOps:Models:&lt;name&gt;</c> with a <c>Path</c> or <c>Versions</c>, see
/// AiOps.Inference); when none is configured, the demo classifier (versions 1 and 2 from the test-model kit) is written
/// under <see cref="InferenceHostOptions.DataDirectory"/> and served as <see cref="InferenceHostOptions.DemoModelName"/>,
/// so the host runs with no set-up. Release settings per model bind from <c>AiOps:Release:Models:&lt;name&gt;</c>.
/// </remarks>
public static class InferenceHostApp
{
    /// <summary>The server name reported by <c>GET /v2</c>.</summary>
    public const string ServerName = "aiops-inference-host";

    /// <summary>Builds the application (not started).</summary>
    /// <param name="args">Command-line arguments (<c>--urls</c>, <c>--InferenceHost:MaxRequestBodyBytes=…</c>, …).</param>
    /// <param name="configure">Runs before services are registered: add configuration or replace services (tests do).</param>
    /// <returns>The application.</returns>
    /// <exception cref="InvalidOperationException">A host setting is out of range (the message names it).</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);

        var hostOptions = builder.Configuration.GetSection(InferenceHostOptions.SectionName).Get<InferenceHostOptions>() ?? new InferenceHostOptions();
        Validate(hostOptions);
        builder.Services.TryAddSingleton(hostOptions);
        var dataDirectory = Path.GetFullPath(hostOptions.DataDirectory, builder.Environment.ContentRootPath);

        if (string.IsNullOrWhiteSpace(builder.Configuration["urls"])
            && string.IsNullOrWhiteSpace(builder.Configuration["http_ports"])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(InferenceHostOptions.DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = hostOptions.MaxRequestBodyBytes;
        });

        var models = RegisterModels(builder, hostOptions, dataDirectory);
        builder.Services.AddOpenInferenceProtocol(o =>
        {
            o.ServerName = ServerName;
            o.MaxRequestBodyBytes = hostOptions.MaxRequestBodyBytes;
            o.VersionHeader = hostOptions.VersionHeader;
            o.RoutingKeyHeader = hostOptions.RoutingKeyHeader;
            o.EnableModelRepository = hostOptions.EnableRepositoryApi;
        });
        builder.Services.AddAiOpsMonitoring(o =>
        {
            foreach (var m in models)
            {
                o.Models.Add(m);
            }
        });

        var release = builder.Services.AddAiOpsRelease(o => o.StateDirectory = Path.Combine(dataDirectory, "state"));
        foreach (var m in models)
        {
            release.AddModel(m, o =>
            {
                if (m == hostOptions.DemoModelName && models.Count == 1 && o.StableVersion is null)
                {
                    o.StableVersion = "1";
                }
            });
        }

        builder.Services.AddHealthChecks().AddAiOpsInferenceHealthChecks();

        var app = builder.Build();
        app.MapOpenInferenceProtocol();
        app.MapOpenInferenceProtocolGrpc(); // answers on an HTTP/2 endpoint (Kestrel:Endpoints:<name>:Protocols = Http2)
        // The rollout operator API (/aiops/rollouts): no AiOps:Release:Api:AuthorizationPolicy is named here, so it answers
        // only direct loopback requests (the host listens on 127.0.0.1 by default). A deployed host names a policy.
        app.MapAiOpsRolloutApi();
        app.MapAiOpsMetrics();
        app.MapHealthChecks("/healthz");
        return app;
    }

    /// <summary>Registers the configured models, or writes and registers the demo classifier; returns the model names.</summary>
    private static List<string> RegisterModels(WebApplicationBuilder builder, InferenceHostOptions hostOptions, string dataDirectory)
    {
        var inference = builder.Services.AddAiOpsInference();
        var configured = builder.Configuration.GetSection("AiOps:Models").GetChildren()
            .Where(c => !string.IsNullOrWhiteSpace(c["Path"]) || c.GetSection("Versions").Exists())
            .Select(c => c.Key)
            .ToList();
        foreach (var name in configured)
        {
            inference.AddOnnxModel(name);
        }

        if (configured.Count > 0)
        {
            return configured;
        }

        var name0 = hostOptions.DemoModelName;
        var modelDirectory = Path.Combine(dataDirectory, "models");
        Directory.CreateDirectory(modelDirectory);
        var v1 = WriteAtomically(TestModels.TestModels.Classifier(1), Path.Combine(modelDirectory, $"{name0}-1.onnx"));
        var v2 = WriteAtomically(TestModels.TestModels.Classifier(2), Path.Combine(modelDirectory, $"{name0}-2.onnx"));
        inference.AddOnnxModel(name0, o =>
        {
            o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = v1 });
            o.Versions.Add(new OnnxModelVersionOptions { Version = "2", Path = v2 });
            o.DefaultVersion = "1";
            o.Batching.Enabled = true;
        });

        return [name0];
    }

    private static string WriteAtomically(ClassifierModel model, string path)
    {
        AiOps.Internal.AtomicFile.WriteAllBytes(path, model.ToOnnx());
        return path;
    }

    private static void Validate(InferenceHostOptions o)
    {
        var errors = new List<string>();
        if (o.MaxRequestBodyBytes < 1024)
        {
            errors.Add($"InferenceHost:MaxRequestBodyBytes must be at least 1024; it is {o.MaxRequestBodyBytes}.");
        }

        if (string.IsNullOrWhiteSpace(o.VersionHeader) || string.IsNullOrWhiteSpace(o.RoutingKeyHeader))
        {
            errors.Add("InferenceHost:VersionHeader and InferenceHost:RoutingKeyHeader must be header names; one is empty.");
        }

        if (string.IsNullOrWhiteSpace(o.DataDirectory))
        {
            errors.Add("InferenceHost:DataDirectory must be a directory path; it is empty.");
        }

        if (!ModelId.IsValid(o.DemoModelName, out var nameError))
        {
            errors.Add($"InferenceHost:DemoModelName: {nameError}");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", errors));
        }
    }
}
