using System.Globalization;
using System.Text;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Validation;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>
/// Two lanes (MaxDegreeOfParallelism 2: the columns split between two threads, each parsing the whole file) must give the
/// report one thread gives, on files with the faults real files have. Invariant checked over seeded files: the JSON of the
/// two reports is identical except for the run's start and end times.
/// </summary>
public sealed class LaneTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aiops-lanes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ValidationEngine Engine(int threads, int samples = 20) => new(Validate.Masker, samples, TimeProvider.System, threads);

    private static string Comparable(ValidationReport report) => (report with { StartedAt = default, CompletedAt = default }).ToJson();

    /// <summary>A CSV of at least <paramref name="minimumBytes"/> as scripts and spreadsheets write them: repeated and empty
    /// ids, text in numbers, NA tokens, bad e-mails and dates, blank lines, rows with a field too many or too few, quoted
    /// fields with the separator, a quote and a line break inside, bytes that are not UTF-8 and (when asked) a stray quote.</summary>
    private string WriteFile(int seed, long minimumBytes = (long)(1.3 * (1 << 20)), bool strayQuote = false)
    {
        var path = Path.Combine(_dir, $"lanes-{seed}-{strayQuote}.csv");
        var rng = new Random(seed);
        using var stream = new FileStream(path, FileMode.Create);
        void Write(string text) => stream.Write(Encoding.UTF8.GetBytes(text));
        Write("id,age,income,score,category,email,country,date,flag,phone\r\n");
        string[] countries = ["CN", "US", "DE", "JP", "FR", "GBR"];
        var i = 0;
        while (stream.Length < minimumBytes)
        {
            i++;
            bool Fault(int inThousand = 5) => rng.Next(1000) < inThousand;
            if (Fault(2))
            {
                Write(rng.Next(2) == 0 ? "\r\n" : "\n"); // blank lines: counted apart, never rows
            }

            if (Fault(1))
            {
                Write($"{i},{rng.Next(90)},oops\n"); // too few fields
                continue;
            }

            if (Fault(1))
            {
                stream.Write([.. Encoding.UTF8.GetBytes($"{i},{rng.Next(90)},1,0.5,cat1,a@b.cn,CN,2024-01-01,1,138"), 0xC3, 0x28, (byte)'\n']); // invalid UTF-8
                continue;
            }

            if (strayQuote && Fault(1))
            {
                Write($"{i},\"3\"0,1,0.5,cat1,a@b.cn,CN,2024-01-01,1,13800001111\n"); // text after a closing quote
                continue;
            }

            var id = Fault() ? "" : Fault() ? rng.Next(Math.Max(1, i)).ToString(CultureInfo.InvariantCulture) : i.ToString(CultureInfo.InvariantCulture);
            var age = Fault() ? "150" : Fault() ? "NA" : Fault() ? "n/a" : rng.Next(0, 100).ToString(CultureInfo.InvariantCulture);
            var income = Fault() ? "-5" : Fault() ? "" : (rng.Next(1000, 2_000_000) / 10.0).ToString(CultureInfo.InvariantCulture);
            var score = Fault() ? "1.5" : rng.NextDouble().ToString("R", CultureInfo.InvariantCulture);
            var category = Fault() ? "\"cat, with comma\"" : Fault() ? "\"multi\nline\"" : Fault() ? "\"say \"\"hi\"\"\"" : $"cat{rng.Next(Fault() ? 9 : 5)}";
            var email = Fault() ? "not-an-email" : $"user{rng.Next(5000)}@example.{(Fault() ? "c0m" : "com")}";
            var country = countries[rng.Next(Fault() ? 6 : 5)];
            var date = Fault() ? "2024-02-30" : $"2024-{rng.Next(1, 13):00}-{rng.Next(1, 29):00}";
            var flag = Fault() ? "yes" : rng.Next(2).ToString(CultureInfo.InvariantCulture);
            var phone = Fault() ? "+86 138 0013 8000" : $"13{rng.Next(100_000_000, 999_999_999)}";
            var extra = Fault(1) ? ",surplus" : "";
            Write($"{id},{age},{income},{score},{category},{email},{country},{date},{flag},{phone}{extra}{(rng.Next(3) == 0 ? "\r\n" : "\n")}");
        }

        return path;
    }

    /// <summary>Every kind of rule the engine runs per row and per dataset, conditions, a key for samples, and two passes.</summary>
    private static RuleSet Everything(bool outliers) =>
        RuleSet.Create("lanes").Key("id").PassRate(0.5)
            .Column("id", c => c.NotNull(mostly: 0).Unique(mostly: 0).UniqueApprox(0.5))
            .Column("age", c =>
            {
                c.Between(0, 120, mostly: 0).OfType(ColumnType.Integer, mostly: 0).Completeness(0.5).MeanBetween(0, 100);
                if (outliers)
                {
                    c.NoOutliers(OutlierMethod.StdDev, 3, mostly: 0);
                }
            })
            .Column("income", c => c.Between(0, 1_000_000, mostly: 0, severity: ValidationSeverity.Warning).MaxBetween(0, 1e9))
            .Column("score", c => c.Between(0, 1, mostly: 0).StdDevBetween(0, 1))
            .Column("category", c => c.InSet(["cat0", "cat1", "cat2", "cat3", "cat4"], mostly: 0))
            .Column("email", c => c.Matches(@"^[^@\s]+@[^@\s]+\.[a-z]+$", mostly: 0))
            .Column("country", c => c.Length(2, 2, mostly: 0).Must("upper", v => !v.ContainsAnyInRange('a', 'z'), mostly: 0))
            .Column("date", c => c.DateFormat("yyyy-MM-dd", mostly: 0))
            .Column("flag", c => c.InSet(["0", "1"], mostly: 0))
            .Where(RuleCondition.Equal("country", "CN"), w => w.Column("phone", c => c.Length(11, 11, mostly: 0)))
            .UniqueCombination(["email", "date"], mostly: 0)
            .RowCount(min: 1)
            .Build();

    [Fact]
    public void TwoLanes_SeededFilesWithFaults_SameReportAsOneThread()
    {
        var pii = new Dictionary<string, PiiOperator>(StringComparer.Ordinal) { ["phone"] = PiiOperator.Mask, ["email"] = PiiOperator.Redact };
        for (var seed = 1; seed <= 6; seed++)
        {
            var path = WriteFile(seed, strayQuote: seed % 3 == 0);
            var options = new CsvSourceOptions();
            options.NullValues.Add("NA");
            var rules = Everything(outliers: seed % 2 == 0);
            var one = Engine(1).Run(DataSource.FromCsv(path, options), rules, null, CancellationToken.None, seed % 2 == 1 ? pii : null);
            var lanes = Engine(2);
            var two = lanes.Run(DataSource.FromCsv(path, options), rules, null, CancellationToken.None, seed % 2 == 1 ? pii : null);

            Assert.Equal(1, lanes.RunsInLanes); // or the comparison below proves nothing
            Assert.True(one.RowsFailed > 0 && one.MalformedRows > 0 && one.BlankLines > 0, $"seed {seed}: the file must exercise the faults");
            Assert.Equal(Comparable(one), Comparable(two));
        }
    }

    [Fact]
    public void TwoLanes_StrayQuote_RecordQuarantinedAtItsLineLikeOneThread()
    {
        var path = WriteFile(7, strayQuote: true);
        var one = Engine(1, samples: 10_000).Run(DataSource.FromCsv(path), Everything(false), null, CancellationToken.None);
        var two = Engine(2, samples: 10_000).Run(DataSource.FromCsv(path), Everything(false), null, CancellationToken.None);

        var wellFormed = two.Rules.Single(r => r.Name == "well_formed");
        Assert.Contains(wellFormed.FailingRows, f => f.Reason.Contains("quot", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(one.Rules.Single(r => r.Name == "well_formed").FailingRows, wellFormed.FailingRows);
        Assert.Equal(Comparable(one), Comparable(two));
    }

    [Fact]
    public void OneLane_WhereLanesCannotHelpOrMustNotRun()
    {
        var large = WriteFile(8);
        var small = WriteFile(9, minimumBytes: 200_000);
        var engine = Engine(2);

        engine.Run(DataSource.FromCsv(small), Everything(false), null, CancellationToken.None); // under 1 MiB
        using (var stream = File.OpenRead(large))
        {
            engine.Run(DataSource.FromCsv(stream, "s"), Everything(false), null, CancellationToken.None); // read once
        }

        var rowPredicate = RuleSet.Create("r").Row("any", row => row["id"].Length >= 0).Build(); // user code over the whole row
        engine.Run(DataSource.FromCsv(large), rowPredicate, null, CancellationToken.None);
        engine.Run(DataSource.FromCsv(large), Everything(false), new CountingSink(), CancellationToken.None); // the gate's sink
        Assert.Equal(0, engine.RunsInLanes);

        Engine(1).Run(DataSource.FromCsv(large), Everything(false), null, CancellationToken.None);
        engine.Run(DataSource.FromCsv(large), Everything(false), null, CancellationToken.None);
        Assert.Equal(1, engine.RunsInLanes);
    }

    [Fact]
    public void TwoLanes_CancelledMidFile_ThrowsOperationCanceled()
    {
        var path = WriteFile(10);
        using var cts = new CancellationTokenSource();
        var calls = 0;
        var rules = RuleSet.Create("c").Column("country", c => c.Must("cancel", _ =>
        {
            if (Interlocked.Increment(ref calls) == 3000)
            {
                cts.Cancel();
            }

            return true;
        })).Column("email", c => c.NotNull()).Build();
        var engine = Engine(2);

        Assert.ThrowsAny<OperationCanceledException>(() => engine.Run(DataSource.FromCsv(path), rules, null, cts.Token));
        Assert.Equal(1, engine.RunsInLanes);
    }

    [Theory]
    [InlineData("country")] // a rule in one lane
    [InlineData("email")] // a rule in the other
    public void TwoLanes_ARuleThrows_TheSameExceptionAsOneThread(string column)
    {
        var path = WriteFile(11);
        RuleSet Rules() => RuleSet.Create("t")
            .Column("country", c => c.NotNull())
            .Column("email", c => c.NotNull())
            .Column(column, c =>
            {
                var calls = 0;
                c.Must("boom", _ => ++calls == 5000 ? throw new InvalidOperationException("boom at 5000") : true);
            })
            .Build();

        var one = Assert.Throws<InvalidOperationException>(() => Engine(1).Run(DataSource.FromCsv(path), Rules(), null, CancellationToken.None));
        var engine = Engine(2);
        var two = Assert.Throws<InvalidOperationException>(() => engine.Run(DataSource.FromCsv(path), Rules(), null, CancellationToken.None));
        Assert.Equal(one.Message, two.Message);
        Assert.Equal(1, engine.RunsInLanes);
    }

    [Fact]
    public void TwoLanes_RecordTooLarge_SameMalformedCsvExceptionAsOneThread()
    {
        var path = WriteFile(12);
        File.AppendAllText(path, "99999999,1,1,0.5,cat1," + new string('x', 300_000) + "@a.com,CN,2024-01-01,1,13800001111\n");
        var options = new CsvSourceOptions { MaxRecordSize = 100_000 };

        var one = Assert.Throws<MalformedCsvException>(() => Engine(1).Run(DataSource.FromCsv(path, options), Everything(false), null, CancellationToken.None));
        var two = Assert.Throws<MalformedCsvException>(() => Engine(2).Run(DataSource.FromCsv(path, options), Everything(false), null, CancellationToken.None));
        Assert.Equal(one.Message, two.Message);
        Assert.Equal(one.Line, two.Line);
    }

    [Fact]
    public async Task RowVerdicts_LanesFarApart_CountTheRowsAnyLaneFailed()
    {
        // 40 blocks through a ring of 8: the faster lane must wait, and each row counts once however many lanes failed it.
        const int blocks = 40;
        var rng = new Random(5);
        var bits = new ulong[2][][];
        for (var lane = 0; lane < 2; lane++)
        {
            bits[lane] = new ulong[blocks][];
            for (var b = 0; b < blocks; b++)
            {
                bits[lane][b] = new ulong[ValidationEngine.RowVerdicts.BlockRows / 64];
                for (var w = 0; w < bits[lane][b].Length; w++)
                {
                    bits[lane][b][w] = (ulong)rng.NextInt64() & (ulong)rng.NextInt64();
                }
            }
        }

        long expected = 0;
        for (var b = 0; b < blocks; b++)
        {
            for (var w = 0; w < bits[0][b].Length; w++)
            {
                expected += System.Numerics.BitOperations.PopCount(bits[0][b][w] | bits[1][b][w]);
            }
        }

        var verdicts = new ValidationEngine.RowVerdicts(2);
        var slow = Task.Run(() =>
        {
            for (var b = 0; b < blocks; b++)
            {
                Thread.Sleep(b % 10 == 0 ? 20 : 0);
                verdicts.Merge(b, (ulong[])bits[1][b].Clone(), CancellationToken.None);
            }

            verdicts.Finish();
        });
        for (var b = 0; b < blocks; b++)
        {
            verdicts.Merge(b, (ulong[])bits[0][b].Clone(), CancellationToken.None);
        }

        verdicts.Finish();
        await slow.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expected, verdicts.Failed);
    }

    [Fact]
    public void RowVerdicts_OtherLaneFinishedShort_TheWaitingLaneFailsInsteadOfHanging()
    {
        var verdicts = new ValidationEngine.RowVerdicts(2);
        var empty = new ulong[ValidationEngine.RowVerdicts.BlockRows / 64];
        verdicts.Merge(0, empty, CancellationToken.None); // the other lane read one block and finished
        verdicts.Finish();
        for (var b = 0; b <= 8; b++)
        {
            verdicts.Merge(b, empty, CancellationToken.None); // block 8 reuses block 0's slot (both lanes merged it); 1-7 fit
        }

        var e = Assert.Throws<InvalidOperationException>(() => verdicts.Merge(9, empty, CancellationToken.None)); // block 1 never completes
        Assert.Contains("changed while it was validated", e.Message, StringComparison.Ordinal);
    }

    private sealed class CountingSink : IRowSink
    {
        public long Rows { get; private set; }

        public void Begin(IReadOnlyList<string> columns)
        {
        }

        public void Row(RowContext row, bool quarantined, List<RowCheck> failures, string? malformedReason) => Rows++;
    }
}
