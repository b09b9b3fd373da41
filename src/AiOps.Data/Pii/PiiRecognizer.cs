using System.Text.RegularExpressions;

namespace AiOps.Data.Pii;

/// <summary>A team's own kind of personal data (an employee number, a licence plate, a passport number): a regular expression that
/// finds candidates, an optional validator that accepts or rejects each (a check digit), and optional context words that must appear
/// near a candidate for it to count. Findings carry <see cref="PiiKind.Custom"/> and the recogniser's <see cref="Name"/>
/// (<see cref="PiiFinding.Recognizer"/>). Register it with <c>AddAiOpsData().AddPiiRecognizer(…)</c>; the one registered
/// <see cref="IPiiMasker"/> then uses it in the gate, the in-memory path and <see cref="IPiiMasker.Mask"/>.</summary>
/// <example>
/// <code>
/// builder.Services.AddAiOpsData().AddPiiRecognizer(new PiiRecognizer("EMPLOYEE_ID", @"\bE[0-9]{6}\b")
/// {
///     ContextWords = ["employee", "staff"],
///     KeepLast = 2,
/// });
/// </code>
/// </example>
public sealed class PiiRecognizer
{
    /// <summary>Creates a recogniser.</summary>
    /// <param name="name">Its name, upper-case letters, digits and underscores (<c>EMPLOYEE_ID</c>); the placeholder of
    /// <see cref="PiiOperator.Replace"/> is <c>&lt;NAME&gt;</c>. It must not be the name of a built-in kind.</param>
    /// <param name="pattern">A .NET regular expression matching one candidate (matched culture-invariant, with a one-second timeout).</param>
    /// <param name="validator">Accepts or rejects a candidate (e.g. checks a check digit); <see langword="null"/> accepts every match.
    /// A rejected candidate is reported with <see cref="PiiFinding.Masked"/> = <see langword="false"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not upper snake case or is a built-in kind's name, or
    /// <paramref name="pattern"/> is empty, not a valid regular expression, or matches the empty string.</exception>
    public PiiRecognizer(string name, string pattern, Func<string, bool>? validator = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pattern);
        if (name.Length == 0 || !name.All(static c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_') || !char.IsAsciiLetterUpper(name[0]))
        {
            throw new ArgumentException($"A PII recogniser name must be upper snake case starting with a letter (EMPLOYEE_ID); got '{name}'.", nameof(name));
        }

        if (BuiltInNames.Contains(name))
        {
            throw new ArgumentException($"PII recogniser name '{name}' is a built-in kind's; expected another name.", nameof(name));
        }

        if (pattern.Length == 0)
        {
            throw new ArgumentException($"PII recogniser '{name}' has an empty pattern; expected a regular expression.", nameof(pattern));
        }

        try
        {
            Regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"PII recogniser '{name}' has pattern '{pattern}', which is not a valid regular expression: {e.Message}", nameof(pattern), e);
        }

        if (Regex.IsMatch(string.Empty))
        {
            throw new ArgumentException($"PII recogniser '{name}' has pattern '{pattern}', which matches the empty string; expected a pattern that matches one value.", nameof(pattern));
        }

        Name = name;
        Pattern = pattern;
        Validator = validator;
    }

    /// <summary>The recogniser's name (<c>EMPLOYEE_ID</c>).</summary>
    public string Name { get; }

    /// <summary>The regular expression that finds candidates.</summary>
    public string Pattern { get; }

    /// <summary>Accepts or rejects a candidate; <see langword="null"/> accepts every match.</summary>
    public Func<string, bool>? Validator { get; }

    /// <summary>Words (matched case-insensitively) of which one must appear within <see cref="ContextWindow"/> characters before or after a
    /// candidate for it to count (<c>employee</c> before <c>E123456</c>). Empty (the default) means no context is required.</summary>
    public IReadOnlyList<string> ContextWords { get; init; } = [];

    /// <summary>How many characters either side of a candidate are searched for a context word (1–1000). Default 40.</summary>
    public int ContextWindow
    {
        get;
        init => field = value is >= 1 and <= 1000
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ContextWindow), value, "PiiRecognizer.ContextWindow: expected 1 to 1000 characters.");
    } = 40;

    /// <summary>How many trailing characters <see cref="PiiOperator.Mask"/> keeps (0–8); the rest become <c>*</c>. Default 0 (all starred).</summary>
    public int KeepLast
    {
        get;
        init => field = value is >= 0 and <= 8
            ? value
            : throw new ArgumentOutOfRangeException(nameof(KeepLast), value, "PiiRecognizer.KeepLast: expected 0 to 8 characters.");
    }

    internal Regex Regex { get; }

    internal string Placeholder => "<" + Name + ">";

    internal static readonly HashSet<string> BuiltInNames = new(StringComparer.Ordinal)
    {
        "CHINA_MOBILE", "CHINA_RESIDENT_ID", "EMAIL", "BANK_CARD", "IPV4", "IPV6", "CUSTOM", "PII",
    };

    /// <summary>Whether one of the context words occurs near the candidate (always, when none are set).</summary>
    internal bool HasContext(string text, int start, int length)
    {
        if (ContextWords.Count == 0)
        {
            return true;
        }

        var from = Math.Max(0, start - ContextWindow);
        var to = Math.Min(text.Length, start + length + ContextWindow);
        var window = text.AsSpan(from, to - from);
        foreach (var word in ContextWords)
        {
            if (!string.IsNullOrEmpty(word) && window.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
