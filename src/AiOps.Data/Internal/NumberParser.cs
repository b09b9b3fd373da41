using System.Globalization;

namespace AiOps.Data.Internal;

/// <summary>Parses decimal numbers from spans. Plain decimals of up to 15 significant digits take an exact fast path
/// (the mantissa and the power of ten are both exact doubles, so one division is correctly rounded — Clinger's fast path);
/// exponents and longer mantissas fall back to <see cref="double.TryParse(ReadOnlySpan{char}, NumberStyles, IFormatProvider?, out double)"/>.
/// One grammar for integers and decimals alike: an optional sign, digits with an optional '.' and fraction, an optional exponent.
/// White space around the number, thousands separators, NaN and infinity are refused for both (<c>"42 "</c>, <c>" 1e3"</c>,
/// <c>"1,000"</c>, <c>"NaN"</c> and <c>"inf"</c> are text), so a value's type never depends on whether it has an exponent.</summary>
internal static class NumberParser
{
    private static readonly double[] Pow10 =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    ];

    public static bool TryParse(ReadOnlySpan<char> s, out double value, out bool isInteger)
    {
        var i = 0;
        var negative = false;
        if ((uint)s.Length > 0)
        {
            if (s[0] == '-')
            {
                negative = true;
                i = 1;
            }
            else if (s[0] == '+')
            {
                i = 1;
            }
        }

        // Integer digits, then an optional '.' and fraction digits: no per-character state tests.
        ulong mantissa = 0;
        var digits = 0;
        var fraction = 0;
        var dot = false;
        uint d;
        while (i < s.Length && (d = (uint)(s[i] - '0')) <= 9)
        {
            mantissa = (mantissa * 10) + d;
            i++;
            digits++;
        }

        if (i < s.Length && s[i] == '.')
        {
            dot = true;
            var first = ++i;
            while (i < s.Length && (d = (uint)(s[i] - '0')) <= 9)
            {
                mantissa = (mantissa * 10) + d;
                i++;
            }

            fraction = i - first;
            digits += fraction;
        }

        if (i < s.Length)
        {
            if ((s[i] | 0x20) == 'e' && digits > 0)
            {
                return Slow(s, out value, out isInteger); // an exponent: let the BCL round it
            }

            if (digits <= 15)
            {
                // Text (names, dates, e-mails) is rejected at its first non-numeric character, without the BCL parser's cost.
                value = 0;
                isInteger = false;
                return false;
            }
        }

        if (digits > 15)
        {
            return Slow(s, out value, out isInteger);
        }

        if (digits == 0)
        {
            value = 0;
            isInteger = false;
            return false;
        }

        double v = mantissa;
        if (fraction > 0)
        {
            v /= Pow10[fraction];
        }

        value = negative ? -v : v;
        isInteger = !dot;
        return true;
    }

    // NumberStyles.Float without AllowLeadingWhite / AllowTrailingWhite: the fast path accepts no white space either.
    private const NumberStyles Strict = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    private static bool Slow(ReadOnlySpan<char> s, out double value, out bool isInteger)
    {
        if (double.TryParse(s, Strict, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
        {
            isInteger = s.IndexOfAny('.', 'e', 'E') < 0;
            return true;
        }

        value = 0;
        isInteger = false;
        return false;
    }
}
