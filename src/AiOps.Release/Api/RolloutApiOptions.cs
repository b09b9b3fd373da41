using AiOps.Release.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Api;

/// <summary>
/// Settings of the rollout operator HTTP API (<c>app.MapAiOpsRolloutApi()</c>), bound from configuration section
/// <c>AiOps:Release:Api</c> by <c>AddAiOpsRelease()</c> and validated at start-up.
/// </summary>
/// <remarks>
/// <b>Authorization.</b> Name a policy the host defines (<c>services.AddAuthorization(o =&gt; o.AddPolicy("rollout-operators", …))</c>)
/// in <see cref="AuthorizationPolicy"/>: every endpoint then requires it. With no policy named, the API refuses every
/// request with 403, except requests from a loopback address when <see cref="AllowLoopbackWithoutPolicy"/> is on (the
/// default, for samples and a developer's machine). Production hosts name a policy.
/// </remarks>
public sealed class RolloutApiOptions
{
    /// <summary>The configuration section: <c>AiOps:Release:Api</c>.</summary>
    public const string SectionName = AiOpsReleaseOptions.SectionName + ":Api";

    /// <summary>
    /// The name of the authorization policy every endpoint requires (defined by the host with <c>AddAuthorization</c>).
    /// Default: none, which refuses every request that is not allowed by <see cref="AllowLoopbackWithoutPolicy"/>.
    /// </summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>
    /// With no <see cref="AuthorizationPolicy"/>: whether requests from a loopback address (127.0.0.0/8, ::1) addressed to
    /// a loopback host name are answered (default <see langword="true"/>, for samples). A loopback request that carries
    /// <c>Forwarded</c> or <c>X-Forwarded-For</c> came through a proxy and is refused. Set <see langword="false"/> to
    /// refuse everything until a policy is named. Ignored when a policy is named.
    /// </summary>
    public bool AllowLoopbackWithoutPolicy { get; set; } = true;

    /// <summary>The largest request body accepted, in bytes (larger: 413). Default: 16 KiB; 256 bytes to 1 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 16 * 1024;
}

/// <summary>Validates <see cref="RolloutApiOptions"/>; each message names the configuration key, its value and what is expected.</summary>
internal sealed class RolloutApiOptionsValidator : IValidateOptions<RolloutApiOptions>
{
    private const string Section = RolloutApiOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, RolloutApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.AuthorizationPolicy is { } policy && (policy.Length == 0 || policy.Trim() != policy))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.AuthorizationPolicy), policy,
                "the name of an authorization policy the host defines (no leading or trailing spaces), or leave it unset"));
        }

        if (options.MaxRequestBodyBytes is < 256 or > 1024 * 1024)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxRequestBodyBytes), options.MaxRequestBodyBytes, "256 to 1048576 bytes"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
