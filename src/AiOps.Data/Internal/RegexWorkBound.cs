namespace AiOps.Data.Internal;

/// <summary>
/// Proves, for simple patterns, that a backtracking match of a short input cannot take long, so the rule can skip the
/// match timeout (whose bookkeeping costs tens of nanoseconds per field) without giving up ReDoS safety.
/// </summary>
/// <remarks>
/// A pattern qualifies when it is "flat": a sequence of single-character atoms (literals, escapes such as <c>\d</c>,
/// character classes, <c>.</c>) and anchors, with no groups, alternation, backreferences or lookarounds. Its only
/// backtracking choices are the counts of its q variable quantifiers (<c>*</c>, <c>+</c>, <c>?</c>, <c>{n,}</c>, <c>{n,m}</c>), each at
/// most n + 1 for an input of n characters, so one start position explores at most (n + 1)^q count choices, each checked
/// in at most (pattern length + n) steps; without a leading <c>^</c> every one of the n + 1 start positions may do so.
/// <see cref="MaxSafeLength"/> is the longest input whose bound stays under <see cref="StepBudget"/> (about 10 ms of
/// matching at worst); longer inputs, and patterns that do not qualify, keep the timeout. The scan is conservative:
/// anything it does not fully understand disqualifies the pattern.
/// </remarks>
internal static class RegexWorkBound
{
    /// <summary>The most matcher steps allowed without a timeout.</summary>
    public const double StepBudget = 2e7;

    private const int LengthCap = 4096;

    private static readonly System.Buffers.SearchValues<char> s_countChars = System.Buffers.SearchValues.Create("0123456789,");

    /// <summary>The longest input that may be matched without a timeout; -1 when the pattern does not qualify.</summary>
    public static int MaxSafeLength(string pattern)
    {
        if (!TryCountQuantifiers(pattern, out var quantifiers, out var anchoredAtStart))
        {
            return -1;
        }

        var safe = -1;
        for (var n = 0; n <= LengthCap; n++)
        {
            var combinations = Math.Pow(n + 1, quantifiers) * (anchoredAtStart ? 1 : n + 1);
            if (combinations * (pattern.Length + n) > StepBudget)
            {
                break;
            }

            safe = n;
        }

        return safe;
    }

    private static bool TryCountQuantifiers(string pattern, out int quantifiers, out bool anchoredAtStart)
    {
        quantifiers = 0;
        anchoredAtStart = pattern.StartsWith('^');
        var afterQuantifier = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '(' or ')' or '|':
                    return false; // groups (and with them lookarounds, inline options, nested quantifiers) and alternation
                case '\\':
                    if (i + 1 >= pattern.Length)
                    {
                        return false;
                    }

                    var e = pattern[++i];
                    if (char.IsDigit(e) || e is 'k' or 'p' or 'P' or 'G' or 'A' or 'Z' or 'z' or 'b' or 'B')
                    {
                        return false; // backreferences, Unicode categories (multi-character syntax) and anchors other than ^ $
                    }

                    afterQuantifier = false;
                    break;
                case '[':
                    if (!TrySkipClass(pattern, ref i))
                    {
                        return false;
                    }

                    afterQuantifier = false;
                    break;
                case '*' or '+' or '{':
                    if (c == '{')
                    {
                        var close = pattern.IndexOf('}', i);
                        if (close < 0 || close == i + 1 || !char.IsAsciiDigit(pattern[i + 1]) || pattern.AsSpan(i + 1, close - i - 1).ContainsAnyExcept(s_countChars))
                        {
                            return false; // only "{n}", "{n,}" and "{n,m}" (anything else would be literal text to scan)
                        }

                        var variable = pattern.AsSpan(i, close - i).Contains(',');
                        i = close;
                        if (!variable)
                        {
                            afterQuantifier = true; // "{n}" repeats a fixed number of times: no choice to backtrack over
                            break;
                        }
                    }

                    quantifiers++;
                    afterQuantifier = true;
                    break;
                case '?':
                    if (!afterQuantifier)
                    {
                        quantifiers++; // "x?" (a "?" after a quantifier only makes it lazy)
                    }

                    afterQuantifier = false;
                    break;
                case '^':
                    if (i != 0)
                    {
                        return false;
                    }

                    break;
                default:
                    afterQuantifier = false;
                    break;
            }
        }

        return true;
    }

    /// <summary>Moves <paramref name="i"/> from a class's <c>[</c> to its <c>]</c>; <see langword="false"/> for anything unusual.</summary>
    private static bool TrySkipClass(string pattern, ref int i)
    {
        var j = i + 1;
        if (j < pattern.Length && pattern[j] == '^')
        {
            j++;
        }

        if (j < pattern.Length && pattern[j] == ']')
        {
            return false; // a leading literal ']'
        }

        for (; j < pattern.Length; j++)
        {
            switch (pattern[j])
            {
                case '\\':
                    if (j + 1 >= pattern.Length || pattern[j + 1] is 'p' or 'P')
                    {
                        return false;
                    }

                    j++;
                    break;
                case '[':
                    return false; // class subtraction
                case ']':
                    i = j;
                    return true;
            }
        }

        return false;
    }
}
