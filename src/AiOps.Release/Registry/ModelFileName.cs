using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace AiOps.Release.Registry;

/// <summary>
/// A model file name in the field's convention, <c>model_{name}_v{version}_{yyyyMMdd}</c> (e.g.
/// <c>model_resnet18_v2.1_20240801</c>, optionally with an extension such as <c>.onnx</c>). The name is split at the
/// last <c>_v</c> before the date, so a model name may contain <c>_</c> but a version may not contain <c>_v</c>.
/// </summary>
/// <param name="Model">The model name.</param>
/// <param name="Version">The version.</param>
/// <param name="Date">The build date.</param>
internal readonly record struct ModelFileName(ModelId Model, ModelVersion Version, DateOnly Date)
{
    private const string Prefix = "model_";
    private static readonly System.Buffers.SearchValues<char> s_extensionChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789");

    /// <summary>The model version as a key.</summary>
    public ModelKey Key => new(Model, Version);

    /// <summary>Parses a file name (with or without directory and extension).</summary>
    /// <param name="fileName">The file name, e.g. <c>model_resnet18_v2.1_20240801.onnx</c>.</param>
    /// <exception cref="FormatException">The name does not follow the convention; the message says which part is wrong.</exception>
    public static ModelFileName Parse(string fileName) =>
        TryParse(fileName, out var result, out var error) ? result : throw new FormatException(error);

    /// <summary>Tries to parse a file name.</summary>
    /// <param name="fileName">The file name.</param>
    /// <param name="result">The parsed name.</param>
    /// <returns>Whether the name follows the convention.</returns>
    public static bool TryParse(string? fileName, out ModelFileName result) => TryParse(fileName, out result, out _);

    private static bool TryParse(string? fileName, out ModelFileName result, [NotNullWhen(false)] out string? error)
    {
        result = default;
        const string expected = "expected 'model_{name}_v{version}_{yyyyMMdd}', e.g. 'model_resnet18_v2.1_20240801'";
        if (string.IsNullOrWhiteSpace(fileName))
        {
            error = $"A model file name is required ({expected}).";
            return false;
        }

        var name = Path.GetFileName(fileName);
        var ext = Path.GetExtension(name);
        if (ext.Length < 2 || ext.AsSpan(1).ContainsAnyExcept(s_extensionChars) || !ext.AsSpan(1).ContainsAnyInRange('a', 'z'))
        {
            ext = string.Empty; // '.1_20240801' in 'v2.1_20240801' is part of the version, not an extension
        }

        var stem = ext.Length > 0 && name.EndsWith(ext, StringComparison.Ordinal) ? name[..^ext.Length] : name;
        if (!stem.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = $"Model file name '{name}' does not start with '{Prefix}' ({expected}).";
            return false;
        }

        var lastUnderscore = stem.LastIndexOf('_');
        var datePart = stem[(lastUnderscore + 1)..];
        if (lastUnderscore < Prefix.Length ||
            !DateOnly.TryParseExact(datePart, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            error = $"Model file name '{name}' does not end with a date as yyyyMMdd ('{datePart}' given; {expected}).";
            return false;
        }

        var body = stem[Prefix.Length..lastUnderscore];
        var v = body.LastIndexOf("_v", StringComparison.Ordinal);
        if (v <= 0)
        {
            error = $"Model file name '{name}' has no '_v{{version}}' part before the date ({expected}).";
            return false;
        }

        if (!ModelId.IsValid(body[..v], out var modelError))
        {
            error = $"Model file name '{name}': {modelError}";
            return false;
        }

        if (!ModelVersion.IsValid(body[(v + 2)..], out var versionError))
        {
            error = $"Model file name '{name}': {versionError}";
            return false;
        }

        result = new ModelFileName(new ModelId(body[..v]), new ModelVersion(body[(v + 2)..]), date);
        error = null;
        return true;
    }

    /// <summary>Formats the name without extension, e.g. <c>model_resnet18_v2.1_20240801</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Model.Value}_v{Version.Value}_{Date:yyyyMMdd}");
}
