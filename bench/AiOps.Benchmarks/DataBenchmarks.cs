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
