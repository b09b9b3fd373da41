using System.Globalization;

namespace AiOps.Monitoring.Internal;

/// <summary>
/// The one start-up validation message style of AiOps: <c>AiOps:Monitoring:Gpu:PollInterval is 00:00:00; expected more than 0.</c>
/// (the configuration key, the value, what is expected). Values are written culture-invariantly.
/// </summary>
internal static class OptionsMessage
{
    /// <summary>What a model name must look like (<see cref="ModelId.IsValid"/>).</summary>
    public const string ModelName = "a model name of 1 to 64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit, without '..'";

    /// <summary>Formats <c>{key} is {value}; expected {expected}.</c>.</summary>
    public static string Invalid(string key, object? value, string expected) =>
        string.Create(CultureInfo.InvariantCulture, $"{key} is {Show(value)}; expected {expected}.");

    /// <summary>A value as it appears in a message: strings quoted, empty strings as <c>empty</c>, numbers invariant.</summary>
    public static string Show(object? value) => value switch
    {
        null => "null",
        string s when string.IsNullOrWhiteSpace(s) => "empty",
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}
