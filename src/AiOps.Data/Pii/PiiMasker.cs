using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AiOps.Data.Pii;

/// <summary>Regex recognisers (source-generated) with validation, overlap resolution and the four operators.</summary>
internal sealed partial class PiiMasker : IPiiMasker
{
    private readonly byte[]? _hashKey;
    private readonly PiiRecognizer[] _custom;
    private readonly Dictionary<string, PiiRecognizer> _customByName;

    public PiiMasker(byte[]? hashKey, IEnumerable<PiiRecognizer>? recognizers = null)
    {
        _hashKey = hashKey is { Length: > 0 } ? hashKey : null;
        _custom = recognizers?.ToArray() ?? [];
        _customByName = new Dictionary<string, PiiRecognizer>(StringComparer.Ordinal);
        foreach (var r in _custom)
        {
            if (!_customByName.TryAdd(r.Name, r))
            {
                throw new ArgumentException($"Two PII recognisers are named '{r.Name}'; expected unique names.", nameof(recognizers));
            }
        }
    }

    /// <summary>The recognisers a team added, in registration order (after the built-in ones).</summary>
    internal IReadOnlyList<PiiRecognizer> CustomRecognizers => _custom;

    internal bool HasHashKey => _hashKey is not null;

    // Priority order: a resident ID beats a card number of the same digits, a mobile number beats a card number.
    private static readonly (PiiKind Kind, Func<Regex> Regex)[] Recognizers =
    [
        (PiiKind.ChinaResidentId, ResidentIdRegex),
        (PiiKind.ChinaMobile, MobileRegex),
        (PiiKind.Email, EmailRegex),
        (PiiKind.IPv6, IPv6Regex),
        (PiiKind.IPv4, IPv4Regex),
        (PiiKind.BankCard, BankCardRegex),
    ];

    // Candidates only (hex groups and colons, an optional dotted IPv4 tail); System.Net.IPAddress decides, so times (12:30:45) and
    // MAC addresses (00:1a:2b:3c:4d:5e) are not addresses.
    [GeneratedRegex(@"(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]{0,4})(?![0-9A-Fa-f:]|\.[0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex IPv6Regex();

    // 18 characters (GB 11643-1999) or the first generation's 15 digits (6 region, yymmdd, 3 sequence; no check character).
    [GeneratedRegex(@"(?<![0-9A-Za-z])(?:[1-9][0-9]{5}(?:18|19|20)[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}[0-9Xx]|[1-9][0-9]{5}[0-9]{2}[01][0-9][0-3][0-9][0-9]{3})(?![0-9A-Za-z])", RegexOptions.CultureInvariant)]
    private static partial Regex ResidentIdRegex();

    // 11 digits 1[3-9]…, solid or grouped 3-4-4 by spaces or dashes, optionally after +86, 0086 or 86 (with or without a separator).
    [GeneratedRegex(@"(?<![0-9+])(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[0-9]{8}|([ -])[0-9]{4}\1[0-9]{4})(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex MobileRegex();

    // Unicode local parts and domains (RFC 6531 / IDN): letters, marks and digits of any script.
    [GeneratedRegex(@"(?<![\p{L}\p{M}\p{N}._%+-])[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.[\p{L}\p{M}]{2,}(?![\p{L}\p{M}\p{N}-])", RegexOptions.CultureInvariant)]
    private static partial Regex EmailRegex();

    [GeneratedRegex(@"(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?!\.?[0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex IPv4Regex();

    // 13–19 digits written solid or in groups (4-4-4-4[-1..4], Amex 4-6-5), so two neighbouring numbers are never glued into one.
    [GeneratedRegex(@"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5})(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex BankCardRegex();

    public IReadOnlyList<PiiFinding> Scan(string text, PiiMaskingPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Find(text, policy ?? PiiMaskingPolicy.Default);
    }

    public PiiMaskResult Mask(string text, PiiMaskingPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        policy ??= PiiMaskingPolicy.Default;
        if (policy.UsesHash && _hashKey is null)
        {
            throw new InvalidOperationException("The PII policy uses the Hash operator but no key is configured: set AiOpsDataOptions.PiiHashKey (at least 16 characters).");
        }

        var findings = Find(text, policy);
        if (findings.Count == 0)
        {
            return new PiiMaskResult(text, findings);
        }

        var sb = new StringBuilder(text.Length);
        var pos = 0;
        foreach (var f in findings)
        {
            if (!f.Masked)
            {
                continue;
            }

            sb.Append(text, pos, f.Start - pos);
            Apply(sb, f, text.AsSpan(f.Start, f.Length), policy);
            pos = f.Start + f.Length;
        }

        sb.Append(text, pos, text.Length - pos);
        return new PiiMaskResult(sb.ToString(), findings);
    }

    /// <summary>Masks a value of a declared PII column WHOLE, whatever it holds: detection only chooses the shape. A recognised value
    /// keeps its kind's shape (<c>138****1234</c>); every character outside a valid finding becomes <c>*</c>, so an unrecognised value
    /// (a name, a bad-checksum ID) is fully starred. Redact gives the empty string, Replace the kind's placeholder (<c>&lt;PII&gt;</c> when
    /// the value is not one recognised item), Hash the HMAC of the normalised item (or of the trimmed value when not one item).</summary>
    /// <param name="value">The raw value.</param>
    /// <param name="op">The column's operator.</param>
    /// <returns>A text that holds no part of the raw value except what the kind's mask shape keeps.</returns>
    /// <exception cref="InvalidOperationException">The operator is Hash and no key is configured (the message holds no value).</exception>
    public string MaskValue(string value, PiiOperator op)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0 || op == PiiOperator.Redact)
        {
            return string.Empty;
        }

        if (op == PiiOperator.Hash && _hashKey is null)
        {
            throw new InvalidOperationException("A column is declared with the Hash PII operator but no key is configured: set AiOpsDataOptions.PiiHashKey (at least 16 characters).");
        }

        var findings = Find(value, PiiMaskingPolicy.Default);
        var single = SingleItem(value, findings);
        switch (op)
        {
            case PiiOperator.Replace:
                return single is { } one ? Placeholder(one) : WholePlaceholder;
            case PiiOperator.Hash:
                return single is { } h ? HashValue(Normalize(h, value.AsSpan(h.Start, h.Length))) : HashValue(value.Trim());
        }

        var sb = new StringBuilder(value.Length);
        var pos = 0;
        foreach (var f in findings)
        {
            if (!f.Masked)
            {
                continue;
            }

            sb.Append('*', f.Start - pos);
            MaskShape(sb, f, value.AsSpan(f.Start, f.Length));
            pos = f.Start + f.Length;
        }

        sb.Append('*', value.Length - pos);
        return sb.ToString();
    }

    /// <summary>The placeholder of a declared column's value that is not one recognised item.</summary>
    internal const string WholePlaceholder = "<PII>";

    /// <summary>The one valid finding that covers the value but for surrounding white space, if any.</summary>
    private static PiiFinding? SingleItem(string value, List<PiiFinding> findings)
    {
        if (findings.Count != 1 || !findings[0].Masked)
        {
            return null;
        }

        var f = findings[0];
        return value.AsSpan(0, f.Start).IsWhiteSpace() && value.AsSpan(f.Start + f.Length).IsWhiteSpace() ? f : null;
    }

    private List<PiiFinding> Find(string text, PiiMaskingPolicy policy)
    {
        var found = new List<PiiFinding>();
        if (text.Length < 3)
        {
            return found; // shorter than the shortest recognisable built-in value (an IPv6 such as ::1)
        }

        foreach (var (kind, regex) in Recognizers)
        {
            if (!policy.Covers(kind) || (text.Length < 7 && kind != PiiKind.IPv6))
            {
                continue; // 7: the shortest IPv4 (1.1.1.1); every other built-in kind is longer
            }

            foreach (var m in regex().EnumerateMatches(text))
            {
                if (Overlaps(found, m.Index, m.Length))
                {
                    continue;
                }

                var value = text.AsSpan(m.Index, m.Length);
                switch (kind)
                {
                    case PiiKind.ChinaResidentId:
                        var problem = ChinaResidentId.Validate(value);
                        if (problem is not null && value.Length == 15)
                        {
                            break; // 15 digits with no valid birth date: not an ID, left to the other recognisers
                        }

                        // An invalid 18-character ID is reported and its span reserved, so no other recogniser masks it as something else.
                        found.Add(new PiiFinding(kind, m.Index, m.Length, problem is null, problem));
                        break;
                    case PiiKind.BankCard:
                        if (Luhn.IsValid(value) && CardIssuer.IsKnown(value))
                        {
                            found.Add(new PiiFinding(kind, m.Index, m.Length, true));
                        }

                        break;
                    case PiiKind.IPv6:
                        if (System.Net.IPAddress.TryParse(value, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                        {
                            found.Add(new PiiFinding(kind, m.Index, m.Length, true));
                        }

                        break;
                    default:
                        found.Add(new PiiFinding(kind, m.Index, m.Length, true));
                        break;
                }
            }
        }

        if (_custom.Length > 0 && policy.Covers(PiiKind.Custom))
        {
            foreach (var r in _custom)
            {
                FindCustom(r, text, found);
            }
        }

        found.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return found;
    }

    private static void FindCustom(PiiRecognizer r, string text, List<PiiFinding> found)
    {
        MatchCollection matches;
        try
        {
            matches = r.Regex.Matches(text);
            _ = matches.Count; // runs the whole match here, inside the timeout guard
        }
        catch (RegexMatchTimeoutException)
        {
            // The text holds no value: the message names the recogniser and the length only. The whole text is reserved, so
            // nothing of it is left unmasked by a recogniser that could not finish.
            found.Add(new PiiFinding(PiiKind.Custom, 0, text.Length, true, $"pattern of recogniser '{r.Name}' timed out on {text.Length} characters") { Recognizer = r.Name });
            return;
        }

        foreach (Match m in matches)
        {
            if (m.Length == 0 || Overlaps(found, m.Index, m.Length) || !r.HasContext(text, m.Index, m.Length))
            {
                continue;
            }

            var ok = r.Validator?.Invoke(m.Value) ?? true;
            found.Add(new PiiFinding(PiiKind.Custom, m.Index, m.Length, ok, ok ? null : $"rejected by the validator of recogniser '{r.Name}'") { Recognizer = r.Name });
        }
    }

    private static bool Overlaps(List<PiiFinding> found, int start, int length)
    {
        foreach (var f in found)
        {
            if (start < f.Start + f.Length && f.Start < start + length)
            {
                return true;
            }
        }

        return false;
    }

    private void Apply(StringBuilder sb, PiiFinding f, ReadOnlySpan<char> value, PiiMaskingPolicy policy)
    {
        switch (policy.OperatorFor(f.Kind))
        {
            case PiiOperator.Redact:
                break;
            case PiiOperator.Replace:
                sb.Append(policy.Replacements.TryGetValue(f.Kind, out var r) ? r : Placeholder(f));
                break;
            case PiiOperator.Hash:
                sb.Append(HashValue(Normalize(f, value)));
                break;
            default:
                MaskShape(sb, f, value);
                break;
        }
    }

    private string Placeholder(PiiFinding f) =>
        f.Kind == PiiKind.Custom ? (f.Recognizer is { } n && _customByName.TryGetValue(n, out var r) ? r.Placeholder : WholePlaceholder) : DefaultPlaceholder(f.Kind);

    internal static string DefaultPlaceholder(PiiKind kind) => kind switch
    {
        PiiKind.ChinaMobile => "<CHINA_MOBILE>",
        PiiKind.ChinaResidentId => "<CHINA_RESIDENT_ID>",
        PiiKind.Email => "<EMAIL>",
        PiiKind.BankCard => "<BANK_CARD>",
        PiiKind.IPv6 => "<IPV6>",
        PiiKind.Custom => WholePlaceholder,
        _ => "<IPV4>",
    };

    private void MaskShape(StringBuilder sb, PiiFinding f, ReadOnlySpan<char> value)
    {
        switch (f.Kind)
        {
            case PiiKind.Custom:
                var keep = f.Masked && f.Problem is null && f.Recognizer is { } name && _customByName.TryGetValue(name, out var rec) ? Math.Min(rec.KeepLast, value.Length / 2) : 0;
                sb.Append('*', value.Length - keep).Append(value[(value.Length - keep)..]);
                break;
            case PiiKind.IPv6:
                // Keep the first two groups (the routing prefix's start) as written; the rest, interface id included, is hidden.
                var first = value.IndexOf(':');
                var secondColon = first + 1 + value[(first + 1)..].IndexOf(':');
                sb.Append(first <= 0 ? [] : secondColon <= first + 1 ? value[..first] : value[..secondColon]).Append("::*");
                break;
            case PiiKind.ChinaMobile:
                // Keep the +86 / 0086 / 86 prefix as written; the 11-digit number, however grouped, becomes 138****1234.
                var start = NationalStart(value);
                var number = Digits(value[start..]);
                sb.Append(value[..start]).Append(number.AsSpan(0, 3)).Append("****").Append(number.AsSpan(7, 4));
                break;
            case PiiKind.ChinaResidentId when value.Length == 15:
                sb.Append(value[..6]).Append('*', 6).Append(value[^3..]);
                break;
            case PiiKind.ChinaResidentId:
                sb.Append(value[..6]).Append('*', 8).Append(value[^4..]);
                break;
            case PiiKind.Email:
                var at = value.IndexOf('@');
                sb.Append(value[0]).Append("***").Append(value[at..]);
                break;
            case PiiKind.BankCard:
                Span<char> digits = stackalloc char[value.Length];
                var n = 0;
                foreach (var c in value)
                {
                    if (char.IsAsciiDigit(c))
                    {
                        digits[n++] = c;
                    }
                }

                sb.Append('*', n - 4).Append(digits[(n - 4)..n]);
                break;
            default:
                var second = value.IndexOf('.') + 1;
                second += value[second..].IndexOf('.');
                sb.Append(value[..second]).Append(".*.*");
                break;
        }
    }

    /// <summary>The canonical form hashed, so the same person hashes alike however the value was written.</summary>
    private static string Normalize(PiiFinding f, ReadOnlySpan<char> value) => f.Kind switch
    {
        PiiKind.IPv6 => System.Net.IPAddress.TryParse(value, out var ip) ? ip.ToString() : value.ToString().ToLowerInvariant(),
        PiiKind.ChinaMobile => Digits(value[NationalStart(value)..]),
        PiiKind.ChinaResidentId => value.ToString().ToUpperInvariant(),
        PiiKind.Email => value.ToString().ToLowerInvariant(),
        PiiKind.BankCard => string.Concat(value.ToString().Where(char.IsAsciiDigit)),
        _ => value.ToString(),
    };

    /// <summary>Where the 11-digit national number starts in a recognised mobile: after the 11th digit counted from the end.</summary>
    private static int NationalStart(ReadOnlySpan<char> value)
    {
        var digits = 0;
        for (var i = value.Length - 1; i >= 0; i--)
        {
            if (char.IsAsciiDigit(value[i]) && ++digits == 11)
            {
                return i;
            }
        }

        return 0;
    }

    private static string Digits(ReadOnlySpan<char> value)
    {
        Span<char> buffer = stackalloc char[value.Length];
        var n = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                buffer[n++] = c;
            }
        }

        return buffer[..n].ToString();
    }

    private string HashValue(string normalized)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_hashKey!, Encoding.UTF8.GetBytes(normalized), mac);
        return Convert.ToHexStringLower(mac);
    }
}
