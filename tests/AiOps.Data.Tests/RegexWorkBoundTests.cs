using AiOps.Data.Internal;

namespace AiOps.Data.Tests;

public sealed class RegexWorkBoundTests
{
    [Theory]
    [InlineData(@"^[^@\s]+@[^@\s]+\.[a-z]+$", 60)]
    [InlineData(@"^[A-Z]{2}-\d{3}$", 1000)]
    [InlineData(@"^1[3-9]\d{9}$", 1000)]
    [InlineData(@"^\d+(?:\.\d+)?$", -1)]
    public void MaxSafeLength_FlatPatterns_AllowAtLeastTheirTypicalFieldLengths(string pattern, int atLeast)
    {
        var max = RegexWorkBound.MaxSafeLength(pattern);

        if (atLeast < 0)
        {
            Assert.Equal(-1, max);
        }
        else
        {
            Assert.True(max >= atLeast, $"{pattern}: {max}");
        }
    }

    [Theory]
    [InlineData(@"^(a+)+$")] // nested quantifier: exponential
    [InlineData(@"^(a|a)*$")] // quantified alternation
    [InlineData(@"^a|b$")] // alternation
    [InlineData(@"^(\w)\1$")] // backreference (inside a group)
    [InlineData(@"^\w\k<x>$")] // named backreference
    [InlineData(@"^(?=a)a$")] // lookahead
    [InlineData(@"(?i)^a+$")] // inline options
    [InlineData(@"^[]a]+$")] // a leading ']' in a class
    [InlineData(@"^[a-z-[aeiou]]+$")] // class subtraction
    [InlineData(@"^\p{L}+$")] // Unicode category
    [InlineData(@"^a{x(b+)+}$")] // '{' that is literal text, hiding a group
    [InlineData(@"^a\")] // dangling escape
    [InlineData(@"^a[bc")] // unterminated class
    public void MaxSafeLength_PatternsItCannotBound_AreRejected(string pattern)
    {
        Assert.Equal(-1, RegexWorkBound.MaxSafeLength(pattern));
    }

    [Fact]
    public void MaxSafeLength_ManyAdjacentQuantifiers_OnlyShortInputsSkipTheTimeout()
    {
        // Eight overlapping quantifiers backtrack polynomially with degree 8: only very short inputs are provably quick.
        var max = RegexWorkBound.MaxSafeLength(@"^\d*\d*\d*\d*\d*\d*\d*\d*x$");

        Assert.InRange(max, 0, 10);
        Assert.True(Math.Pow(max + 1, 8) * (27 + max) <= RegexWorkBound.StepBudget);
    }

    [Fact]
    public void MaxSafeLength_UnanchoredPattern_CountsEveryStartPosition()
    {
        Assert.True(RegexWorkBound.MaxSafeLength(@"[a-z]+@[a-z]+") < RegexWorkBound.MaxSafeLength(@"^[a-z]+@[a-z]+"));
    }

    [Fact]
    public void RegexRule_FieldsShorterAndLongerThanTheSafeLength_MatchTheSameWay()
    {
        const string pattern = @"^[^@\s]+@[^@\s]+\.[a-z]+$";
        var safe = RegexWorkBound.MaxSafeLength(pattern);
        var shortGood = "a@b.cn";
        var longGood = new string('u', safe + 10) + "@example.com";
        var longBad = new string('u', safe + 10) + "@example";
        string[] values = [shortGood, "a b@c.cn", longGood, longBad];

        var r = Validate.Column("v", values, c => c.Matches(pattern, mostly: 0.1)).Rule("v.regex");

        Assert.Equal(4, r.Evaluated);
        Assert.Equal(2, r.Unexpected);
        Assert.Equal([2L, 4], r.FailingRows.Select(f => f.Row));
    }
}
