using AiOps.Inference.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Inference.Serving;

/// <summary>
/// Settings of the Open Inference Protocol (KServe / Triton "v2") endpoints mapped by
/// <c>MapOpenInferenceProtocol()</c>. Bound from configuration section <see cref="SectionName"/> (configuration first,
/// then code), validated at start-up. Every limit is checked before the work it bounds, and a request over it is
/// answered 4xx with a JSON <c>{"error": "..."}</c> that names the limit.
/// </summary>
public sealed class OpenInferenceProtocolOptions
{
    /// <summary>The configuration section: <c>AiOps:Serving</c>.</summary>
    public const string SectionName = "AiOps:Serving";

    /// <summary>The server name reported by <c>GET /v2</c>. Default <c>aiops</c>.</summary>
    public string ServerName { get; set; } = "aiops";

    /// <summary>
    /// The largest inference request body accepted, in bytes (JSON and binary tensor data together). A request that
    /// declares a larger <c>Content-Length</c> is answered 413 before its body is read; a chunked one when it passes the
    /// limit. Default 4 MiB.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The most inputs one request may carry, whatever the model: a request is also refused when it has more inputs than
    /// the model declares. Checked before any input is read. Default 64.
    /// </summary>
    public int MaxInputs { get; set; } = 64;

    /// <summary>The most tensor elements one request may carry (all inputs together), checked from the shapes before any data is read; 1 to 2,147,483,647. Default 16,777,216.</summary>
    public long MaxElements { get; set; } = 16 * 1024 * 1024;

    /// <summary>How deep nested <c>data</c> arrays may go (a tensor's rank, at most). Default 8.</summary>
    public int MaxNestingDepth { get; set; } = 8;

    /// <summary>
    /// Whether the model repository extension (<c>POST /v2/repository/index</c>, <c>.../models/{name}/load</c> and
    /// <c>/unload</c>) is mapped and advertised in server metadata. It lets a caller take a model out of service, so it
    /// is off by default; turn it on only behind the host's authorization (the endpoint group returned by
    /// <c>MapOpenInferenceProtocol()</c>).
    /// </summary>
    public bool EnableModelRepository { get; set; }

    /// <summary>
    /// The request header that pins a version for one unversioned infer call (an explicit override of the canary
    /// weights); empty to switch it off. Default <c>x-aiops-version</c>. The answering version is always returned in
    /// this header (or <c>x-aiops-version</c> when switched off).
    /// </summary>
    public string VersionHeader { get; set; } = "x-aiops-version";

    /// <summary>
    /// The request header whose value canary routing is sticky on (a user or account id); the request <c>id</c> is used
    /// when it is absent. Default <c>x-aiops-routing-key</c>.
    /// </summary>
    public string RoutingKeyHeader { get; set; } = "x-aiops-routing-key";
}

/// <summary>Validates <see cref="OpenInferenceProtocolOptions"/> at start-up, naming the configuration key.</summary>
internal sealed class OpenInferenceProtocolOptionsValidator : IValidateOptions<OpenInferenceProtocolOptions>
{
    private const string Prefix = OpenInferenceProtocolOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, OpenInferenceProtocolOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ServerName))
        {
            errors.Add(OptionsMessage.Invalid(Prefix + nameof(options.ServerName), options.ServerName, "a server name"));
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            errors.Add(OptionsMessage.Invalid(Prefix + nameof(options.MaxRequestBodyBytes), options.MaxRequestBodyBytes, ">= 1024"));
        }

        if (options.MaxInputs < 1)
        {
            errors.Add(OptionsMessage.Invalid(Prefix + nameof(options.MaxInputs), options.MaxInputs, ">= 1"));
        }

        if (options.MaxElements is < 1 or > int.MaxValue)
        {
            errors.Add(OptionsMessage.Invalid(Prefix + nameof(options.MaxElements), options.MaxElements, "1 to 2147483647"));
        }

        if (options.MaxNestingDepth is < 1 or > 32)
        {
            errors.Add(OptionsMessage.Invalid(Prefix + nameof(options.MaxNestingDepth), options.MaxNestingDepth, "1 to 32"));
        }

        if (string.IsNullOrWhiteSpace(options.RoutingKeyHeader))
        {
            errors.Add(OptionsMessage.Invalid(Prefix + nameof(options.RoutingKeyHeader), options.RoutingKeyHeader, "a header name"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
