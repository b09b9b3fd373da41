using System.Globalization;
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

    /// <summary>Why the record is malformed beyond its field count (bytes that are not valid UTF-8, broken quoting), or null.</summary>
    string? Malformed { get; }

    /// <summary>Blank lines skipped so far (not rows: neither admitted nor quarantined).</summary>
    long BlankLines { get; }

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

/// <summary>Reads CSV with Sylvan. A file (which can be opened again) is read at full speed as it is; on the first record whose
/// quoting is broken the reader reopens it through <see cref="TolerantCsvText"/>, skips the records already delivered and goes on,
/// so that record is quarantined and nothing else changes. A stream (read once) is read through <see cref="TolerantCsvText"/> from the start.</summary>
internal sealed class CsvRowReader : IRowReader
{
    private readonly string _name;
    private readonly char _delimiter;
    private readonly int _bufferSize;
    private readonly int _maxRecordSize;
    private readonly Func<Stream>? _reopen;
    private CsvDataReader _csv;
    private TolerantCsvText? _text;
    private long _nextLine = 2;

    public CsvRowReader(Stream stream, string name, char delimiter, int bufferSize, int maxRecordSize = Quality.CsvSourceOptions.DefaultMaxRecordSize, Func<Stream>? reopen = null)
    {
        _name = name;
        _delimiter = delimiter;
        _bufferSize = bufferSize;
        _maxRecordSize = Math.Max(bufferSize, maxRecordSize);
        _reopen = reopen;
        _csv = Open(stream, tolerant: reopen is null);
        var columns = new string[_csv.FieldCount];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = _csv.GetName(i);
        }

        Columns = columns;
    }

    private CsvDataReader Open(Stream stream, bool tolerant)
    {
        TextReader text = new StreamReader(stream, MarkingUtf8.Create(), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: false);
        if (tolerant)
        {
            text = _text = new TolerantCsvText(text, _delimiter);
        }

        try
        {
            return CsvDataReader.Create(text, new CsvDataReaderOptions
            {
                HasHeaders = true,
                Delimiter = _delimiter,
                Comment = '\0', // a line starting with '#' is data, never a silently skipped comment
                BufferSize = _bufferSize,
                MaxBufferSize = _maxRecordSize,
                OwnsReader = true,
            });
        }
        catch (CsvRecordTooLargeException e)
        {
            // Sylvan reads the header and the first row before it returns: either may be the record too large.
            text.Dispose();
            throw TooLarge(1, "the header or the first row", e);
        }
        catch (CsvFormatException e)
        {
            text.Dispose();
            throw new Quality.MalformedCsvException(_name, 1, "the header row could not be parsed: " + e.Message, e);
        }
    }

    public IReadOnlyList<string> Columns { get; }

    public long Line { get; private set; }

    public long Row { get; private set; }

    public int RowFieldCount => _csv.RowFieldCount;

    public string? Malformed { get; private set; }

    public long BlankLines { get; private set; }

    public bool Read()
    {
        try
        {
            return ReadCore();
        }
        catch (CsvFormatException e) when (_text is null && _reopen is not null && e is not CsvRecordTooLargeException)
        {
            // Broken quoting in a file read at full speed: read it again through the tolerant reader, skip what was delivered.
            var delivered = Row;
            _csv.Dispose();
            _csv = Open(_reopen(), tolerant: true);
            (Row, BlankLines, _nextLine) = (0, 0, 2);
            while (Row < delivered)
            {
                if (!ReadCore())
                {
                    throw new Quality.MalformedCsvException(_name, _nextLine, "the file changed while it was read: " + e.Message, e);
                }
            }

            return ReadCore();
        }
    }

    private bool ReadCore()
    {
        while (true)
        {
            bool more;
            try
            {
                more = _csv.Read();
            }
            catch (CsvRecordTooLargeException e)
            {
                throw TooLarge(_nextLine, "the record", e);
            }
            catch (CsvFormatException e) when (_text is not null)
            {
                // Broken quoting is repaired record by record before the parser sees it; this is what remains (e.g. a record over the buffer limit).
                throw new Quality.MalformedCsvException(_name, _nextLine, e.Message, e);
            }

            if (!more)
            {
                return false;
            }

            var line = _nextLine;
            var raw = _csv.GetRawRecordSpan();
            if (raw.IndexOfAny('\n', MarkingUtf8.Marker) < 0)
            {
                // The common record: one line, valid UTF-8 — one vectorised scan instead of two.
                _nextLine++;
                Malformed = null;
            }
            else
            {
                var newLines = raw.Count('\n');
                _nextLine += newLines == 0 ? 1 : newLines;
                Malformed = raw.Contains(MarkingUtf8.Marker) ? "invalid UTF-8 byte sequence" : null;
            }

            if (raw.IndexOfAnyExcept('\r', '\n') < 0)
            {
                BlankLines++; // a blank line is no row: not admitted, not quarantined
                continue;
            }

            if (_text is { AnyMalformed: true } t && t.MalformedReason(line) is { } quoting)
            {
                Malformed = quoting;
            }

            Row++;
            Line = line;
            return true;
        }
    }

    public ReadOnlySpan<char> GetField(int ordinal) => _csv.GetFieldSpan(ordinal);

    public void Dispose() => _csv.Dispose();

    private Quality.MalformedCsvException TooLarge(long line, string what, Exception e) => new(
        _name,
        line,
        string.Create(CultureInfo.InvariantCulture, $"{what} is longer than CsvSourceOptions.MaxRecordSize ({_maxRecordSize} characters); expected shorter records, or raise MaxRecordSize (up to 1073741824)."),
        e);
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

    public string? Malformed => null;

    public long BlankLines => 0;

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
