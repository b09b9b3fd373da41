using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using AiOps.Data.Internal;

namespace AiOps.Data.Quality;

/// <summary>How a CSV source is read.</summary>
public sealed class CsvSourceOptions
{
    /// <summary>The field delimiter. Default <c>,</c>.</summary>
    public char Delimiter { get; set; } = ',';

    /// <summary>Field values read as null besides the empty field (e.g. <c>NA</c>, <c>null</c>). Compared exactly.</summary>
    public IList<string> NullValues { get; } = new List<string>();

    /// <summary>The parser's initial buffer in characters (a record may grow it up to 16 Mi characters). Default 64 Ki.</summary>
    public int BufferSize { get; set; } = 1 << 16;
}

/// <summary>Tabular data to validate or ingest: a CSV file or stream with a header row, or in-memory records.</summary>
public abstract class DataSource
{
    private protected DataSource(string name, IEnumerable<string>? nullValues)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        var tokens = nullValues?.Where(v => v.Length > 0).ToArray() ?? [];
        NullValues = tokens.Length == 0 ? null : new HashSet<string>(tokens, StringComparer.Ordinal);
    }

    /// <summary>The dataset's name in reports (the file name without extension for files).</summary>
    public string Name { get; }

    internal HashSet<string>? NullValues { get; }

    /// <summary>Whether the source can be read twice (needed by <see cref="ColumnRules.NoOutliers"/>, which judges rows against the whole column).</summary>
    public virtual bool CanReread => true;

    internal abstract IRowReader Open();

    /// <summary>A CSV file with a header row, read as UTF-8 (a BOM is honoured).</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Delimiter, null tokens, buffer.</param>
    /// <returns>The source.</returns>
    public static DataSource FromCsv(string path, CsvSourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new CsvFileSource(path, options ?? new CsvSourceOptions());
    }

    /// <summary>A CSV stream with a header row, read once as UTF-8. The stream is disposed after reading.</summary>
    /// <param name="stream">The data.</param>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="options">Delimiter, null tokens, buffer.</param>
    /// <returns>The source.</returns>
    public static DataSource FromCsv(Stream stream, string name, CsvSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new CsvStreamSource(stream, name, options ?? new CsvSourceOptions());
    }

    /// <summary>In-memory rows; values are formatted with the invariant culture (dates as ISO-8601), <see langword="null"/> is a null.</summary>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="columns">The column names.</param>
    /// <param name="rows">The rows; a row whose length differs from <paramref name="columns"/> is quarantined as malformed.</param>
    /// <returns>The source (enumerated once per pass).</returns>
    public static DataSource FromRecords(string name, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        return new RecordSource(name, columns, rows);
    }

    /// <summary>In-memory objects; each public readable property is a column.</summary>
    /// <typeparam name="T">The record type.</typeparam>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="items">The records.</param>
    /// <returns>The source (enumerated once per pass).</returns>
    public static DataSource FromObjects<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(string name, IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.GetIndexParameters().Length == 0).ToArray();
        return new RecordSource(name, props.Select(p => p.Name).ToArray(), items.Select(i => (IReadOnlyList<object?>)props.Select(p => p.GetValue(i)).ToArray()));
    }

    private sealed class CsvFileSource(string path, CsvSourceOptions options) : DataSource(Path.GetFileNameWithoutExtension(path), options.NullValues)
    {
        private FileStream OpenFile() => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);

        internal override IRowReader Open()
        {
            var stream = OpenFile();
            try
            {
                return new CsvRowReader(stream, Path.GetFileName(path), options.Delimiter, options.BufferSize, OpenFile);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
    }

    private sealed class CsvStreamSource(Stream stream, string name, CsvSourceOptions options) : DataSource(name, options.NullValues)
    {
        private int _opened;

        public override bool CanReread => false;

        internal override IRowReader Open() => Interlocked.Exchange(ref _opened, 1) == 0
            ? new CsvRowReader(stream, Name, options.Delimiter, options.BufferSize)
            : throw new InvalidOperationException($"The CSV stream '{Name}' can be read only once; use DataSource.FromCsv(path) for rules that need two passes (outliers) or to read it again.");
    }

    private sealed class RecordSource(string name, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows) : DataSource(name, null)
    {
        internal override IRowReader Open() => new RecordRowReader(columns, rows);
    }
}
