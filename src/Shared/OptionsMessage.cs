// Linked into several assemblies (src/Shared/Shared.props): each copy lives in its assembly's own namespace.
// Types are spelled in full (no using directives): the implicit usings differ between the projects that compile this.
#if AIOPS_SHARED_RELEASE
namespace AiOps.Release.Internal;
#elif AIOPS_SHARED_MONITORING
namespace AiOps.Monitoring.Internal;
#elif AIOPS_SHARED_DATA
namespace AiOps.Data.Internal;
#elif AIOPS_SHARED_INFERENCE
namespace AiOps.Inference.Internal;
#else
namespace AiOps.Internal;
#endif

/// <summary>
/// The one start-up validation message style of AiOps: <c>AiOps:Release:EvaluationInterval is 00:00:00; expected a
/// positive interval (e.g. 00:01:00).</c> (the configuration key, the value, what is expected). Values are written
/// culture-invariantly.
/// </summary>
internal static class OptionsMessage
{
    /// <summary>What a model version must look like (<see cref="ModelVersion.IsValid"/>).</summary>
    public const string Version = "a version of 1 to 32 letters, digits, '.', '-' or '_', not starting with '.' and without '..' (e.g. '2.1')";

    /// <summary>What a model name must look like (<see cref="ModelId.IsValid"/>).</summary>
    public const string ModelName = "a model name of 1 to 64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit, without '..'";

    /// <summary>Formats <c>{key} is {value}; expected {expected}.</c>.</summary>
    public static string Invalid(string key, object? value, string expected) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key} is {Show(value)}; expected {expected}.");

    /// <summary>A value as it appears in a message: strings quoted, empty strings as <c>empty</c>, numbers invariant.</summary>
    public static string Show(object? value) => value switch
    {
        null => "null",
        string s when string.IsNullOrWhiteSpace(s) => "empty",
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        System.IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}
