using AiOps.Data.Gates;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Data.Tests;

/// <summary>One masker everywhere (a host's own IPiiMasker masks the declared columns too), open recognisers, IPv6.</summary>
public sealed class PiiRecognizerTests
{
    /// <summary>A host's masker that knows one kind only: "EMP-" followed by digits, replaced with "[emp]". It implements Mask and Scan
    /// and relies on the interface's default MaskValue.</summary>
    private sealed class HostMasker : IPiiMasker
    {
        public PiiMaskResult Mask(string text, PiiMaskingPolicy? policy = null)
        {
            var findings = Scan(text, policy);
            var s = text;
            foreach (var f in findings.Reverse())
            {
                s = string.Concat(s.AsSpan(0, f.Start), "[emp]", s.AsSpan(f.Start + f.Length));
            }

            return new PiiMaskResult(s, findings);
        }

        public IReadOnlyList<PiiFinding> Scan(string text, PiiMaskingPolicy? policy = null) =>
            System.Text.RegularExpressions.Regex.Matches(text, "EMP-[0-9]+").Select(m => new PiiFinding(PiiKind.Custom, m.Index, m.Length, true) { Recognizer = "EMP" }).ToList();
    }

    private sealed class CountingHostMasker : IPiiMasker
    {
        private readonly HostMasker _inner = new();

        public int MaskValueCalls { get; private set; }

        public PiiMaskResult Mask(string text, PiiMaskingPolicy? policy = null) => _inner.Mask(text, policy);

        public IReadOnlyList<PiiFinding> Scan(string text, PiiMaskingPolicy? policy = null) => _inner.Scan(text, policy);

        public string MaskValue(string value, PiiOperator op)
        {
            MaskValueCalls++;
            return "HOST:" + ((IPiiMasker)_inner).MaskValue(value, op);
        }
    }

    private static RuleSet Rules() => RuleSet.Create("r").PassRate(0.5).Column("id", c => c.NotNull()).Column("age", c => c.Between(0, 120, mostly: 0.5)).Build();

    [Fact]
    public async Task Gate_HostRegisteredMasker_MasksDeclaredColumnsInAdmittedQuarantineAndReport()
    {
        var host = new CountingHostMasker();
        using var h = new DataHarness(before: s => s.AddSingleton<IPiiMasker>(host));
        Assert.Same(host, h.Get<IPiiMasker>());
        var csv = "id,age,staff\n1,30,EMP-1234 of Zhang\n2,300,EMP-999 of Li\n";
        var options = new IngestOptions { MaskColumns = { ["staff"] = PiiOperator.Mask } };
        var result = await h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(h.WriteFile("s.csv", csv)), Rules(), options);

        Assert.True(result.Admitted);
        var admitted = File.ReadAllText(result.AdmittedPath!);
        var quarantine = File.ReadAllText(result.QuarantinePath);
        Assert.Contains("1,30,HOST:[emp]*********", admitted, StringComparison.Ordinal); // the host's masker chose the output
        Assert.Contains(",2,300,HOST:[emp]******", quarantine, StringComparison.Ordinal);
        foreach (var raw in new[] { "Zhang", "EMP-1234", "EMP-999", " of Li" })
        {
            Assert.DoesNotContain(raw, admitted, StringComparison.Ordinal);
            Assert.DoesNotContain(raw, quarantine, StringComparison.Ordinal);
            Assert.DoesNotContain(raw, result.Report.ToJson(), StringComparison.Ordinal);
        }

        Assert.True(host.MaskValueCalls >= 2);
    }

    [Theory]
    [InlineData("EMP-1234 of Zhang", PiiOperator.Mask, "[emp]*********")]
    [InlineData("Zhang San", PiiOperator.Mask, "*********")]
    [InlineData("EMP-1234", PiiOperator.Replace, "[emp]")]
    [InlineData(" EMP-1234 ", PiiOperator.Replace, "[emp]")]
    [InlineData("EMP-1 and EMP-2", PiiOperator.Replace, "<PII>")]
    [InlineData("Zhang", PiiOperator.Replace, "<PII>")]
    [InlineData("EMP-1234", PiiOperator.Redact, "")]
    [InlineData("Zhang", PiiOperator.Hash, "*****")]
    public void DefaultMaskValue_AnyMasker_KeepsNoUnrecognisedText(string value, PiiOperator op, string expected) =>
        Assert.Equal(expected, ((IPiiMasker)new HostMasker()).MaskValue(value, op));

    [Fact]
    public void DefaultMaskValue_MaskerThatFindsNothingInTheItemAlone_StarsIt()
    {
        // Scan finds a context-dependent item, Mask of the item alone returns it unchanged: it must not get through.
        var masker = new ContextMasker();
        Assert.Equal("***********", ((IPiiMasker)masker).MaskValue("id X1 there", PiiOperator.Mask));
    }

    private sealed class ContextMasker : IPiiMasker
    {
        public PiiMaskResult Mask(string text, PiiMaskingPolicy? policy = null) => new(text, Scan(text, policy));

        public IReadOnlyList<PiiFinding> Scan(string text, PiiMaskingPolicy? policy = null) =>
            text.StartsWith("id ", StringComparison.Ordinal) ? [new PiiFinding(PiiKind.Custom, 3, 2, true)] : [];
    }

    private static PiiRecognizer Employee() => new("EMPLOYEE_ID", "E[0-9]{6}", v => v[^1] != '0')
    {
        ContextWords = ["employee", "工号"],
        ContextWindow = 20,
        KeepLast = 2,
    };

    [Fact]
    public void CustomRecognizer_WithContextAndValidator_FindsMasksAndRejects()
    {
        using var h = new DataHarness(data: b => b.AddPiiRecognizer(Employee()));
        var masker = h.Get<IPiiMasker>();

        var r = masker.Mask("employee E123456 left; call 13812341234");
        Assert.Equal("employee *****56 left; call 138****1234", r.Text);
        var f = r.Findings.First(x => x.Kind == PiiKind.Custom);
        Assert.Equal("EMPLOYEE_ID", f.Recognizer);

        Assert.Equal("工号:E654321", masker.Mask("工号:E654321", PiiMaskingPolicy.For(PiiOperator.Replace)).Text.Replace("<EMPLOYEE_ID>", "E654321", StringComparison.Ordinal));
        Assert.Equal("invoice E123456 paid", masker.Mask("invoice E123456 paid").Text); // no context word nearby: not an employee id
        var rejected = masker.Mask("employee E123450");
        Assert.Equal("employee E123450", rejected.Text);
        Assert.Contains("validator", Assert.Single(rejected.Rejected).Problem, StringComparison.Ordinal);
        var onlyBuiltIn = new PiiMaskingPolicy { Kinds = { PiiKind.ChinaMobile } };
        Assert.Equal("employee E123456", masker.Mask("employee E123456", onlyBuiltIn).Text);
    }

    [Fact]
    public async Task CustomRecognizer_InGate_MasksReportSamplesOfUndeclaredColumns()
    {
        using var h = new DataHarness(data: b => b.AddPiiRecognizer(new PiiRecognizer("TICKET", "T-[0-9]{5}")));
        var rules = RuleSet.Create("r").Column("note", c => c.Length(null, 5)).Build();
        var result = await h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(h.WriteFile("n.csv", "note\nsee T-12345 now\nok\n")), rules);
        var json = result.Report.ToJson();
        Assert.DoesNotContain("T-12345", json, StringComparison.Ordinal);
        Assert.Contains("see ******* now", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "E1")]
    [InlineData("employee_id", "E1")]
    [InlineData("EMAIL", "E1")]
    [InlineData("OK_NAME", "(")]
    [InlineData("OK_NAME", "x*")]
    public void Recognizer_BadNameOrPattern_ThrowsNamingIt(string name, string pattern)
    {
        var e = Assert.Throws<ArgumentException>(() => new PiiRecognizer(name, pattern));
        Assert.Contains(name.Length == 0 || name != "OK_NAME" ? "name" : pattern, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recognizers_DuplicateNames_FailWhenTheMaskerIsBuilt()
    {
        using var h = new DataHarness(data: b => b.AddPiiRecognizer(new PiiRecognizer("TICKET", "T1")).AddPiiRecognizer(new PiiRecognizer("TICKET", "T2")));
        var e = Assert.Throws<ArgumentException>(() => h.Get<IPiiMasker>());
        Assert.Contains("'TICKET'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from 2001:db8:85a3::8a2e:370:7334 today", "from 2001:db8::* today")]
    [InlineData("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:0db8::*")]
    [InlineData("fe80::1ff:fe23:4567:890a", "fe80::*")]
    [InlineData("peer ::1", "peer ::*")]
    [InlineData("::ffff:192.0.2.1", "::*")]
    [InlineData("at 12:30:45 on 2025-01-01", "at 12:30:45 on 2025-01-01")]
    [InlineData("mac 00:1a:2b:3c:4d:5e", "mac 00:1a:2b:3c:4d:5e")]
    [InlineData("ratio 1:2:3", "ratio 1:2:3")]
    [InlineData("192.168.1.20", "192.168.*.*")]
    public void IPv6_FoundInAnyWrittenForm_TimesAndMacsAreNot(string input, string expected) =>
        Assert.Equal(expected, Validate.Masker.Mask(input).Text);

    [Fact]
    public void IPv6_HashJoinsCompressedAndFullForms()
    {
        var policy = PiiMaskingPolicy.For(PiiOperator.Hash);
        Assert.Equal(Validate.Masker.Mask("2001:db8::1", policy).Text, Validate.Masker.Mask("2001:0DB8:0:0:0:0:0:1", policy).Text);
        Assert.Equal("<IPV6>", Validate.Masker.Mask("2001:db8::1", PiiMaskingPolicy.For(PiiOperator.Replace)).Text);
    }
}
