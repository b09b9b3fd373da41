namespace AiOps.Samples.InferenceHost;

/// <summary>Settings of the inference host (configuration section <c>InferenceHost</c>).</summary>
public sealed class InferenceHostOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "InferenceHost";

    /// <summary>The address used when neither <c>--urls</c>, <c>ASPNETCORE_URLS</c> nor <c>Kestrel:Endpoints</c> is set: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// Where the host keeps its files: the demo models written at start-up (<c>models/</c>) and the rollout state
    /// (<c>state/</c>). Relative paths are resolved against the content root. Default <c>aiops-host</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "aiops-host";

    /// <summary>The largest request body accepted, in bytes; a larger one is refused with 413 before it is read. Default 4 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The header that pins a version for one request (an explicit override of the canary weights). Default <c>x-aiops-version</c>.</summary>
    public string VersionHeader { get; set; } = "x-aiops-version";

    /// <summary>The header whose value canary routing is sticky on (a user or account id). Default <c>x-aiops-routing-key</c>; the request id is used when it is absent.</summary>
    public string RoutingKeyHeader { get; set; } = "x-aiops-routing-key";

    /// <summary>
    /// Whether the repository endpoints (<c>POST /v2/repository/models/{name}/load|unload</c>) are mapped. They let a
    /// caller take a model out of service, so they are off by default; turn them on only behind an authenticated proxy.
    /// </summary>
    public bool EnableRepositoryApi { get; set; }

    /// <summary>The name of the demo model served when no model is configured under <c>AiOps:Models</c>. Default <c>classifier</c>.</summary>
    public string DemoModelName { get; set; } = "classifier";
}
