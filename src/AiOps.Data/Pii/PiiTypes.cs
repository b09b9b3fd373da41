namespace AiOps.Data.Pii;

/// <summary>The kinds of personal data the masker recognises.</summary>
public enum PiiKind
{
    /// <summary>A mainland-China mobile number: <c>1[3-9]</c> and nine more digits, solid or grouped 3-4-4 by spaces or dashes
    /// (<c>138 1234 5678</c>, <c>138-1234-5678</c>), optionally prefixed by <c>+86</c>, <c>0086</c> or <c>86</c> (<c>+86 138 1234 5678</c>,
    /// <c>8613812345678</c>); masked to <c>138****5678</c> with the prefix kept as written.</summary>
    ChinaMobile = 0,

    /// <summary>A mainland-China resident identity number: 18 characters whose last is an ISO 7064 MOD 11-2 check character (an invalid
    /// one is reported as rejected), or the first generation's 15 digits (6 region digits, a valid yymmdd birth date, 3 sequence digits).</summary>
    ChinaResidentId,

    /// <summary>An e-mail address, including internationalised ones (letters of any script in the local part and the domain).</summary>
    Email,

    /// <summary>A payment-card number of 13 to 19 digits (spaces or dashes allowed) that passes the Luhn check and starts with a known
    /// issuer prefix at a length that issuer uses (Visa, Mastercard, American Express, UnionPay, Discover, JCB, Diners Club): millisecond
    /// timestamps and trace ids are not cards.</summary>
    BankCard,

    /// <summary>An IPv4 address.</summary>
    IPv4,

    /// <summary>An IPv6 address, full or compressed (<c>2001:db8::1</c>, <c>::ffff:192.0.2.1</c>), as <see cref="System.Net.IPAddress"/> parses it.</summary>
    IPv6,

    /// <summary>A kind a team added with a <see cref="PiiRecognizer"/>; <see cref="PiiFinding.Recognizer"/> names it.</summary>
    Custom,
}

/// <summary>What is done to a piece of personal data once found (the Presidio operators).</summary>
public enum PiiOperator
{
    /// <summary>Keeps a recognisable part and stars the rest: <c>138****1234</c>, <c>110105********002X</c>, <c>z***@example.com</c>, <c>************1234</c>, <c>192.168.*.*</c>.</summary>
    Mask = 0,

    /// <summary>Removes the value.</summary>
    Redact,

    /// <summary>Replaces the value with a placeholder such as <c>&lt;CHINA_MOBILE&gt;</c>.</summary>
    Replace,

    /// <summary>Replaces the value with the lower-case hex HMAC-SHA256 of its normalised form under the configured key, so masked values still join across runs.</summary>
    Hash,
}

/// <summary>One piece of personal data found in a text. It holds the position, never the value, so it is safe to log.</summary>
/// <param name="Kind">What was found.</param>
/// <param name="Start">Where it starts in the input text.</param>
/// <param name="Length">How many characters it covers in the input text.</param>
/// <param name="Masked">Whether the operator was applied; <see langword="false"/> for a candidate that failed validation (see <paramref name="Problem"/>).</param>
/// <param name="Problem">Why a candidate was not masked (e.g. an invalid resident-ID check character); otherwise <see langword="null"/>.</param>
public readonly record struct PiiFinding(PiiKind Kind, int Start, int Length, bool Masked, string? Problem = null)
{
    /// <summary>The <see cref="PiiRecognizer.Name"/> of a <see cref="PiiKind.Custom"/> finding; <see langword="null"/> for a built-in kind.</summary>
    public string? Recognizer { get; init; }
}

/// <summary>The result of masking one text.</summary>
/// <param name="Text">The text with every valid finding replaced by its operator's output.</param>
/// <param name="Findings">What was found, in text order, including rejected candidates such as invalid resident IDs.</param>
public sealed record PiiMaskResult(string Text, IReadOnlyList<PiiFinding> Findings)
{
    /// <summary>Candidates that looked like personal data but failed validation and were left as they were.</summary>
    public IEnumerable<PiiFinding> Rejected => Findings.Where(f => !f.Masked);
}

/// <summary>Which kinds to look for and what to do with each.</summary>
public sealed class PiiMaskingPolicy
{
    /// <summary>Every kind, masked with <see cref="PiiOperator.Mask"/>.</summary>
    public static PiiMaskingPolicy Default { get; } = new();

    /// <summary>Creates a policy that applies <paramref name="defaultOperator"/> to every kind.</summary>
    /// <param name="defaultOperator">The operator for kinds not listed in <see cref="Operators"/>.</param>
    public PiiMaskingPolicy(PiiOperator defaultOperator = PiiOperator.Mask) => DefaultOperator = defaultOperator;

    /// <summary>The operator for kinds not listed in <see cref="Operators"/>.</summary>
    public PiiOperator DefaultOperator { get; }

    /// <summary>Per-kind operators that override <see cref="DefaultOperator"/>.</summary>
    public IDictionary<PiiKind, PiiOperator> Operators { get; } = new Dictionary<PiiKind, PiiOperator>();

    /// <summary>The kinds to look for; empty means all of them.</summary>
    public ISet<PiiKind> Kinds { get; } = new HashSet<PiiKind>();

    /// <summary>Placeholders for <see cref="PiiOperator.Replace"/>; a kind not listed becomes <c>&lt;KIND_NAME&gt;</c>.</summary>
    public IDictionary<PiiKind, string> Replacements { get; } = new Dictionary<PiiKind, string>();

    /// <summary>Creates a policy that applies one operator to every kind.</summary>
    /// <param name="op">The operator.</param>
    /// <returns>The policy.</returns>
    public static PiiMaskingPolicy For(PiiOperator op) => op == PiiOperator.Mask ? Default : new PiiMaskingPolicy(op);

    /// <summary>The operator for <paramref name="kind"/>.</summary>
    /// <param name="kind">The kind found.</param>
    /// <returns>The operator to apply.</returns>
    public PiiOperator OperatorFor(PiiKind kind) => Operators.TryGetValue(kind, out var op) ? op : DefaultOperator;

    /// <summary>Whether <paramref name="kind"/> is looked for.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><see langword="true"/> when the policy covers it.</returns>
    public bool Covers(PiiKind kind) => Kinds.Count == 0 || Kinds.Contains(kind);

    internal bool UsesHash => DefaultOperator == PiiOperator.Hash || Operators.Values.Contains(PiiOperator.Hash);
}

/// <summary>Finds and masks personal data in column values and free text. Implementations never log the values they see.</summary>
/// <example>
/// <code>
/// var masked = masker.Mask("call +86 13812341234 or mail zhang.san@example.com").Text;
/// // "call +86 138****1234 or mail z***@example.com"
/// </code>
/// </example>
public interface IPiiMasker
{
    /// <summary>Finds personal data in <paramref name="text"/> and applies the policy's operators.</summary>
    /// <param name="text">A column value or free text.</param>
    /// <param name="policy">Kinds and operators; <see langword="null"/> masks every kind with <see cref="PiiOperator.Mask"/>.</param>
    /// <returns>The masked text and what was found.</returns>
    /// <exception cref="InvalidOperationException">The policy uses <see cref="PiiOperator.Hash"/> and no hash key is configured.</exception>
    PiiMaskResult Mask(string text, PiiMaskingPolicy? policy = null);

    /// <summary>Finds personal data without changing the text.</summary>
    /// <param name="text">A column value or free text.</param>
    /// <param name="policy">Kinds to look for; <see langword="null"/> for all.</param>
    /// <returns>The findings, in text order; rejected candidates have <see cref="PiiFinding.Masked"/> = <see langword="false"/>.</returns>
    IReadOnlyList<PiiFinding> Scan(string text, PiiMaskingPolicy? policy = null);

    /// <summary>Masks a value of a declared PII column WHOLE, whatever it holds: the gate, the validator's report samples and the
    /// quarantine file call this for every value of a column in <c>IngestOptions.MaskColumns</c>, so a host's own masker decides the
    /// output everywhere. The result must hold no part of the value except what a recognised kind's mask shape keeps.</summary>
    /// <remarks>The default implementation works for any masker through <see cref="Scan"/> and <see cref="Mask"/>: Redact gives the empty
    /// string; Replace the finding's masked text when the value is one recognised item, else <c>&lt;PII&gt;</c>; Mask and Hash mask each
    /// valid finding through <see cref="Mask"/> and turn every other character into <c>*</c> (Hash of a value that is not one item is
    /// fully starred, as a masker seen only through this interface cannot hash arbitrary text). The built-in masker overrides it and
    /// hashes such values with its key.</remarks>
    /// <param name="value">The raw value.</param>
    /// <param name="op">The column's operator.</param>
    /// <returns>The masked value.</returns>
    /// <exception cref="InvalidOperationException">The operator is Hash and no hash key is configured (the message holds no value).</exception>
    string MaskValue(string value, PiiOperator op)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0 || op == PiiOperator.Redact)
        {
            return string.Empty;
        }

        var policy = PiiMaskingPolicy.For(op);
        var findings = Scan(value, policy);
        var sb = new System.Text.StringBuilder(value.Length);
        var pos = 0;
        var items = 0;
        var firstStart = -1;
        string? last = null;
        foreach (var f in findings)
        {
            if (!f.Masked || f.Start < pos || f.Start + f.Length > value.Length)
            {
                continue;
            }

            items++;
            firstStart = firstStart < 0 ? f.Start : firstStart;
            var raw = value.Substring(f.Start, f.Length);
            var masked = Mask(raw, policy).Text;

            // A masker whose recogniser needs the surrounding context may find nothing in the item alone: never let it through.
            last = string.Equals(masked, raw, StringComparison.Ordinal) ? new string('*', raw.Length) : masked;
            sb.Append('*', f.Start - pos).Append(last);
            pos = f.Start + f.Length;
        }

        if (op == PiiOperator.Replace)
        {
            return items == 1 && value.AsSpan(0, firstStart).IsWhiteSpace() && value.AsSpan(pos).IsWhiteSpace() ? last! : PiiMasker.WholePlaceholder;
        }

        sb.Append('*', value.Length - pos);
        return sb.ToString();
    }
}
