using System.Diagnostics;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;

namespace AiOps.Benchmarks;

/// <summary>Where the validation time goes (stages timed cumulatively on the benchmark CSV).</summary>
internal static class DataProfile
{
    public static void Run(string path)
    {
        const string pattern = @"^[^@\s]+@[^@\s]+\.[a-z]+$";
        var emails = Enumerable.Range(0, 100_000).Select(i => $"user{i}@example.com").ToArray();
        var variants = new (string, System.Text.RegularExpressions.Regex)[]
        {
            ("compiled+1s timeout", new(pattern, System.Text.RegularExpressions.RegexOptions.Compiled | System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))),
            ("compiled, no timeout", new(pattern, System.Text.RegularExpressions.RegexOptions.Compiled | System.Text.RegularExpressions.RegexOptions.CultureInvariant)),
            ("non-backtracking", new(pattern, System.Text.RegularExpressions.RegexOptions.NonBacktracking | System.Text.RegularExpressions.RegexOptions.CultureInvariant)),
        };
        for (var round = 0; round < 3; round++)
        {
            foreach (var (name, regex) in variants)
            {
                var c = new Cpu();
                var hits = 0;
                for (var k = 0; k < 10; k++)
                {
                    foreach (var e in emails)
                    {
                        hits += regex.IsMatch(e.AsSpan()) ? 1 : 0;
                    }
                }

                Console.WriteLine($"{name}: {c.Ms * 1e6 / 1_000_000:F1} ns per match ({hits})");
            }
        }

        var min = new double[6];
        Array.Fill(min, double.MaxValue);
        for (var round = 0; round < 8; round++)
        {
            var sw = new Cpu();
            using (var r = new CsvRowReader(File.OpenRead(path), "x", ',', 1 << 16))
            {
                long total = 0;
                while (r.Read())
                {
                    for (var i = 0; i < 10; i++)
                    {
                        total += r.GetField(i).Length;
                    }
                }
            }

            var read = sw.Ms;
            sw = new Cpu();
            var acc = new ColumnAccumulator[10];
            for (var i = 0; i < 10; i++)
            {
                acc[i] = new ColumnAccumulator();
            }

            using (var r = new CsvRowReader(File.OpenRead(path), "x", ',', 1 << 16))
            {
                while (r.Read())
                {
                    for (var i = 0; i < 10; i++)
                    {
                        var f = r.GetField(i);
                        var num = NumberParser.TryParse(f, out var v, out var integer);
                        acc[i].Add(f, num, integer, v);
                    }
                }
            }

            var stats = sw.Ms;
            sw = new Cpu();
            var engine = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System);
            engine.Run(DataSource.FromCsv(path), DataValidationBenchmarks.TenRules(), null, CancellationToken.None);
            var full = sw.Ms;
            sw = new Cpu();
            engine.Run(DataSource.FromCsv(path), RuleSet.Empty("x"), null, CancellationToken.None);
            var none = sw.Ms;
            sw = new Cpu();
            engine.Run(DataSource.FromCsv(path), RuleSet.Create("x").Column("email", c => c.Matches(@"^[^@\s]+@[^@\s]+\.[a-z]+$")).Build(), null, CancellationToken.None);
            var regex = sw.Ms;
            double[] t = [read, stats, none, regex, full];
            for (var k = 0; k < t.Length; k++)
            {
                min[k] = Math.Min(min[k], t[k]);
            }
        }

        {
            Console.WriteLine($"min CPU time: read+fields {min[0]:F0} ms, +parse+stats {min[1]:F0} ms, engine no rules {min[2]:F0} ms, engine regex only {min[3]:F0} ms, full engine {min[4]:F0} ms");
        }
    }
}

/// <summary>Process CPU time since creation (robust against other processes competing for the cores).</summary>
internal sealed class Cpu
{
    private readonly TimeSpan _start = Process.GetCurrentProcess().TotalProcessorTime;

    public double Ms => (Process.GetCurrentProcess().TotalProcessorTime - _start).TotalMilliseconds;
}
