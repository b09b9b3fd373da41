using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using AiOps.Data.Internal;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>The throughput fast paths give exactly what the straightforward code gives.</summary>
public sealed class FastPathTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void HyperLogLogHash_EveryLengthUpTo40_EqualsByteLoopReference()
    {
        var rng = new Random(3);
        for (var length = 0; length <= 40; length++)
        {
            for (var k = 0; k < 50; k++)
            {
                var chars = new char[length];
                for (var i = 0; i < length; i++)
                {
                    chars[i] = (char)rng.Next(0, 0x10000);
                }

                Assert.Equal(ReferenceHash(chars), HyperLogLog.Hash(chars));
            }
        }
    }

    [Theory]
    [InlineData("1.")]
    [InlineData("-.5")]
    [InlineData("+0.000")]
    [InlineData("1234567890123456")] // 16 digits: the BCL path
    [InlineData("1.234567890123456")]
    [InlineData("12345678901234.5")]
    [InlineData("2E3")]
    [InlineData("007")]
    public void NumberParser_EdgeCases_MatchDoubleParse(string text)
    {
        Assert.True(NumberParser.TryParse(text, out var v, out var integer));
        Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), v);
        Assert.Equal(text.IndexOfAny(['.', 'e', 'E']) < 0, integer);
    }

    [Theory]
    [InlineData("+")]
    [InlineData("e5")]
    [InlineData(".e5")]
    [InlineData("1..2")]
    [InlineData("1-2")]
    [InlineData("12345678901234567x")]
    [InlineData("2024-05-01")]
    [InlineData("user1@example.com")]
    public void NumberParser_EdgeNonNumbers_Rejected(string text) => Assert.False(NumberParser.TryParse(text, out _, out _));

    [Fact]
    public void InSet_ShortCodes_MatchOnlyEqualValues()
    {
        var csv = new StringBuilder("id,code\n");
        string[] values = ["a", "ab", "abc", "abcd", "abcde", "b", "ba", "abd", "abce", "", "a\0", "cat1", "cat10"];
        for (var i = 0; i < values.Length; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{i},\"{values[i]}\"\n");
        }

        var allowed = new[] { "a", "abc", "abcd", "abcde", "cat1" };
        var report = Validate.Run(DataSource.FromCsv(_h.WriteFile("s.csv", csv.ToString())),
            RuleSet.Create("s").Key("id").Column("code", c => c.InSet(allowed, mostly: 0)).Build());

        var failing = report.Rule("code.in_set").FailingRows.Select(f => f.Key).ToList();
        var expected = Enumerable.Range(0, values.Length).Where(i => values[i].Length > 0 && !allowed.Contains(values[i]))
            .Select(i => (string?)i.ToString(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(expected, failing);
    }

    [Fact]
    public void Fields_QuotedEscapedAndMultiLine_ReachRulesUnescaped()
    {
        const string csv = "id,note,n\n1,\"say \"\"hi\"\"\",5\n2,\"two\nlines\",6\n3,plain,7\n4,,8\n5,\"\",9\n";
        var seen = new List<string>();
        var report = Validate.Run(DataSource.FromCsv(_h.WriteFile("q.csv", csv)), RuleSet.Create("q").Key("id")
            .Column("note", c => c.Must("record", v =>
            {
                seen.Add(v.ToString());
                return true;
            }))
            .Column("n", c => c.Between(5, 9))
            .Build());

        Assert.Equal(["say \"hi\"", "two\nlines", "plain"], seen); // empty fields are nulls, which the rule skips
        Assert.Equal(5, report.RowsChecked);
        Assert.Equal(0, report.RowsFailed);
        Assert.Equal(7, report.Columns.Single(c => c.Name == "n").Mean);
    }

    private static ulong ReferenceHash(ReadOnlySpan<char> value)
    {
        const ulong c1 = 0x87c37b91114253d5UL;
        const ulong c2 = 0x4cf5ad432745937fUL;
        var bytes = MemoryMarshal.AsBytes(value);
        var h = 0x9E3779B97F4A7C15UL ^ (ulong)bytes.Length;
        while (bytes.Length >= 8)
        {
            var k = BinaryPrimitives.ReadUInt64LittleEndian(bytes) * c1;
            k = BitOperations.RotateLeft(k, 31) * c2;
            h = (BitOperations.RotateLeft(h ^ k, 27) * 5) + 0x52dce729;
            bytes = bytes[8..];
        }

        if (!bytes.IsEmpty)
        {
            ulong tail = 0;
            for (var i = bytes.Length - 1; i >= 0; i--)
            {
                tail = (tail << 8) | bytes[i];
            }

            h ^= BitOperations.RotateLeft(tail * c1, 31) * c2;
        }

        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
