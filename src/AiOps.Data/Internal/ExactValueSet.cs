using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiOps.Data.Internal;

/// <summary>An exact set of text values, for uniqueness: an open-addressing table of 64-bit hashes, each with the location of its
/// value's characters in an append-only arena. A lookup compares hashes first and the characters only when the hashes are equal
/// (the match, or a rare collision), so membership is exact. Per distinct value it keeps 16 bytes of table entry (at a load of at
/// most 1/2, so 16–32 bytes) plus the value's UTF-16 characters and a 4-byte length in the arena — no object per value, which a
/// <see cref="HashSet{T}"/> of strings needs (about 80 bytes for a 10-character value).</summary>
internal sealed class ExactValueSet
{
    private const int PageShift = 20; // 1 Mi characters (2 MiB) per arena page
    private const int PageSize = 1 << PageShift;
    private const ulong Empty = 0;

    private readonly List<char[]> _pages = [];
    private readonly ulong _hashMask;
    private ulong[] _hashes;
    private long[] _refs;
    private int _mask;
    private int _count;
    private char[] _page;
    private int _pageUsed;
    private long _arenaChars;

    /// <param name="capacity">Distinct values expected.</param>
    /// <param name="hashMask">Tests narrow the hash (e.g. to 8 bits) so that most lookups collide and take the exact comparison.</param>
    public ExactValueSet(int capacity = 1024, ulong hashMask = ulong.MaxValue)
    {
        _hashMask = hashMask;
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity * 2));
        _hashes = new ulong[size];
        _refs = new long[size];
        _mask = size - 1;
        _page = new char[Math.Min(PageSize, 4096)];
        _pages.Add(_page);
    }

    /// <summary>Distinct values held.</summary>
    public int Count => _count;

    /// <summary>Bytes held: table plus arena.</summary>
    public long Bytes => (_hashes.LongLength * 16) + (_arenaChars * 2);

    /// <summary>Adds <paramref name="value"/>; <see langword="false"/> when it was already present.</summary>
    public bool Add(ReadOnlySpan<char> value)
    {
        var h = Hash(value) & _hashMask;
        h = h == Empty ? 1 : h;
        var i = (int)h & _mask;
        var hashes = _hashes;
        while (true)
        {
            var slot = hashes[i];
            if (slot == Empty)
            {
                break;
            }

            if (slot == h && Equal(_refs[i], value))
            {
                return false;
            }

            i = (i + 1) & _mask;
        }

        hashes[i] = h;
        _refs[i] = Append(value);
        if (++_count * 2 > hashes.Length)
        {
            Grow();
        }

        return true;
    }

    /// <summary>A 64-bit hash of the characters, never 0 (0 marks an empty slot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Hash(ReadOnlySpan<char> value)
    {
        var bytes = MemoryMarshal.AsBytes(value);
        var h = 0x9E3779B97F4A7C15UL ^ ((ulong)bytes.Length * 0xC2B2AE3D27D4EB4FUL);
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var w in words)
        {
            h = BitOperations.RotateLeft((h ^ w) * 0x9FB21C651E98DF25UL, 29);
        }

        var tail = bytes[(words.Length * 8)..];
        if (tail.Length > 0)
        {
            ulong t = 0;
            for (var j = 0; j < tail.Length; j++)
            {
                t |= (ulong)tail[j] << (8 * j);
            }

            h = BitOperations.RotateLeft((h ^ t) * 0x9FB21C651E98DF25UL, 29);
        }

        // murmur3 finaliser: every input bit reaches the low bits that pick the slot.
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h == Empty ? 1 : h;
    }

    private bool Equal(long location, ReadOnlySpan<char> value)
    {
        var page = _pages[(int)(location >> PageShift)];
        var offset = (int)(location & (PageSize - 1));
        var length = page[offset] | (page[offset + 1] << 16);
        return length == value.Length && page.AsSpan(offset + 2, length).SequenceEqual(value);
    }

    private long Append(ReadOnlySpan<char> value)
    {
        var need = value.Length + 2;
        if (_pageUsed + need > _page.Length)
        {
            if (need > PageSize)
            {
                // A value longer than a page gets a page of its own (its location still fits: offset 0).
                var big = new char[need];
                _pages.Add(big);
                var loc = (long)(_pages.Count - 1) << PageShift;
                Write(big, 0, value);
                _arenaChars += need;
                _page = new char[PageSize];
                _pages.Add(_page);
                _pageUsed = 0;
                return loc;
            }

            if (_page.Length < PageSize && _pages.Count == 1 && _pageUsed + need <= PageSize)
            {
                // The first page starts small and doubles up to a full page, so small sets stay small.
                var larger = new char[Math.Min(PageSize, (int)BitOperations.RoundUpToPowerOf2((uint)(_pageUsed + need)) * 2)];
                _page.AsSpan(0, _pageUsed).CopyTo(larger);
                _page = larger;
                _pages[0] = larger;
            }
            else
            {
                _page = new char[PageSize];
                _pages.Add(_page);
                _pageUsed = 0;
            }
        }

        var location = ((long)(_pages.Count - 1) << PageShift) | (uint)_pageUsed;
        Write(_page, _pageUsed, value);
        _pageUsed += need;
        _arenaChars += need;
        return location;
    }

    private static void Write(char[] page, int offset, ReadOnlySpan<char> value)
    {
        page[offset] = (char)(value.Length & 0xFFFF);
        page[offset + 1] = (char)((uint)value.Length >> 16);
        value.CopyTo(page.AsSpan(offset + 2));
    }

    private void Grow()
    {
        var size = _hashes.Length * 2;
        var hashes = new ulong[size];
        var refs = new long[size];
        var mask = size - 1;
        for (var j = 0; j < _hashes.Length; j++)
        {
            var h = _hashes[j];
            if (h == Empty)
            {
                continue;
            }

            var i = (int)h & mask;
            while (hashes[i] != Empty)
            {
                i = (i + 1) & mask;
            }

            hashes[i] = h;
            refs[i] = _refs[j];
        }

        _hashes = hashes;
        _refs = refs;
        _mask = mask;
    }
}
