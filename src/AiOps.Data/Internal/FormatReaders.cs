using System.Data;
using System.Text.Json;

namespace AiOps.Data.Internal;

/// <summary>Reads JSON Lines: one JSON object per line. The columns are given, or the first object's properties in order. A value is
/// its string, the raw text of a number, <c>true</c>/<c>false</c>, the raw JSON of an object or array; null or a missing property is a
/// null. A line that is not one JSON object, holds a property outside the columns, or has bytes that are not UTF-8 is malformed (it
/// is quarantined with its line, its text as the one field); blank lines are skipped and counted.</summary>
internal sealed class JsonLinesRowReader : IRowReader
{
    private readonly TextReader _text;
    private readonly Dictionary<string, int> _ordinals;
    private readonly Queue<(long Line, string Text)> _pending = new();
    private readonly string[] _fields;
    private long _lineNumber;
    private string _raw = string.Empty;

    public JsonLinesRowReader(Stream stream, IReadOnlyList<string>? columns)
    {
        _text = new StreamReader(stream, MarkingUtf8.Create(), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: false);
        try
        {
            Columns = columns ?? FirstObjectColumns();
        }
        catch
        {
            _text.Dispose();
            throw;
        }

        _ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Columns.Count; i++)
        {
            _ordinals.TryAdd(Columns[i], i);
        }

        _fields = new string[Columns.Count];
    }

    /// <summary>Reads ahead to the first line that is a JSON object; the lines read stay queued, so none is lost.</summary>
    private string[] FirstObjectColumns()
    {
        while (NextLine() is { } line)
        {
            _pending.Enqueue((_lineNumber, line));
            if (string.IsNullOrWhiteSpace(line) || line.Contains(MarkingUtf8.Marker))
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    return [.. doc.RootElement.EnumerateObject().Select(p => p.Name)];
                }
            }
            catch (JsonException)
            {
            }
        }

        return [];
    }

    private string? NextLine()
    {
        var line = _text.ReadLine();
        if (line is not null)
        {
            _lineNumber++;
        }

        return line;
    }

    public IReadOnlyList<string> Columns { get; }

    public long Line { get; private set; }

    public long Row { get; private set; }

    public int RowFieldCount { get; private set; }

    public string? Malformed { get; private set; }

    public long BlankLines { get; private set; }

    public bool Read()
    {
        while (true)
        {
            long number;
            string? line;
            if (_pending.TryDequeue(out var p))
            {
                (number, line) = p;
            }
            else
            {
                line = NextLine();
                number = _lineNumber;
            }

            if (line is null)
            {
                return false;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                BlankLines++;
                continue;
            }

            Row++;
            Line = number;
            _raw = line;
            Malformed = line.Contains(MarkingUtf8.Marker) ? "invalid UTF-8 byte sequence" : Parse(line);
            if (Malformed is not null)
            {
                RowFieldCount = 1; // the line itself, so nothing is lost
            }

            return true;
        }
    }

    private string? Parse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return $"expected a JSON object, got {root.ValueKind.ToString().ToLowerInvariant()}";
            }

            Array.Fill(_fields, string.Empty);
            foreach (var prop in root.EnumerateObject())
            {
                if (!_ordinals.TryGetValue(prop.Name, out var i))
                {
                    return $"unexpected property '{prop.Name}'; expected only: {string.Join(", ", Columns)}";
                }

                _fields[i] = prop.Value.ValueKind switch
                {
                    JsonValueKind.String => prop.Value.GetString()!,
                    JsonValueKind.Null => string.Empty,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => prop.Value.GetRawText(),
                };
            }

            RowFieldCount = Columns.Count;
            return null;
        }
        catch (JsonException e)
        {
            return "invalid JSON: " + e.Message.Split(" Path:", 2)[0];
        }
    }

    public ReadOnlySpan<char> GetField(int ordinal) => Malformed is not null
        ? (ordinal == 0 ? _raw : default)
        : (uint)ordinal < (uint)_fields.Length ? _fields[ordinal] : default;

    public void Dispose() => _text.Dispose();
}

/// <summary>Reads any ADO.NET <see cref="IDataReader"/> (SQL Server, PostgreSQL, SQLite, DuckDB, a DataTable): the columns are the
/// reader's, <see cref="DBNull"/> is a null, values are formatted like in-memory records (invariant culture, ISO-8601 dates).</summary>
internal sealed class DataReaderRowReader : IRowReader
{
    private readonly IDataReader _reader;
    private readonly string[] _fields;

    public DataReaderRowReader(IDataReader reader)
    {
        _reader = reader;
        var columns = new string[reader.FieldCount];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = reader.GetName(i);
        }

        Columns = columns;
        _fields = new string[columns.Length];
    }

    public IReadOnlyList<string> Columns { get; }

    public long Line => Row;

    public long Row { get; private set; }

    public int RowFieldCount => _fields.Length;

    public string? Malformed { get; private set; }

    public long BlankLines => 0;

    public bool Read()
    {
        if (!_reader.Read())
        {
            return false;
        }

        Row++;
        Malformed = null;
        for (var i = 0; i < _fields.Length; i++)
        {
            try
            {
                _fields[i] = _reader.IsDBNull(i) ? string.Empty : RecordRowReader.Format(_reader.GetValue(i));
            }
            catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
            {
                // A value the provider cannot convert: the row is quarantined, reading goes on. The message holds no value.
                _fields[i] = string.Empty;
                Malformed = $"column '{Columns[i]}': the provider could not read the value ({e.GetType().Name})";
            }
        }

        return true;
    }

    public ReadOnlySpan<char> GetField(int ordinal) => (uint)ordinal < (uint)_fields.Length ? _fields[ordinal] : default;

    public void Dispose() => _reader.Dispose();
}
