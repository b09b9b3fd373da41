using System.Globalization;
using AiOps.Data.Internal;

namespace AiOps.Data.Tests;

/// <summary>The exact uniqueness set agrees with a <see cref="HashSet{T}"/> of strings value for value, also when hashes collide.</summary>
public sealed class ExactValueSetTests
{
    [Theory]
    [InlineData(ulong.MaxValue)] // the real hash
    [InlineData(0xFFUL)]         // 255 hashes for thousands of values: almost every lookup collides and compares characters
    [InlineData(0UL)]            // every value the same hash
    public void Add_AgreesWithHashSet_OnSeededValues(ulong mask)
    {
        var rnd = new Random(23);
        var set = new ExactValueSet(hashMask: mask);
        var reference = new HashSet<string>(StringComparer.Ordinal);
        var count = mask == 0 ? 2_000 : 60_000;
        for (var i = 0; i < count; i++)
        {
            // Short codes, ids, near-duplicates that differ in one char or only in length, the empty string, non-ASCII.
            var value = rnd.Next(6) switch
            {
                0 => rnd.Next(500).ToString(CultureInfo.InvariantCulture),
                1 => "user" + rnd.Next(20_000).ToString(CultureInfo.InvariantCulture) + "@example.com",
                2 => new string('a', rnd.Next(0, 40)),
                3 => "名字" + rnd.Next(3000).ToString(CultureInfo.InvariantCulture),
                4 => string.Empty,
                _ => Guid.NewGuid().ToString("N")[..rnd.Next(1, 32)],
            };
            Assert.Equal(reference.Add(value), set.Add(value));
        }

        Assert.Equal(reference.Count, set.Count);
        foreach (var v in reference)
        {
            Assert.False(set.Add(v));
        }
    }

    [Fact]
    public void Add_DigitOnlyValues_PackedExactly_LeadingZerosAndLengthsKeptApart()
    {
        var set = new ExactValueSet();
        string[] distinct = ["7", "07", "007", "0", "00", "70", "134217727", "134217728", "0134217727", "9000000000", "12345678901234567", "012345678901234567", "99999999999999999", "999999999999999999", "1a", "-7", "7 "];
        foreach (var v in distinct)
        {
            Assert.True(set.Add(v), v);
        }

        foreach (var v in distinct)
        {
            Assert.False(set.Add(new string(v.AsSpan())), v);
        }

        Assert.Equal(distinct.Length, set.Count);

        // Many numeric ids with repeats, through the packed table's growth, against a HashSet.
        var rnd = new Random(9);
        var reference = new HashSet<string>(distinct, StringComparer.Ordinal);
        for (var i = 0; i < 200_000; i++)
        {
            var v = rnd.Next(4) switch
            {
                0 => rnd.Next(150_000).ToString("D6", CultureInfo.InvariantCulture), // leading zeros: the packed table
                1 => rnd.Next(200_000_000).ToString(CultureInfo.InvariantCulture),    // around the bitmap's 2^27 limit
                2 => rnd.Next(300_000).ToString(CultureInfo.InvariantCulture),        // serial ids: the bitmap
                _ => rnd.NextInt64(0, 100_000_000_000_000_000).ToString(CultureInfo.InvariantCulture),
            };
            Assert.Equal(reference.Add(v), set.Add(v));
        }

        Assert.Equal(reference.Count, set.Count);
    }

    [Fact]
    public void Add_ValuesLongerThanAnArenaPage_AreKeptExactly()
    {
        var set = new ExactValueSet();
        var big = new string('x', 1_500_000);
        var big2 = new string('x', 1_499_999) + "y";
        Assert.True(set.Add(big));
        Assert.True(set.Add(big2));
        Assert.True(set.Add("small"));
        Assert.False(set.Add(new string('x', 1_500_000)));
        Assert.False(set.Add("small"));
        Assert.True(set.Bytes > 2 * 3_000_000);
    }

    [Fact]
    public void UniqueRule_OverManyValues_FlagsExactlyTheRepeats()
    {
        var rnd = new Random(5);
        var values = Enumerable.Range(0, 50_000).Select(_ => rnd.Next(40_000).ToString(CultureInfo.InvariantCulture)).ToList();
        var expected = values.Count - values.Distinct(StringComparer.Ordinal).Count();
        var r = Validate.Column("id", values, c => c.Unique(mostly: 0)).Rule("id.unique");
        Assert.Equal(expected, r.Unexpected);
    }
}
