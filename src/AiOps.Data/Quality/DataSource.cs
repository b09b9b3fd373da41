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

    /// <summary>The parser's initial buffer in characters (a record may grow it up to <see cref="MaxRecordSize"/>). Default 64 Ki.</summary>
    public int BufferSize { get; set; } = 1 << 16;

    /// <summary>The longest record (header or row, all its fields and quotes) the parser holds, in characters (64 Ki to 1 Gi). Default
    /// 16 Mi. A longer record stops reading with a <see cref="MalformedCsvException"/> that names this setting and the line.</summary>
    public int MaxRecordSize { get; set; } = DefaultMaxRecordSize;

    /// <summary>The default of <see cref="MaxRecordSize"/>: 16 Mi characters.</summary>
    public const int DefaultMaxRecordSize = 1 << 24;

    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    internal CsvSourceOptions Checked()
    {
        if (MaxRecordSize is < 1 << 16 or > 1 << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRecordSize), MaxRecordSize, $"CsvSourceOptions.MaxRecordSize is {MaxRecordSize}; expected 65536 to 1073741824 characters.");
        }

        if (BufferSize < 1024 || BufferSize > MaxRecordSize)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferSize), BufferSize, $"CsvSourceOptions.BufferSize is {BufferSize}; expected 1024 to MaxRecordSize ({MaxRecordSize}) characters.");
        }

        if (Delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentOutOfRangeException(nameof(Delimiter), Delimiter, "CsvSourceOptions.Delimiter cannot be a quote or a line break; expected e.g. ',', ';' or a tab.");
        }

        return this;
    }
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

    /// <summary>Whether one validation may read this source twice at once, one reader per lane: a CSV file of at least
    /// 1 MiB (below that a second parser's start-up is most of what it saves). Streams, in-memory rows, ADO.NET readers,
    /// JSON Lines and Parquet: no.</summary>
    internal virtual bool CanReadInLanes => false;

    /// <summary>Opens the source and refuses duplicate column names before any row is read.</summary>
    /// <exception cref="DuplicateColumnException">A column name occurs more than once.</exception>
    internal IRowReader OpenChecked()
    {
        var reader = Open();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        foreach (var c in reader.Columns)
        {
            if (!seen.Add(c) && !duplicates.Contains(c))
            {
                duplicates.Add(c);
            }
        }

        if (duplicates.Count > 0)
        {
            reader.Dispose();
            throw new DuplicateColumnException(Name, duplicates);
        }

        return reader;
    }

    /// <summary>A CSV file with a header row, read as UTF-8 (a BOM is honoured). A gzip-compressed file (<c>train.csv.gz</c>) is
    /// recognised by its magic bytes, whatever its name, and decompressed while read; its name in reports drops <c>.gz</c> too.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Delimiter, null tokens, buffer and record size.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static DataSource FromCsv(string path, CsvSourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new CsvFileSource(path, (options ?? new CsvSourceOptions()).Checked());
    }

    /// <summary>A CSV stream with a header row, read once as UTF-8 (gzip recognised by its magic bytes and decompressed). The stream
    /// is disposed after reading.</summary>
    /// <param name="stream">The data.</param>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="options">Delimiter, null tokens, buffer and record size.</param>
    /// <returns>The source.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static DataSource FromCsv(Stream stream, string name, CsvSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new CsvStreamSource(stream, name, (options ?? new CsvSourceOptions()).Checked());
    }

    /// <summary>A JSON Lines file (one JSON object per line, UTF-8, gzip recognised by its magic bytes), through the same rules and
    /// quarantine as CSV. The columns are <paramref name="columns"/>, or the first object's properties in order; a missing property or
    /// JSON null is a null; numbers keep their text; objects and arrays are their JSON. A line that is not one object, or has a property
    /// outside the columns, is quarantined as malformed with its line number. Readable twice (outlier rules work).</summary>
    /// <param name="path">The file (<c>.jsonl</c>, <c>.ndjson</c>, optionally <c>.gz</c>).</param>
    /// <param name="columns">The expected columns, or <see langword="null"/> to take the first object's.</param>
    /// <returns>The source.</returns>
    public static DataSource FromJsonLines(string path, IReadOnlyList<string>? columns = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new JsonLinesFileSource(path, columns?.ToArray());
    }

    /// <summary>A JSON Lines stream, read once (see <see cref="FromJsonLines(string, IReadOnlyList{string}?)"/>). The stream is disposed after reading.</summary>
    /// <param name="stream">The data.</param>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="columns">The expected columns, or <see langword="null"/> to take the first object's.</param>
    /// <returns>The source.</returns>
    public static DataSource FromJsonLines(Stream stream, string name, IReadOnlyList<string>? columns = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new OnceSource(name, "JSON Lines stream", () => new JsonLinesRowReader(Gzip.Decompressing(stream), columns?.ToArray()));
    }

    /// <summary>Any ADO.NET reader (SQL Server, PostgreSQL, SQLite, DuckDB, <c>DataTable.CreateDataReader()</c>) through the same rules
    /// and quarantine: its columns, <see cref="DBNull"/> as null, values formatted with the invariant culture (dates ISO-8601). Read
    /// once; the reader is disposed after reading. For rules that need two passes (outliers) use the overload that opens a reader.</summary>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="reader">An open reader positioned before its first row.</param>
    /// <returns>The source.</returns>
    public static DataSource FromDataReader(string name, System.Data.IDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new OnceSource(name, "data reader", () => new DataReaderRowReader(reader));
    }

    /// <summary>An ADO.NET source opened anew for each pass (so outlier rules, which read twice, work): <paramref name="open"/> runs the
    /// query and returns its reader, which is disposed after each pass.</summary>
    /// <param name="name">The dataset's name in reports.</param>
    /// <param name="open">Opens a reader positioned before its first row.</param>
    /// <returns>The source.</returns>
    public static DataSource FromDataReader(string name, Func<System.Data.IDataReader> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        return new DataReaderSource(name, open);
    }

    /// <summary>A Parquet file (read with Parquet.Net, fully managed), through the same rules and quarantine as CSV: one row group in
    /// memory at a time; values formatted like in-memory records (invariant culture, ISO-8601 dates, binary as base64), a Parquet
    /// null as a null. Flat schemas only. Readable twice (outlier rules work).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The source.</returns>
    /// <exception cref="InvalidDataException">When read: the file is not Parquet, or a column cannot be decoded (the message names it).</exception>
    /// <exception cref="NotSupportedException">When read: a column is nested or repeated (the message names it).</exception>
    public static DataSource FromParquet(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new ParquetFileSource(path);
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

    /// <summary>The dataset name of a file: its name without the extension, and without <c>.gz</c> before it (<c>train.csv.gz</c> is <c>train</c>).</summary>
    internal static string DatasetName(string path)
    {
        var name = Path.GetFileName(path);
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^3];
        }

        return Path.GetFileNameWithoutExtension(name);
    }

    private sealed class CsvFileSource(string path, CsvSourceOptions options) : DataSource(DatasetName(path), options.NullValues)
    {
        internal override bool CanReadInLanes
        {
            get
            {
                try
                {
                    return new FileInfo(path).Length >= Internal.ValidationEngine.LanesMinimumBytes;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return false; // Open reports it
                }
            }
        }

        private Stream OpenFile() => Gzip.Decompressing(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan));

        internal override IRowReader Open()
        {
            var stream = OpenFile();
            try
            {
                return new CsvRowReader(stream, Path.GetFileName(path), options.Delimiter, options.BufferSize, options.MaxRecordSize, OpenFile);
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
            ? new CsvRowReader(Gzip.Decompressing(stream), Name, options.Delimiter, options.BufferSize, options.MaxRecordSize)
            : throw new InvalidOperationException($"The CSV stream '{Name}' can be read only once; use DataSource.FromCsv(path) for rules that need two passes (outliers) or to read it again.");
    }

    private sealed class JsonLinesFileSource(string path, string[]? columns) : DataSource(DatasetName(path), null)
    {
        internal override IRowReader Open()
        {
            var stream = Gzip.Decompressing(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan));
            return new JsonLinesRowReader(stream, columns);
        }
    }

    private sealed class ParquetFileSource(string path) : DataSource(Path.GetFileNameWithoutExtension(path), null)
    {
        internal override IRowReader Open() =>
            new ParquetRowReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.RandomAccess), Path.GetFileName(path));
    }

    private sealed class OnceSource(string name, string what, Func<IRowReader> open) : DataSource(name, null)
    {
        private int _opened;

        public override bool CanReread => false;

        internal override IRowReader Open() => Interlocked.Exchange(ref _opened, 1) == 0
            ? open()
            : throw new InvalidOperationException($"The {what} '{Name}' can be read only once; for rules that need two passes (outliers) or to read it again, use a file path or DataSource.FromDataReader(name, open).");
    }

    private sealed class DataReaderSource(string name, Func<System.Data.IDataReader> open) : DataSource(name, null)
    {
        internal override IRowReader Open() => new DataReaderRowReader(open() ?? throw new InvalidOperationException($"The reader factory of data source '{Name}' returned null; expected an open IDataReader."));
    }

    private sealed class RecordSource(string name, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows) : DataSource(name, null)
    {
        internal override IRowReader Open() => new RecordRowReader(columns, rows);
    }
}
