namespace AiOps.Data.Pii;

/// <summary>The mainland-China resident identity number (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character.</summary>
internal static class ChinaResidentId
{
    private static readonly int[] Weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string CheckCharacters = "10X98765432";

    /// <summary>Computes the check character for the first 17 digits.</summary>
    /// <param name="first17">The first 17 characters of the number (all digits).</param>
    /// <returns>The check character, <c>0</c>–<c>9</c> or <c>X</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="first17"/> is not 17 digits.</exception>
    public static char ComputeCheckCharacter(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17)
        {
            throw new ArgumentException($"Expected the first 17 digits of a resident ID, got {first17.Length} characters.", nameof(first17));
        }

        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            var d = first17[i] - '0';
            if ((uint)d > 9)
            {
                throw new ArgumentException($"Expected a digit at position {i + 1} of the resident ID.", nameof(first17));
            }

            sum += d * Weights[i];
        }

        return CheckCharacters[sum % 11];
    }

    /// <summary>Whether <paramref name="id"/> is 18 characters with a valid birth date and check character (<c>x</c> is accepted for <c>X</c>).</summary>
    /// <param name="id">The candidate.</param>
    /// <returns><see langword="true"/> when the number is valid.</returns>
    public static bool IsValid(ReadOnlySpan<char> id) => Validate(id) is null;

    /// <summary>Why <paramref name="id"/> is not a valid resident ID, or <see langword="null"/> when it is.</summary>
    internal static string? Validate(ReadOnlySpan<char> id)
    {
        if (id.Length == 15)
        {
            // First generation (1984–1999): 6 region digits, yymmdd of a 19xx birth date, 3 sequence digits; no check character.
            foreach (var c in id)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return "expected 15 digits";
                }
            }

            var y = 1900 + Digits(id.Slice(6, 2));
            var mo = Digits(id.Slice(8, 2));
            var d = Digits(id.Slice(10, 2));
            return mo is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo) ? "invalid birth date" : null;
        }

        if (id.Length != 18)
        {
            return "expected 18 characters";
        }

        for (var i = 0; i < 17; i++)
        {
            if ((uint)(id[i] - '0') > 9)
            {
                return "expected 17 digits before the check character";
            }
        }

        var year = Digits(id.Slice(6, 4));
        var month = Digits(id.Slice(10, 2));
        var day = Digits(id.Slice(12, 2));
        if (year < 1800 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return "invalid birth date";
        }

        var check = char.ToUpperInvariant(id[17]);
        return check == ComputeCheckCharacter(id[..17]) ? null : "invalid check character (ISO 7064 MOD 11-2)";
    }

    private static int Digits(ReadOnlySpan<char> s)
    {
        var v = 0;
        foreach (var c in s)
        {
            v = (v * 10) + (c - '0');
        }

        return v;
    }
}

/// <summary>The Luhn (mod 10) check used by payment-card numbers.</summary>
internal static class Luhn
{
    /// <summary>Whether the digits in <paramref name="number"/> pass the Luhn check. Spaces and dashes are ignored; any other non-digit fails.</summary>
    /// <param name="number">The candidate number.</param>
    /// <returns><see langword="true"/> when it has at least two digits and passes.</returns>
    public static bool IsValid(ReadOnlySpan<char> number)
    {
        var sum = 0;
        var count = 0;
        for (var i = number.Length - 1; i >= 0; i--)
        {
            var c = number[i];
            if (c is ' ' or '-')
            {
                continue;
            }

            var d = c - '0';
            if ((uint)d > 9)
            {
                return false;
            }

            if ((count & 1) == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            count++;
        }

        return count >= 2 && sum % 10 == 0;
    }
}

/// <summary>Payment-card issuer prefixes (IIN ranges) and the lengths each issues, so a Luhn-valid number of another shape (a
/// 13-digit millisecond timestamp, an 18-digit trace id) is not taken for a card.</summary>
internal static class CardIssuer
{
    /// <summary>Whether the digits of <paramref name="number"/> (spaces and dashes ignored) start with a known issuer prefix and have a length that issuer uses.</summary>
    /// <param name="number">The candidate number.</param>
    /// <returns><see langword="true"/> for Visa, Mastercard, American Express, UnionPay, Discover, JCB and Diners Club shapes.</returns>
    public static bool IsKnown(ReadOnlySpan<char> number)
    {
        Span<char> d = stackalloc char[number.Length];
        var n = 0;
        foreach (var c in number)
        {
            if (char.IsAsciiDigit(c))
            {
                d[n++] = c;
            }
        }

        if (n < 13 || n > 19)
        {
            return false;
        }

        var p2 = ((d[0] - '0') * 10) + (d[1] - '0');
        var p3 = (p2 * 10) + (d[2] - '0');
        var p4 = (p3 * 10) + (d[3] - '0');
        return d[0] == '4' ? n is 13 or 16 or 19 // Visa
            : p2 is >= 51 and <= 55 || p4 is >= 2221 and <= 2720 ? n == 16 // Mastercard
            : p2 is 34 or 37 ? n == 15 // American Express
            : p2 == 62 || p4 == 6011 || p2 == 65 || p3 is >= 644 and <= 649 ? n >= 16 // UnionPay, Discover
            : p4 is >= 3528 and <= 3589 ? n >= 16 // JCB
            : (p2 is 36 or 38 or 39 || p3 is >= 300 and <= 305) && n >= 14; // Diners Club
    }
}
