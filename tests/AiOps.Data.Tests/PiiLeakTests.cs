using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AiOps.Data.Gates;
using AiOps.Data.History;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Data.Versions;
using AiOps.Validation;

namespace AiOps.Data.Tests;

/// <summary>Declared PII columns never leak: a realistic file through the gate, a snapshot and the metrics history, then every file
/// written and every string returned is scanned for every raw value of a declared column.</summary>
public sealed partial class PiiLeakTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    internal static readonly string[] Names =
    [
        "张伟", "王芳", "李娜", "欧阳娜娜", "司马相如", "Zhang San", "Li Xiaolong", "María José", "O'Neil, Pat", "Ng",
        "刘德华", "陈奕迅", "Jean-Luc Picard", "Åsa Öberg", "Nguyễn Văn An",
    ];

    /// <summary>A valid 18-digit ID built from 17 digits (the check character computed).</summary>
    internal static string Id18(string first17) => first17 + ChinaResidentId.ComputeCheckCharacter(first17);

    /// <summary>The mobile written in every common form.</summary>
    internal static string[] PhoneForms(string p) =>
    [
        p,
        $"{p[..3]} {p[3..7]} {p[7..]}",
        $"{p[..3]}-{p[3..7]}-{p[7..]}",
        $"+86 {p[..3]} {p[3..7]} {p[7..]}",
        "86" + p,
        "+86" + p,
        "+86-" + p,
    ];

    private sealed record Person(string Name, string Phone, string PhoneDigits, string Id, string Email);

    private static List<Person> People()
    {
        var people = new List<Person>();
        var emails = new[] { "zhang.san{0}@example.com", "用户{0}@例子.中国", "josé{0}@exämple.de", "li_{0}@mail.qq.com", "Ωmega{0}@δοκιμή.gr" };
        for (var i = 0; i < 60; i++)
        {
            var digits = "13" + (8 - (i % 5)).ToString(CultureInfo.InvariantCulture) + (12345600 + (i * 7)).ToString(CultureInfo.InvariantCulture);
            var forms = PhoneForms(digits);
            var first17 = "11010519" + (70 + (i % 30)).ToString("00", CultureInfo.InvariantCulture) + "0" + ((i % 9) + 1).ToString(CultureInfo.InvariantCulture) + "1" + ((i % 9) + 1).ToString(CultureInfo.InvariantCulture) + (100 + i).ToString(CultureInfo.InvariantCulture);
            var id18 = Id18(first17);
            var id = (i % 3) switch
            {
                0 => id18,
                1 => id18[..17] + (id18[17] == '0' ? '1' : '0'), // bad check character
                _ => first17[..6] + first17[8..17], // 15-digit (first generation): 6 + yymmdd + 3
            };
            people.Add(new Person(Names[i % Names.Length] + (i >= Names.Length ? i.ToString(CultureInfo.InvariantCulture) : ""), forms[i % forms.Length], digits, id, string.Format(CultureInfo.InvariantCulture, emails[i % emails.Length], i)));
        }

        return people;
    }

    private static string Field(string v) => v.Contains(',') || v.Contains('"') ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;

    [Fact]
    public async Task Gate_Snapshot_History_NoOutputHoldsARawDeclaredValue()
    {
        var people = People();
        var sb = new StringBuilder("id,name,phone,resident_id,email,age,city\n");
        var i = 0;
        foreach (var p in people)
        {
            i++;
            var age = i % 7 == 0 ? "130" : (20 + (i % 50)).ToString(CultureInfo.InvariantCulture); // out of range: quarantined
            sb.Append(CultureInfo.InvariantCulture, $"{i},{Field(p.Name)},{Field(p.Phone)},{p.Id},{p.Email},{age},Chengdu\n");
        }

        // A ragged row whose PII sits in the wrong positions, and a row whose phone column holds free text around a number.
        sb.Append("999,").Append(people[0].Name).Append(',').Append(people[1].Phone).Append(',').Append(people[2].Id).Append('\n');
        sb.Append("1000,").Append(people[3].Name).Append(",call ").Append(people[3].PhoneDigits).Append(" after 6,").Append(people[3].Id).Append(',').Append(people[3].Email).Append(",33,Chengdu\n");
        // A record with broken quoting around a name (quarantined as malformed, every field masked).
        sb.Append("1001,\"").Append(people[4].Name).Append("\"x,").Append(people[4].PhoneDigits).Append(',').Append(people[4].Id).Append(',').Append(people[4].Email).Append(",40,Chengdu\n");
        var input = _h.WriteFile("people.csv", sb.ToString());

        var rules = RuleSet.Create("people").Key("name").DefaultMostly(0.5).PassRate(0.5)
            .Column("age", c => c.Between(0, 120))
            .Column("phone", c => c.Matches(@"^1[3-9]\d{9}$", severity: ValidationSeverity.Warning))
            .Column("resident_id", c => c.Length(18, 18, severity: ValidationSeverity.Warning))
            .Column("name", c => c.Matches("^[A-Z]", severity: ValidationSeverity.Warning))
            .Column("email", c => c.Matches(@"^[a-z._0-9]+@example\.com$", severity: ValidationSeverity.Warning))
            .Build();
        var ingest = new IngestOptions
        {
            OutputPath = Path.Combine(_h.Root, "out", "people.admitted.csv"),
            QuarantinePath = Path.Combine(_h.Root, "out", "people.quarantine.csv"),
            MaskColumns = { ["name"] = PiiOperator.Redact, ["phone"] = PiiOperator.Mask, ["resident_id"] = PiiOperator.Mask, ["email"] = PiiOperator.Hash },
        };

        var returned = new List<string>();
        using var listener = CaptureTelemetry(returned);
        var result = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(input), rules, ingest);

        Assert.True(result.Admitted);
        Assert.True(result.RowsQuarantined >= 9, $"expected quarantined rows, got {result.RowsQuarantined}");
        Assert.Equal(2, result.Report.MalformedRows); // the ragged row and the broken-quote row
        Assert.All(new[] { "phone.regex", "resident_id.length", "name.regex", "email.regex" }, r => Assert.NotEmpty(result.Report.Rule(r).FailingRows));

        var version = await _h.Get<IDatasetStore>().SnapshotAsync("people", result.AdmittedPath!, new SnapshotOptions { Tag = "v1", Report = result.Report, PiiColumns = { "name", "phone", "resident_id", "email" } });
        var history = _h.Get<IMetricsRepository>();
        await history.RecordAsync(result.Report, [new StdDevStrategy(3)]);

        returned.Add(result.Report.ToJson());
        returned.Add(result.Report.ToText());
        returned.Add(JsonSerializer.Serialize(version));
        returned.Add(JsonSerializer.Serialize(result.Report.Columns));
        returned.AddRange(result.Report.Rules.SelectMany(r => r.FailingRows).Select(f => $"{f.Key}|{f.Value}|{f.Reason}"));
        returned.AddRange(result.Report.Rules.Select(r => r.Message ?? ""));
        returned.AddRange((await history.GetHistoryAsync("people")).SelectMany(r => r.Metrics.Select(kv => kv.Key + "=" + kv.Value.ToString("R", CultureInfo.InvariantCulture))));

        // Exception paths: a declared column that is missing, and Hash without a key.
        var missing = new IngestOptions { OutputPath = Path.Combine(_h.Root, "x", "a.csv"), QuarantinePath = Path.Combine(_h.Root, "x", "q.csv"), MaskColumns = { ["nope"] = PiiOperator.Mask } };
        returned.Add((await Assert.ThrowsAnyAsync<Exception>(() => _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(input), rules, missing))).ToString());
        using (var noKey = new DataHarness(o => o.PiiHashKey = null))
        {
            var hashed = new IngestOptions { MaskColumns = { ["email"] = PiiOperator.Hash } };
            returned.Add((await Assert.ThrowsAnyAsync<Exception>(() => noKey.Get<IDataGate>().IngestAsync(DataSource.FromCsv(input), rules, hashed))).ToString());
        }

        var raw = people.SelectMany(p => new[] { p.Name, p.Phone, p.PhoneDigits, p.Id, p.Email }).Distinct().ToArray();
        var hits = new List<string>();
        var files = Directory.GetFiles(_h.Root, "*", SearchOption.AllDirectories).Where(f => f != input).ToArray();
        Assert.Contains(files, f => f.EndsWith(".json", StringComparison.Ordinal) && f.Contains("manifests", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith(".metrics.json", StringComparison.Ordinal));
        foreach (var file in files)
        {
            Scan(Path.GetRelativePath(_h.Root, file), File.ReadAllText(file), raw, hits);
        }

        for (var k = 0; k < returned.Count; k++)
        {
            Scan($"returned[{k}]", returned[k], raw, hits);
        }

        Assert.True(hits.Count == 0, "raw declared values found:\n" + string.Join("\n", hits.Take(40)));

        // The admitted file holds the rows, masked whole: names redacted, e-mails hashed, no raw phone or ID.
        var admitted = File.ReadAllLines(result.AdmittedPath!).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(result.RowsPassed, admitted.Length);
        Assert.All(admitted, f => Assert.Equal("", f[1]));
        Assert.All(admitted, f => Assert.Matches("^[0-9a-f]{64}$", f[4]));
        var freeText = admitted.Single(f => f[0] == "1000");
        Assert.Matches(@"^\*+1[3-9][0-9]\*{4}[0-9]{4}\*+$", freeText[2]); // "call 135… after 6": only the mobile's shape survives

        // Numeric statistics of declared columns are withheld everywhere.
        foreach (var c in result.Report.Columns.Concat(version.Statistics).Where(c => ingest.MaskColumns.ContainsKey(c.Name)))
        {
            Assert.Null(c.Min);
            Assert.Null(c.Max);
            Assert.Null(c.Mean);
            Assert.Null(c.StdDev);
        }
    }

    [Theory]
    [InlineData("张三丰", PiiOperator.Mask, "***")]
    [InlineData("张三丰", PiiOperator.Redact, "")]
    [InlineData("张三丰", PiiOperator.Replace, "<PII>")]
    [InlineData("110105194912310021", PiiOperator.Mask, "******************")] // bad check character: nothing recognised, all starred
    [InlineData("13812341234", PiiOperator.Mask, "138****1234")]
    [InlineData("13812341234", PiiOperator.Replace, "<CHINA_MOBILE>")]
    [InlineData("Tel 13812341234", PiiOperator.Mask, "****138****1234")]
    public void MaskValue_DeclaredValue_NeverKeepsUnrecognisedText(string value, PiiOperator op, string expected) =>
        Assert.Equal(expected, Validate.Masker.MaskValue(value, op));

    [Fact]
    public void MaskValue_Hash_IsKeyedAndJoinsAcrossWrittenForms()
    {
        var a = Validate.Masker.MaskValue("张三丰", PiiOperator.Hash);
        Assert.Matches("^[0-9a-f]{64}$", a);
        Assert.Equal(a, Validate.Masker.MaskValue(" 张三丰 ", PiiOperator.Hash));
        Assert.Equal(Validate.Masker.MaskValue("Zhang.San@Example.com", PiiOperator.Hash), Validate.Masker.MaskValue("zhang.san@example.com", PiiOperator.Hash));
    }

    private static void Scan(string where, string text, string[] raw, List<string> hits)
    {
        var decoded = JsonEscape().Replace(text, m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString());
        foreach (var v in raw)
        {
            if (text.Contains(v, StringComparison.Ordinal) || decoded.Contains(v, StringComparison.Ordinal) || decoded.Contains(v.Replace("\"", "\"\"", StringComparison.Ordinal), StringComparison.Ordinal))
            {
                hits.Add($"{where}: {v}");
            }
        }
    }

    [GeneratedRegex(@"\\u([0-9A-Fa-f]{4})")]
    private static partial Regex JsonEscape();

    /// <summary>Collects every metric tag and span tag the data package emits while the test runs.</summary>
    private static IDisposable CaptureTelemetry(List<string> sink)
    {
        var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name.StartsWith("AiOps.Data", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            var line = new StringBuilder(instrument.Name).Append(' ').Append(value);
            foreach (var t in tags)
            {
                line.Append(' ').Append(t.Key).Append('=').Append(t.Value);
            }

            lock (sink)
            {
                sink.Add(line.ToString());
            }
        }

        meters.SetMeasurementEventCallback<long>(Record);
        meters.SetMeasurementEventCallback<double>(Record);
        meters.Start();
        var spans = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("AiOps.Data", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (sink)
                {
                    sink.Add(a.DisplayName + " " + string.Join(" ", a.TagObjects.Select(t => t.Key + "=" + t.Value)) + " " + a.StatusDescription);
                }
            },
        };
        ActivitySource.AddActivityListener(spans);
        return new Both(meters, spans);
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}

/// <summary>Gate semantics (row_count on admitted rows) and non-finite statistics in every JSON output.</summary>
public sealed class GateSemanticsTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void RowCount_JudgesAdmittedRows_NotRowsRead()
    {
        var values = Enumerable.Range(1, 1000).Select(i => (IReadOnlyList<object?>)[i <= 15 ? -1 : i]).ToArray();
        var rules = RuleSet.Create("t").DefaultMostly(0.9).RowCount(min: 1000).Column("x", c => c.Between(0, null)).Build();
        var report = Validate.Run(DataSource.FromRecords("t", ["x"], values), rules);
        Assert.Equal(1000, report.RowsChecked);
        Assert.Equal(15, report.RowsFailed);
        var rowCount = report.Rule("row_count");
        Assert.False(rowCount.Passed);
        Assert.Equal(985, rowCount.Observed);
        Assert.False(report.Passed);

        var ok = Validate.Run(DataSource.FromRecords("t", ["x"], values), RuleSet.Create("t").DefaultMostly(0.9).RowCount(min: 985).Column("x", c => c.Between(0, null)).Build());
        Assert.True(ok.Rule("row_count").Passed);
    }

    [Fact]
    public async Task HugeValues_NonFiniteStatistics_SurviveEveryJsonPath()
    {
        var csv = _h.WriteFile("big.csv", "id,x\n1,1e200\n2,-1e200\n3,1e200\n4,5\n");
        var gate = _h.Get<IDataGate>();
        var result = await gate.IngestAsync(DataSource.FromCsv(csv), RuleSet.Create("big").Column("x", c => c.NotNull()).Build(),
            new IngestOptions { OutputPath = Path.Combine(_h.Root, "a", "big.csv"), QuarantinePath = Path.Combine(_h.Root, "q", "big.csv") });
        var x = result.Report.Columns.Single(c => c.Name == "x");
        Assert.True(x.StdDev is { } sd && !double.IsFinite(sd), $"expected a non-finite deviation, got {x.StdDev}");

        var json = result.Report.ToJson();
        Assert.Contains("\"Infinity\"", json, StringComparison.Ordinal);
        var back = ValidationReport.FromJson(json);
        Assert.Equal(x.StdDev, back.Columns.Single(c => c.Name == "x").StdDev);

        var store = _h.Get<IDatasetStore>();
        var v = await store.SnapshotAsync("big", csv, new SnapshotOptions { Report = result.Report });
        Assert.False(double.IsFinite(v.Statistics.Single(c => c.Name == "x").StdDev!.Value));
        Assert.False(double.IsFinite((await store.GetAsync("big", v.Version))!.Report!.Columns.Single(c => c.Name == "x").StdDev!.Value));

        var history = _h.Get<IMetricsRepository>();
        await history.RecordAsync(result.Report, [new StdDevStrategy(3)]);
        await history.RecordAsync(result.Report, [new StdDevStrategy(3)]);
        var runs = await history.GetHistoryAsync("big");
        Assert.Equal(2, runs.Count);
        Assert.False(double.IsFinite(runs[1].Metrics["x.stddev"]));
    }
}

/// <summary>Statistics of undeclared numeric columns that hold identifiers are withheld; others are kept.</summary>
public sealed class StatisticsPiiTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void UndeclaredIdColumns_MinMaxWithheld_EvenWhenOnlyENotationWouldShowThem_TimestampsKept()
    {
        var id1 = PiiLeakTests.Id18("11010519491231002");
        var csv = $"rid,card,phone,ts,amount\n{id1},4111111111111111,13812345678,1700000000000,12.5\n{PiiLeakTests.Id18("11010519800101123")},5500005555555559,13912345678,1700000000999,99\n";
        var report = Validate.Run(DataSource.FromCsv(_h.WriteFile("s.csv", csv)), RuleSet.Empty("s"));
        foreach (var name in new[] { "card", "phone" })
        {
            var c = report.Columns.Single(x => x.Name == name);
            Assert.Null(c.Min);
            Assert.Null(c.Max);
        }

        Assert.Equal(1700000000000, report.Columns.Single(x => x.Name == "ts").Min);
        Assert.Equal(99, report.Columns.Single(x => x.Name == "amount").Max);
        var json = report.ToJson();
        Assert.DoesNotContain("E+", json, StringComparison.Ordinal);
        Assert.DoesNotContain("4111111111111111", json, StringComparison.Ordinal);
        Assert.DoesNotContain("13812345678", json, StringComparison.Ordinal);
    }
}
