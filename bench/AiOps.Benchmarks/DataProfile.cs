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

/// <summary>What exact uniqueness costs (issue 17): CPU time, minimum of the rounds, of the engine with no rules, with
/// <c>UniqueApprox</c> (HyperLogLog), with exact <c>Unique</c> (ExactValueSet), and of the bare set operation over the id column:
/// <see cref="HashSet{T}"/> of strings (the previous implementation) vs <see cref="ExactValueSet"/>, with the bytes each holds.</summary>
internal static class DataUniqueProfile
{
    public static void Run(string path, int rounds)
    {
        var engine = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System);
        var ids = new List<string>();
        using (var r = new CsvRowReader(File.OpenRead(path), "x", ',', 1 << 16))
        {
            while (r.Read())
            {
                ids.Add(r.GetField(0).ToString());
            }
        }

        var min = new double[5];
        Array.Fill(min, double.MaxValue);
        long hashSetBytes = 0, exactBytes = 0;
        Cpu c2;
        for (var round = 0; round < rounds; round++)
        {
            Settle();
            var c = new Cpu();
            engine.Run(DataSource.FromCsv(path), RuleSet.Empty("x"), null, CancellationToken.None);
            min[0] = Math.Min(min[0], c.Ms);
            Settle();
            c = new Cpu();
            engine.Run(DataSource.FromCsv(path), RuleSet.Create("x").Column("id", x => x.UniqueApprox()).Build(), null, CancellationToken.None);
            min[1] = Math.Min(min[1], c.Ms);
            Settle();
            c = new Cpu();
            engine.Run(DataSource.FromCsv(path), RuleSet.Create("x").Column("id", x => x.Unique()).Build(), null, CancellationToken.None);
            min[2] = Math.Min(min[2], c.Ms);

            Settle();
            c = new Cpu();
            var dup = Duplicates(ids, useHashSet: true, out _);
            min[3] = Math.Min(min[3], c.Ms);
            Settle();
            c = new Cpu();
            var dup2 = Duplicates(ids, useHashSet: false, out _);
            min[4] = Math.Min(min[4], c.Ms);
            if (dup != dup2)
            {
                throw new InvalidOperationException($"HashSet found {dup} duplicates, ExactValueSet {dup2}.");
            }
        }

        _ = Duplicates(ids, useHashSet: true, out hashSetBytes);
        _ = Duplicates(ids, useHashSet: false, out exactBytes);
        var textIds = ids.Select(i => "u" + i).ToList(); // the same ids as text: the hashed table + arena, not the packed one
        Settle();
        c2 = new Cpu();
        _ = Duplicates(textIds, useHashSet: true, out var hsText);
        var hsTextMs = c2.Ms;
        Settle();
        c2 = new Cpu();
        _ = Duplicates(textIds, useHashSet: false, out var exText);
        var exTextMs = c2.Ms;
        var distinct = ids.Distinct(StringComparer.Ordinal).Count();
        Console.WriteLine($"text ids ('u' + id, one run): HashSet<string> {hsTextMs:F0} ms, {hsText / (double)distinct:F1} B/value; ExactValueSet {exTextMs:F0} ms, {exText / (double)distinct:F1} B/value");
        Console.WriteLine($"min CPU time over {rounds} rounds, {ids.Count} rows: engine no rules {min[0]:F0} ms, + unique_approx {min[1]:F0} ms, + exact unique {min[2]:F0} ms");
        Console.WriteLine($"set only ({distinct} distinct ids): HashSet<string> {min[3]:F0} ms, {hashSetBytes / (double)distinct:F1} B/value (entries + the string the alternate lookup creates per value, as the rule kept); ExactValueSet {min[4]:F0} ms, {exactBytes / (double)distinct:F1} B/value (table + arena)");
        Console.WriteLine($"exact unique adds {min[2] - min[0]:F0} ms to the engine ({ids.Count / (min[2] / 1e3) / 1e6:F2} M rows/CPU-s for the unique-only run)");
    }

    /// <summary>Collects the garbage of earlier measurements so its collection is not charged to the next one.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>Counts repeats with one set kind; <paramref name="bytes"/> is the managed memory the set holds (entries, and for the
    /// <see cref="HashSet{T}"/> the string its alternate lookup creates per added value, as the previous rule did).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int Duplicates(List<string> ids, bool useHashSet, out long bytes)
    {
        var before = GC.GetTotalMemory(true);
        var dup = 0;
        object keep;
        if (useHashSet)
        {
            var hs = new HashSet<string>(StringComparer.Ordinal);
            var lookup = hs.GetAlternateLookup<ReadOnlySpan<char>>();
            foreach (var id in ids)
            {
                dup += lookup.Add(id.AsSpan()) ? 0 : 1;
            }

            keep = hs;
        }
        else
        {
            var ex = new ExactValueSet();
            foreach (var id in ids)
            {
                dup += ex.Add(id) ? 0 : 1;
            }

            keep = ex;
        }

        bytes = GC.GetTotalMemory(true) - before;
        GC.KeepAlive(keep);
        return dup;
    }
}

/// <summary>Process CPU time since creation (robust against other processes competing for the cores).</summary>
internal sealed class Cpu
{
    private readonly TimeSpan _start = Process.GetCurrentProcess().TotalProcessorTime;

    public double Ms => (Process.GetCurrentProcess().TotalProcessorTime - _start).TotalMilliseconds;
}
