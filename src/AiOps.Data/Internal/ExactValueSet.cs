using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiOps.Data.Internal;

/// <summary>An exact set of text values, for uniqueness: an open-addressing table of 64-bit hashes, each with the location of its
/// value's characters in an append-only arena. A lookup compares hashes first and the characters only when the hashes are equal
/// (the match, or a rare collision), so membership is exact. Per distinct value it keeps an 8-byte slot (hash tag + index, at a load of
/// at most 1/2, so 16–32 bytes), an 8-byte location (8–16 with the array's growth) and the value's UTF-16 characters and a 4-byte
/// length in the arena — no object per value, which a
/// <see cref="HashSet{T}"/> of strings needs (about 80 bytes for a 10-character value). Values of at most 17 decimal digits (numeric
/// ids, the common key) are packed exactly into one 64-bit key in a table of their own: 8 bytes per entry, 8–16 per value; canonical
/// integers below 2^27 are bits of a bitmap instead (1 bit per possible value up to the largest seen).</summary>
internal sealed class ExactValueSet
{
    private const int PageShift = 20; // 1 Mi characters (2 MiB) per arena page
    private const int PageSize = 1 << PageShift;
    private const ulong Empty = 0;

    private readonly List<char[]> _pages = [];
    private readonly ulong _hashMask;
    // Slots hold the hash's high 32 bits (a tag) and the 1-based index of the value's location; locations are appended in order.
    // An insert touches one 8-byte slot at random and appends sequentially (a table of full entries would write 16 bytes at random).
    private ulong[] _slots;
    private long[] _locations;
    private int _mask;
    private int _count;

    // Values that are decimal digits only, at most 17 of them, are keys of their own: the number and the digit count packed into one
    // 64-bit integer identify the text exactly ("007" and "7" differ in the count), so they need no hash, arena or comparison.
    private ulong[] _packed;
    private int _packedMask;
    private int _packedCount;

    // Canonical decimal integers (no leading zero) below 2^27 — row numbers, serial ids — are bits of a bitmap as large as the largest
    // seen (at most 16 MiB): 1 bit per possible id, and for 1 M serial ids 128 KiB that stays in cache, where a table's random probes miss.
    private const int MaxDense = 1 << 27;
    private ulong[] _dense = new ulong[64];
    private char[] _page;
    private int _pageUsed;
    private long _arenaChars;

    /// <param name="capacity">Distinct values expected.</param>
    /// <param name="hashMask">Tests narrow the hash (e.g. to 8 bits) so that most lookups collide and take the exact comparison.</param>
    public ExactValueSet(int capacity = 1024, ulong hashMask = ulong.MaxValue)
    {
        _hashMask = hashMask;
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity * 2));
        _slots = new ulong[size];
        _locations = new long[Math.Max(16, capacity)];
        _mask = size - 1;
        _packed = new ulong[size];
        _packedMask = size - 1;
        _page = new char[Math.Min(PageSize, 4096)];
        _pages.Add(_page);
    }

    /// <summary>Distinct values held.</summary>
    public int Count => _count + _packedCount;

    /// <summary>Bytes held: tables plus arena.</summary>
    public long Bytes => (_slots.LongLength * 8) + (_locations.LongLength * 8) + (_packed.LongLength * 8) + (_dense.LongLength * 8) + (_arenaChars * 2);

    /// <summary>Adds <paramref name="value"/>; <see langword="false"/> when it was already present.</summary>
    public bool Add(ReadOnlySpan<char> value)
    {
        if (_hashMask == ulong.MaxValue && TryPack(value, out var key))
        {
            var number = (key - 1) >> 5;
            return number < MaxDense && (value[0] != '0' || value.Length == 1) ? AddDense((int)number) : AddPacked(key);
        }

        var h = Hash(value) & _hashMask;
        var tag = (ulong)(uint)(h >> 32) << 32;
        var slots = _slots;
        var i = (int)h & _mask;
        while (true)
        {
            var slot = slots[i];
            if (slot == Empty)
            {
                break;
            }

            if ((slot & 0xFFFFFFFF00000000UL) == tag && Equal(_locations[(int)(uint)slot - 1], value))
            {
                return false;
            }

            i = (i + 1) & _mask;
        }

        if (_count == _locations.Length)
        {
            Array.Resize(ref _locations, _count * 2);
        }

        _locations[_count] = Append(value);
        slots[i] = tag | (uint)(_count + 1);
        if (++_count * 2 > slots.Length)
        {
            Grow();
        }

        return true;
    }

    /// <summary>1–17 ASCII digits as (number · 32 + digit count) + 1, never 0; anything else is not packed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryPack(ReadOnlySpan<char> value, out ulong key)
    {
        key = 0;
        if (value.IsEmpty || value.Length > 17)
        {
            return false;
        }

        ulong n = 0;
        foreach (var c in value)
        {
            var d = (uint)(c - '0');
            if (d > 9)
            {
                return false;
            }

            n = (n * 10) + d;
        }

        key = (n << 5 | (uint)value.Length) + 1;
        return true;
    }

    private bool AddDense(int number)
    {
        var word = number >> 6;
        if (word >= _dense.Length)
        {
            Array.Resize(ref _dense, (int)Math.Min(MaxDense / 64, BitOperations.RoundUpToPowerOf2((uint)word + 1)));
        }

        var bit = 1UL << (number & 63);
        ref var w = ref _dense[word];
        if ((w & bit) != 0)
        {
            return false;
        }

        w |= bit;
        _packedCount++;
        return true;
    }

    private bool AddPacked(ulong key)
    {
        var table = _packed;
        var i = (int)Mix(key) & _packedMask;
        while (true)
        {
            var slot = table[i];
            if (slot == key)
            {
                return false;
            }

            if (slot == Empty)
            {
                break;
            }

            i = (i + 1) & _packedMask;
        }

        table[i] = key;
        if (++_packedCount * 2 > table.Length)
        {
            var size = table.Length * 2;
            var grown = new ulong[size];
            var mask = size - 1;
            foreach (var k in table)
            {
                if (k == Empty)
                {
                    continue;
                }

                var j = (int)Mix(k) & mask;
                while (grown[j] != Empty)
                {
                    j = (j + 1) & mask;
                }

                grown[j] = k;
            }

            _packed = grown;
            _packedMask = mask;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        return h;
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

        var rest = bytes.Length & 7;
        if (rest != 0)
        {
            // The last bytes in at most two reads (overlapping the words when the value has any; the length is in the seed).
            ulong t = bytes.Length >= 8
                ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..])
                : rest >= 4
                    ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes) | ((ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) << 32)
                    : System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes) | ((ulong)bytes[^1] << 16);
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

    private bool Equal(long location, ReadOnlySpan<char> value) => Value(location).SequenceEqual(value);

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

    /// <summary>Doubles the slots, re-hashing each value from the arena (read in append order, so sequentially).</summary>
    private void Grow()
    {
        var size = _slots.Length * 2;
        var slots = new ulong[size];
        var mask = size - 1;
        for (var idx = 0; idx < _count; idx++)
        {
            var h = Hash(Value(_locations[idx])) & _hashMask;
            var i = (int)h & mask;
            while (slots[i] != Empty)
            {
                i = (i + 1) & mask;
            }

            slots[i] = ((ulong)(uint)(h >> 32) << 32) | (uint)(idx + 1);
        }

        _slots = slots;
        _mask = mask;
    }

    private ReadOnlySpan<char> Value(long location)
    {
        var page = _pages[(int)(location >> PageShift)];
        var offset = (int)(location & (PageSize - 1));
        var length = page[offset] | (page[offset + 1] << 16);
        return page.AsSpan(offset + 2, length);
    }
}
