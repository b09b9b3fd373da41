namespace AiOps;

/// <summary>
/// The name of a model, such as <c>fraud</c>. A model name is also the options name and the DI key of everything
/// registered for that model, so it is restricted to a safe alphabet: lower-case ASCII letters, digits, <c>-</c>,
/// <c>_</c> and <c>.</c>, starting with a letter or digit, at most 64 characters. This keeps it usable as a file name,
/// a Prometheus label value and a URL segment without escaping, and rules out path traversal.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ModelIdJsonConverter))]
public readonly record struct ModelId : IComparable<ModelId>
{
    /// <summary>The longest model name accepted.</summary>
    public const int MaxLength = 64;

    private readonly string? _value;

    /// <summary>Creates a model id after validating <paramref name="value"/>.</summary>
    /// <param name="value">The model name.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or uses characters outside the allowed set.</exception>
    public ModelId(string value)
    {
        if (!IsValid(value, out var error))
        {
            throw new ArgumentException(error, nameof(value));
        }

        _value = value;
    }

    /// <summary>The model name.</summary>
    public string Value => _value ?? throw new InvalidOperationException("ModelId is default(ModelId); create it with a name.");

    /// <summary>Returns whether <paramref name="value"/> is a valid model name, with the reason when it is not.</summary>
    /// <param name="value">The candidate name.</param>
    /// <param name="error">Why it is not valid; <see langword="null"/> when it is.</param>
    public static bool IsValid(string? value, out string? error)
    {
        if (string.IsNullOrEmpty(value))
        {
            error = "A model name is required (expected 1 to 64 characters of a-z, 0-9, '-', '_' or '.').";
            return false;
        }

        if (value.Length > MaxLength)
        {
            error = $"Model name '{value[..16]}…' is {value.Length} characters long; expected at most {MaxLength}.";
            return false;
        }

        if (!char.IsAsciiLetterLower(value[0]) && !char.IsAsciiDigit(value[0]))
        {
            error = $"Model name '{value}' must start with a lower-case letter or digit.";
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('-' or '_' or '.'))
            {
                error = $"Model name '{value}' contains '{c}'; expected only a-z, 0-9, '-', '_' or '.'.";
                return false;
            }
        }

        if (value.Contains("..", StringComparison.Ordinal))
        {
            error = $"Model name '{value}' must not contain '..'.";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Parses a model name, throwing <see cref="ArgumentException"/> when it is not valid.</summary>
    /// <param name="value">The model name.</param>
    public static ModelId Parse(string value) => new(value);

    /// <summary>Converts a string to a <see cref="ModelId"/>, validating it.</summary>
    /// <param name="value">The model name.</param>
    public static implicit operator ModelId(string value) => new(value);

    /// <inheritdoc />
    public int CompareTo(ModelId other) => string.CompareOrdinal(_value, other._value);

    /// <summary>Compares two ids.</summary>
    public static bool operator <(ModelId left, ModelId right) => left.CompareTo(right) < 0;

    /// <summary>Compares two ids.</summary>
    public static bool operator >(ModelId left, ModelId right) => left.CompareTo(right) > 0;

    /// <summary>Compares two ids.</summary>
    public static bool operator <=(ModelId left, ModelId right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two ids.</summary>
    public static bool operator >=(ModelId left, ModelId right) => left.CompareTo(right) >= 0;

    /// <summary>Converts a string to a <see cref="ModelId"/>.</summary>
    /// <param name="value">The model name.</param>
    public static ModelId FromString(string value) => new(value);

    /// <inheritdoc />
    public override string ToString() => _value ?? string.Empty;
}
