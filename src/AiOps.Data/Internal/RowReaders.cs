using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Sylvan.Data.Csv;

namespace AiOps.Data.Internal;

/// <summary>A forward-only row cursor the engine reads (CSV or in-memory records).</summary>
internal interface IRowReader : IDisposable
{
    IReadOnlyList<string> Columns { get; }

    /// <summary>The 1-based physical line where the current record starts (the record number for in-memory data).</summary>
    long Line { get; }

    /// <summary>The 1-based data-row number.</summary>
    long Row { get; }

    int RowFieldCount { get; }

    /// <summary>Whether the record held bytes that are not valid UTF-8.</summary>
    bool InvalidEncoding { get; }

    bool Read();

    ReadOnlySpan<char> GetField(int ordinal);
}

/// <summary>Per-row state shared by the statistics and the rules: each field is classified and parsed once.</summary>
internal sealed class RowContext
{
    private readonly Dictionary<string, int> _ordinals;

    public RowContext(IRowReader reader)
    {
        Reader = reader;
        var n = reader.Columns.Count;
        IsNull = new bool[n];
        IsNumber = new bool[n];
        IsInteger = new bool[n];
        Number = new double[n];
        _ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            _ordinals.TryAdd(reader.Columns[i], i);
        }
    }

    public IRowReader Reader { get; }

    public bool[] IsNull { get; }

    public bool[] IsNumber { get; }

    public bool[] IsInteger { get; }

    public double[] Number { get; }

    public int Ordinal(string column) => _ordinals.TryGetValue(column, out var i)
        ? i
        : throw new ArgumentException($"Column '{column}' not found; the data has: {string.Join(", ", Reader.Columns)}.", nameof(column));

    public int TryOrdinal(string column) => _ordinals.TryGetValue(column, out var i) ? i : -1;
}

internal sealed class CsvRowReader : IRowReader
{
    private readonly CsvDataReader _csv;
    private readonly string _name;
    private long _nextLine = 2;
    private (int Start, int Length)[] _fields = new (int, int)[16];
    private char[] _chars = new char[256];
    private int _fieldCount;

    public CsvRowReader(Stream stream, string name, char delimiter, int bufferSize)
    {
        _name = name;
        var text = new StreamReader(stream, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: false);
        try
        {
            _csv = CsvDataReader.Create(text, new CsvDataReaderOptions
            {
                HasHeaders = true,
                Delimiter = delimiter,
                Comment = '\0', // a line starting with '#' is data, never a silently skipped comment
                BufferSize = bufferSize,
                MaxBufferSize = Math.Max(bufferSize, 1 << 24),
                OwnsReader = true,
            });
        }
        catch (CsvFormatException e)
        {
            text.Dispose();
            throw new Quality.MalformedCsvException(name, 1, "the header row could not be parsed: " + e.Message, e);
        }

        var columns = new string[_csv.FieldCount];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = _csv.GetName(i);
        }

        Columns = columns;
    }

    public IReadOnlyList<string> Columns { get; }

    public long Line { get; private set; }

    public long Row { get; private set; }

    public int RowFieldCount => _csv.RowFieldCount;

    public bool InvalidEncoding { get; private set; }

    public bool Read()
    {
        bool more;
        try
        {
            more = _csv.Read();
        }
        catch (CsvFormatException e)
        {
            throw new Quality.MalformedCsvException(_name, _nextLine,
                $"{e.Message} Expected RFC 4180 quoting: a quoted field must end with a quote followed by the delimiter or a line end, and a quote inside it doubled.", e);
        }

        if (!more)
        {
            _fieldCount = 0;
            return false;
        }

        Row++;
        Line = _nextLine;
        var raw = _csv.GetRawRecordSpan();
        if (raw.IndexOfAny('\n', '\uFFFD') < 0)
        {
            // The common record: one line, valid UTF-8 — one vectorised scan instead of two.
            _nextLine++;
            InvalidEncoding = false;
            CacheFields();
            return true;
        }

        var newLines = raw.Count('\n');
        _nextLine += newLines == 0 ? 1 : newLines;
        InvalidEncoding = raw.Contains('\uFFFD');
        CacheFields();
        return true;
    }

    /// <summary>Reads every field of the current record from the CSV reader once and keeps them in a private buffer:
    /// the engine reads each field at least twice (statistics, then rules), and a lookup here is a fraction of the
    /// CSV reader's per-field bookkeeping. The spans are exactly those the CSV reader returns.</summary>
    private void CacheFields()
    {
        var count = _csv.RowFieldCount;
        if (_fields.Length < count)
        {
            _fields = new (int, int)[Math.Max(count, _fields.Length * 2)];
        }

        // Fields are read first (a quoted field may be unescaped in place), then the record's characters are copied.
        // Unquoted fields lie inside the raw record and are stored as offsets into its copy; any other field is
        // appended after it.
        var raw = _csv.GetRawRecordSpan();
        ref var rawStart = ref MemoryMarshal.GetReference(raw);
        var extra = raw.Length;
        var outside = false;
        for (var i = 0; i < count; i++)
        {
            var field = _csv.GetFieldSpan(i);
            var offset = Unsafe.ByteOffset(ref rawStart, ref MemoryMarshal.GetReference(field)) / sizeof(char);
            if (offset >= 0 && offset + field.Length <= raw.Length)
            {
                _fields[i] = ((int)offset, field.Length);
            }
            else
            {
                _fields[i] = (-1, field.Length); // copied below, after the raw record
                extra += field.Length;
                outside = true;
            }
        }

        if (_chars.Length < extra)
        {
            _chars = new char[Math.Max(extra, _chars.Length * 2)];
        }

        _csv.GetRawRecordSpan().CopyTo(_chars);
        var next = raw.Length;
        if (outside)
        {
            for (var i = 0; i < count; i++)
            {
                if (_fields[i].Start < 0)
                {
                    _csv.GetFieldSpan(i).CopyTo(_chars.AsSpan(next));
                    _fields[i] = (next, _fields[i].Length);
                    next += _fields[i].Length;
                }
            }
        }

        _fieldCount = count;
    }

    public ReadOnlySpan<char> GetField(int ordinal)
    {
        if ((uint)ordinal < (uint)_fieldCount)
        {
            var (start, length) = _fields[ordinal];
            return new ReadOnlySpan<char>(_chars, start, length);
        }

        return _csv.GetFieldSpan(ordinal);
    }

    public void Dispose() => _csv.Dispose();
}

internal sealed class RecordRowReader : IRowReader
{
    private readonly IEnumerator<IReadOnlyList<object?>> _rows;
    private string[] _current = [];
    private int _count;

    public RecordRowReader(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        Columns = columns;
        _rows = rows.GetEnumerator();
    }

    public IReadOnlyList<string> Columns { get; }

    public long Line => Row;

    public long Row { get; private set; }

    public int RowFieldCount => _count;

    public bool InvalidEncoding => false;

    public bool Read()
    {
        if (!_rows.MoveNext())
        {
            return false;
        }

        Row++;
        var row = _rows.Current;
        if (row is null)
        {
            _count = 0;
            return true;
        }

        if (_current.Length < row.Count)
        {
            _current = new string[row.Count];
        }

        _count = row.Count;
        for (var i = 0; i < row.Count; i++)
        {
            _current[i] = Format(row[i]);
        }

        return true;
    }

    public ReadOnlySpan<char> GetField(int ordinal) => (uint)ordinal < (uint)_count ? _current[ordinal] : default;

    public void Dispose() => _rows.Dispose();

    internal static string Format(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
