using System.Reflection;
using Parquet;
using Parquet.Schema;

namespace AiOps.Data.Internal;

/// <summary>Reads a Parquet file (Parquet.Net, fully managed) one row group at a time: each column of the group is decoded once into
/// formatted values (invariant culture, ISO-8601 dates, like in-memory records), so memory is bounded by the largest row group, not
/// the file. Flat schemas only: a nested or repeated column is refused up front, naming it.</summary>
internal sealed class ParquetRowReader : IRowReader
{
    private static readonly MethodInfo ReadStructMethod = typeof(ParquetRowReader).GetMethod(nameof(ReadStruct), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo ReadNullableMethod = typeof(ParquetRowReader).GetMethod(nameof(ReadNullable), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly string _name;
    private readonly Stream _stream;
    private readonly ParquetReader _reader;
    private readonly DataField[] _fields;
    private string[][] _group = [];
    private int _groupIndex = -1;
    private int _groupRows;
    private int _rowInGroup;

    public ParquetRowReader(Stream stream, string name)
    {
        _name = name;
        _stream = stream;
        try
        {
            _reader = ParquetReader.CreateAsync(stream, leaveStreamOpen: true).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            stream.Dispose();
            throw new InvalidDataException($"{name}: not a readable Parquet file ({e.Message}); expected a Parquet file (magic bytes PAR1).", e);
        }

        var top = _reader.Schema.Fields;
        var nested = top.Where(f => f is not DataField d || d.IsArray || d.MaxRepetitionLevel > 0).Select(f => f.Name).ToList();
        if (nested.Count > 0)
        {
            Dispose();
            throw new NotSupportedException($"{name}: column{(nested.Count > 1 ? "s" : "")} '{string.Join("', '", nested)}' {(nested.Count > 1 ? "are" : "is")} nested or repeated; expected a flat table (one value per column and row).");
        }

        _fields = [.. top.Cast<DataField>()];
        Columns = [.. _fields.Select(f => f.Name)];
    }

    public IReadOnlyList<string> Columns { get; }

    public long Line => Row;

    public long Row { get; private set; }

    public int RowFieldCount => _fields.Length;

    public string? Malformed => null;

    public long BlankLines => 0;

    public bool Read()
    {
        while (_rowInGroup >= _groupRows)
        {
            if (++_groupIndex >= _reader.RowGroupCount)
            {
                return false;
            }

            LoadGroup(_groupIndex);
        }

        _rowInGroup++;
        Row++;
        return true;
    }

    private void LoadGroup(int index)
    {
        using var group = _reader.OpenRowGroupReader(index);
        var rows = checked((int)group.RowCount);
        var columns = new string[_fields.Length][];
        for (var i = 0; i < _fields.Length; i++)
        {
            columns[i] = ReadColumn(group, _fields[i], rows);
        }

        (_group, _groupRows, _rowInGroup) = (columns, rows, 0);
    }

    private string[] ReadColumn(ParquetRowGroupReader group, DataField field, int rows)
    {
        var type = Nullable.GetUnderlyingType(field.ClrType) ?? field.ClrType;
        try
        {
            if (type == typeof(string))
            {
                var values = new string?[rows];
                group.ReadAsync(field, values.AsMemory()).AsTask().GetAwaiter().GetResult();
                return [.. values.Select(v => v ?? string.Empty)];
            }

            if (type == typeof(byte[]))
            {
                var values = new byte[]?[rows];
                group.ReadAsync(field, values.AsMemory()).AsTask().GetAwaiter().GetResult();
                return [.. values.Select(v => v is null ? string.Empty : Convert.ToBase64String(v))];
            }

            var method = (field.IsNullable ? ReadNullableMethod : ReadStructMethod).MakeGenericMethod(type);
            return (string[])method.Invoke(null, [group, field, rows])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new InvalidDataException($"{_name}: column '{field.Name}' ({type.Name}) could not be read: {e.InnerException.Message}", e.InnerException);
        }
    }

    private static string[] ReadStruct<T>(ParquetRowGroupReader group, DataField field, int rows)
        where T : struct
    {
        var values = new T[rows];
        group.ReadAsync(field, values.AsMemory()).AsTask().GetAwaiter().GetResult();
        return [.. values.Select(v => RecordRowReader.Format(v))];
    }

    private static string[] ReadNullable<T>(ParquetRowGroupReader group, DataField field, int rows)
        where T : struct
    {
        var values = new T?[rows];
        group.ReadAsync(field, values.AsMemory()).AsTask().GetAwaiter().GetResult();
        return [.. values.Select(v => v is { } x ? RecordRowReader.Format(x) : string.Empty)];
    }

    public ReadOnlySpan<char> GetField(int ordinal) => (uint)ordinal < (uint)_group.Length ? _group[ordinal][_rowInGroup - 1] : default;

    public void Dispose()
    {
        _reader?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream.Dispose();
    }
}
