using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using BenchmarkDotNet.Attributes;

namespace AiOps.Benchmarks;

/// <summary>The issue's throughput target: 1 million rows x 10 columns x 10 rules, parse + rules + column statistics, on one core
/// (>= 2.5 M rows/s). The baseline is what a user would otherwise write: File.ReadLines + Split + Parse and the same ten checks.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class DataValidationBenchmarks
{
    private const int Rows = 1_000_000;
    private static readonly Regex Email = new(@"^[^@\s]+@[^@\s]+\.[a-z]+$", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    private string _dir = null!;
    private string _path = null!;
    private RuleSet _rules = null!;
    private ValidationEngine _engine = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "aiops-data-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(_dir);
        _path = Path.Combine(_dir, "train-1m.csv");
        WriteCsv(_path, Rows);
        _rules = TenRules();
        _engine = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    internal static void WriteCsv(string path, int rows)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        w.Write("id,age,income,score,category,email,country,date,flag,name\n");
        var rng = new Random(42);
        string[] countries = ["CN", "US", "DE", "JP", "FR"];
        for (var i = 0; i < rows; i++)
        {
            w.Write(string.Create(CultureInfo.InvariantCulture,
                $"{i},{rng.Next(0, 100)},{rng.Next(1000, 200000) / 10.0},{rng.NextDouble():F4},cat{rng.Next(5)},user{i}@example.com,{countries[rng.Next(5)]},2024-{rng.Next(1, 13):00}-{rng.Next(1, 29):00},{rng.Next(2)},name{rng.Next(100000)}\n"));
        }
    }

    internal static RuleSet TenRules() => RuleSet.Create("train")
        .Column("id", c => c.NotNull().UniqueApprox())
        .Column("age", c => c.Between(0, 120))
        .Column("income", c => c.Between(0, 1_000_000))
        .Column("score", c => c.Between(0, 1))
        .Column("category", c => c.InSet(["cat0", "cat1", "cat2", "cat3", "cat4"]))
        .Column("email", c => c.Matches(@"^[^@\s]+@[^@\s]+\.[a-z]+$"))
        .Column("country", c => c.Length(2, 2))
        .Column("date", c => c.DateFormat("yyyy-MM-dd"))
        .Column("flag", c => c.InSet(["0", "1"]))
        .Build();

    [Benchmark(Baseline = true, Description = "ReadLines+Split+Parse, same 10 checks")]
    public long NaiveLoop()
    {
        long failed = 0;
        var ids = new HashSet<string>();
        var categories = new HashSet<string> { "cat0", "cat1", "cat2", "cat3", "cat4" };
        foreach (var line in File.ReadLines(_path).Skip(1))
        {
            var f = line.Split(',');
            var bad = string.IsNullOrEmpty(f[0]) | !ids.Add(f[0])
                | !(double.TryParse(f[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var age) && age is >= 0 and <= 120)
                | !(double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var income) && income is >= 0 and <= 1_000_000)
                | !(double.TryParse(f[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var score) && score is >= 0 and <= 1)
                | !categories.Contains(f[4])
                | !Email.IsMatch(f[5])
                | f[6].Length != 2
                | !DateTime.TryParseExact(f[7], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                | f[8] is not ("0" or "1");
            failed += bad ? 1 : 0;
        }

        return failed;
    }

    [Benchmark(Description = "AiOps.Data engine: 10 rules + column statistics")]
    public long AiOpsEngine()
    {
        var report = _engine.Run(DataSource.FromCsv(_path), _rules, null, CancellationToken.None);
        if (report.RowsChecked != Rows)
        {
            throw new InvalidOperationException($"Expected {Rows} rows, read {report.RowsChecked}.");
        }

        return report.RowsFailed;
    }
}

/// <summary>Issue 17's side-by-side run: the ten checks with EXACT uniqueness on one CSV, by AiOps.Data, by DuckDB (SQL aggregates over
/// read_csv, all columns as text, as the engine reads them) and by pandas (read_csv as str + vectorised checks), interleaved round by
/// round in one process run. Every tool's failing-row count per rule must agree, or the run stops.</summary>
internal static class DataSideBySide
{
    /// <summary>The rule names, in the order every tool reports them.</summary>
    internal static readonly string[] RuleNames =
        ["id.not_null", "id.unique", "age.between", "income.between", "score.between", "category.in_set", "email.regex", "country.length", "date.date_format", "flag.in_set"];

    internal static RuleSet TenRulesExact() => RuleSet.Create("train").PassRate(0)
        .Column("id", c => c.NotNull(mostly: 0).Unique(mostly: 0))
        .Column("age", c => c.Between(0, 120, mostly: 0))
        .Column("income", c => c.Between(0, 1_000_000, mostly: 0))
        .Column("score", c => c.Between(0, 1, mostly: 0))
        .Column("category", c => c.InSet(["cat0", "cat1", "cat2", "cat3", "cat4"], mostly: 0))
        .Column("email", c => c.Matches(@"^[^@\s]+@[^@\s]+\.[a-z]+$", mostly: 0))
        .Column("country", c => c.Length(2, 2, mostly: 0))
        .Column("date", c => c.DateFormat("yyyy-MM-dd", mostly: 0))
        .Column("flag", c => c.InSet(["0", "1"], mostly: 0))
        .Build();

    /// <summary>The benchmark CSV's columns with about 0.1 % faults per column (repeated and empty ids, out-of-range and textual numbers,
    /// unknown categories, malformed e-mails, 3-letter countries, impossible dates, bad flags), so the counts have something to agree on.</summary>
    internal static void WriteCsvWithFaults(string path, int rows)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        w.Write("id,age,income,score,category,email,country,date,flag,name\n");
        var rng = new Random(42);
        string[] countries = ["CN", "US", "DE", "JP", "FR"];
        bool Fault() => rng.Next(1000) == 0;
        for (var i = 0; i < rows; i++)
        {
            var id = Fault() ? "" : Fault() ? rng.Next(Math.Max(1, i)).ToString(CultureInfo.InvariantCulture) : i.ToString(CultureInfo.InvariantCulture);
            var age = Fault() ? "150" : Fault() ? "n/a" : rng.Next(0, 100).ToString(CultureInfo.InvariantCulture);
            var income = Fault() ? "-5" : (rng.Next(1000, 200000) / 10.0).ToString(CultureInfo.InvariantCulture);
            var score = Fault() ? "1.5" : rng.NextDouble().ToString("F4", CultureInfo.InvariantCulture);
            var category = Fault() ? "cat9" : "cat" + rng.Next(5).ToString(CultureInfo.InvariantCulture);
            var email = Fault() ? $"user{i}.example.com" : $"user{i}@example.com";
            var country = Fault() ? "USA" : countries[rng.Next(5)];
            var date = Fault() ? "2024-02-30" : string.Create(CultureInfo.InvariantCulture, $"2024-{rng.Next(1, 13):00}-{rng.Next(1, 29):00}");
            var flag = Fault() ? "2" : rng.Next(2).ToString(CultureInfo.InvariantCulture);
            w.Write(string.Create(CultureInfo.InvariantCulture, $"{id},{age},{income},{score},{category},{email},{country},{date},{flag},name{rng.Next(100000)}\n"));
        }
    }

    internal static long[] AiOps(ValidationEngine engine, string path, RuleSet rules)
    {
        var report = engine.Run(DataSource.FromCsv(path), rules, null, CancellationToken.None);
        return [.. RuleNames.Select(n => report.Rules.Single(r => r.Name == n).Unexpected)];
    }

    internal const string DuckDbSql = """
        SELECT
          count(*) FILTER (WHERE id IS NULL),
          count(id) - count(DISTINCT id),
          count(*) FILTER (WHERE age IS NOT NULL AND NOT coalesce(try_cast(age AS DOUBLE) BETWEEN 0 AND 120, false)),
          count(*) FILTER (WHERE income IS NOT NULL AND NOT coalesce(try_cast(income AS DOUBLE) BETWEEN 0 AND 1000000, false)),
          count(*) FILTER (WHERE score IS NOT NULL AND NOT coalesce(try_cast(score AS DOUBLE) BETWEEN 0 AND 1, false)),
          count(*) FILTER (WHERE category IS NOT NULL AND category NOT IN ('cat0', 'cat1', 'cat2', 'cat3', 'cat4')),
          count(*) FILTER (WHERE email IS NOT NULL AND NOT regexp_full_match(email, '[^@\s]+@[^@\s]+\.[a-z]+')),
          count(*) FILTER (WHERE country IS NOT NULL AND length(country) <> 2),
          count(*) FILTER (WHERE date IS NOT NULL AND try_strptime(date, '%Y-%m-%d') IS NULL),
          count(*) FILTER (WHERE flag IS NOT NULL AND flag NOT IN ('0', '1'))
        FROM read_csv('{0}', header = true, all_varchar = true, delim = ',', quote = '"')
        """;

    internal static long[] DuckDb(DuckDB.NET.Data.DuckDBConnection connection, string path)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = DuckDbSql.Replace("{0}", path.Replace("'", "''", StringComparison.Ordinal), StringComparison.Ordinal);
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return [.. Enumerable.Range(0, RuleNames.Length).Select(i => Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture))];
    }

    /// <summary>The pandas script: imports first, then times read_csv + the checks with perf_counter (interpreter and import start-up
    /// excluded), and prints the seconds and the ten counts.</summary>
    internal const string PandasScript = """
        import sys, time
        import pandas as pd
        path = sys.argv[1]
        t0 = time.perf_counter()
        c0 = time.process_time()
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[''])
        def num_fail(col, lo, hi):
            s = df[col]
            v = pd.to_numeric(s, errors='coerce')
            return int((s.notna() & ~v.between(lo, hi)).sum())
        counts = [
            int(df['id'].isna().sum()),
            int(df['id'].dropna().duplicated().sum()),
            num_fail('age', 0, 120), num_fail('income', 0, 1000000), num_fail('score', 0, 1),
            int((df['category'].notna() & ~df['category'].isin(['cat0', 'cat1', 'cat2', 'cat3', 'cat4'])).sum()),
            int((df['email'].notna() & ~df['email'].str.fullmatch(r'[^@\s]+@[^@\s]+\.[a-z]+').fillna(False).astype(bool)).sum()),
            int((df['country'].notna() & (df['country'].str.len() != 2)).sum()),
            int((df['date'].notna() & pd.to_datetime(df['date'], format='%Y-%m-%d', errors='coerce').isna()).sum()),
            int((df['flag'].notna() & ~df['flag'].isin(['0', '1'])).sum()),
        ]
        print(time.perf_counter() - t0, time.process_time() - c0, *counts)
        """;
}
