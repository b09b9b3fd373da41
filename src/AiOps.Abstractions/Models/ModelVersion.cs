using System.Globalization;

namespace AiOps;

/// <summary>
/// A version of a model, such as <c>1</c>, <c>2.1</c> or <c>2.1.0-rc1</c>. Versions compare numerically part by part
/// (<c>2.10</c> is newer than <c>2.9</c>); a suffix after <c>-</c> sorts before the same version without one.
/// Allowed characters: ASCII letters, digits, <c>.</c>, <c>-</c> and <c>_</c>; at most 32 characters.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ModelVersionJsonConverter))]
public readonly record struct ModelVersion : IComparable<ModelVersion>
{
    /// <summary>The longest version string accepted.</summary>
    public const int MaxLength = 32;

    private readonly string? _value;

    /// <summary>Creates a version after validating <paramref name="value"/>.</summary>
    /// <param name="value">The version text.</param>
    /// <exception cref="ArgumentException">The version is empty, too long or contains characters outside the allowed set.</exception>
    public ModelVersion(string value)
    {
        if (!IsValid(value, out var error))
        {
            throw new ArgumentException(error, nameof(value));
        }

        _value = value;
    }

    /// <summary>The version text.</summary>
    public string Value => _value ?? throw new InvalidOperationException("ModelVersion is default(ModelVersion); create it with a value.");

    /// <summary>Returns whether <paramref name="value"/> is a valid version, with the reason when it is not.</summary>
    /// <param name="value">The candidate version.</param>
    /// <param name="error">Why it is not valid; <see langword="null"/> when it is.</param>
    public static bool IsValid(string? value, out string? error)
    {
        if (string.IsNullOrEmpty(value))
        {
            error = "A model version is required (expected 1 to 32 characters of A-Z, a-z, 0-9, '.', '-' or '_', e.g. '2.1').";
            return false;
        }

        if (value.Length > MaxLength)
        {
            error = $"Model version is {value.Length} characters long; expected at most {MaxLength}.";
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                error = $"Model version '{value}' contains '{c}'; expected only letters, digits, '.', '-' or '_'.";
                return false;
            }
        }

        if (value[0] == '.' || value.Contains("..", StringComparison.Ordinal))
        {
            error = $"Model version '{value}' must not start with '.' or contain '..'.";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Parses a version, throwing <see cref="ArgumentException"/> when it is not valid.</summary>
    /// <param name="value">The version text.</param>
    public static ModelVersion Parse(string value) => new(value);

    /// <summary>Converts a string to a <see cref="ModelVersion"/>, validating it.</summary>
    /// <param name="value">The version text.</param>
    public static implicit operator ModelVersion(string value) => new(value);

    /// <summary>Converts a string to a <see cref="ModelVersion"/>.</summary>
    /// <param name="value">The version text.</param>
    public static ModelVersion FromString(string value) => new(value);

    /// <inheritdoc />
    public int CompareTo(ModelVersion other)
    {
        var a = _value ?? string.Empty;
        var b = other._value ?? string.Empty;
        SplitSuffix(a, out var aCore, out var aSuffix);
        SplitSuffix(b, out var bCore, out var bSuffix);
        var aParts = aCore.Split('.');
        var bParts = bCore.Split('.');
        for (var i = 0; i < Math.Max(aParts.Length, bParts.Length); i++)
        {
            var ap = i < aParts.Length ? aParts[i] : "0";
            var bp = i < bParts.Length ? bParts[i] : "0";
            var aNum = long.TryParse(ap, NumberStyles.None, CultureInfo.InvariantCulture, out var an);
            var bNum = long.TryParse(bp, NumberStyles.None, CultureInfo.InvariantCulture, out var bn);
            var c = aNum && bNum ? an.CompareTo(bn) : string.CompareOrdinal(ap, bp);
            if (c != 0)
            {
                return c;
            }
        }

        if (aSuffix.Length == 0 || bSuffix.Length == 0)
        {
            // A release sorts after its pre-release: 2.1 > 2.1-rc1.
            return bSuffix.Length.CompareTo(aSuffix.Length) switch { 0 => 0, var x => x > 0 ? 1 : -1 };
        }

        return string.CompareOrdinal(aSuffix, bSuffix);
    }

    private static void SplitSuffix(string value, out string core, out string suffix)
    {
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        core = dash < 0 ? value : value[..dash];
        suffix = dash < 0 ? string.Empty : value[(dash + 1)..];
    }

    /// <summary>Compares two versions.</summary>
    public static bool operator <(ModelVersion left, ModelVersion right) => left.CompareTo(right) < 0;

    /// <summary>Compares two versions.</summary>
    public static bool operator >(ModelVersion left, ModelVersion right) => left.CompareTo(right) > 0;

    /// <summary>Compares two versions.</summary>
    public static bool operator <=(ModelVersion left, ModelVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two versions.</summary>
    public static bool operator >=(ModelVersion left, ModelVersion right) => left.CompareTo(right) >= 0;

    /// <inheritdoc />
    public override string ToString() => _value ?? string.Empty;
}
