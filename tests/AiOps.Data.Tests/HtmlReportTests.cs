using System.Globalization;
using System.Text;
using System.Xml.Linq;
using AiOps.Data.Gates;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

/// <summary>The HTML report: self-contained, well-formed, escaped, and free of every raw value of a declared PII column.</summary>
public sealed class HtmlReportTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static readonly string[] Names = ["张伟", "王芳", "Zhang San", "María José", "O'Neil, Pat", "Jean-Luc Picard", "Åsa Öberg"];

    private sealed record Person(string Name, string Phone, string Id, string Email, int Age, string Note);

    private static List<Person> People()
    {
        var people = new List<Person>();
        for (var i = 0; i < 120; i++)
        {
            var p = "139" + (20_000_000 + (i * 13)).ToString(CultureInfo.InvariantCulture);
            var phone = (i % 4) switch { 0 => p, 1 => $"{p[..3]} {p[3..7]} {p[7..]}", 2 => $"+86-{p}", _ => "86" + p };
            var first17 = "11010519" + (70 + (i % 25)).ToString("00", CultureInfo.InvariantCulture) + "0" + ((i % 9) + 1).ToString(CultureInfo.InvariantCulture) + "1" + ((i % 9) + 1).ToString(CultureInfo.InvariantCulture) + (100 + i).ToString(CultureInfo.InvariantCulture);
            var id = first17 + ChinaResidentId.ComputeCheckCharacter(first17);
            people.Add(new Person(
                Names[i % Names.Length] + (i / Names.Length == 0 ? "" : (i / Names.Length).ToString(CultureInfo.InvariantCulture)),
                phone,
                i % 5 == 0 ? id[..17] + (id[17] == '0' ? '1' : '0') : id, // some bad check characters: unrecognised, still masked whole
                $"user{i}@例子.中国",
                i % 11 == 0 ? 150 + i : 18 + (i % 60), // some ages out of range: failing samples
                i % 13 == 0 ? "<script>alert('x')</script> & more" : "ok"));
        }

        return people;
    }

    private static string Field(string v) => v.Contains(',', StringComparison.Ordinal) || v.Contains('"', StringComparison.Ordinal) ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;

    [Fact]
    public async Task ToHtml_RealisticFile_NoRawDeclaredValue_WellFormed_Escaped_WithHistograms()
    {
        var people = People();
        var sb = new StringBuilder("name,phone,resident_id,email,age,note\n");
        foreach (var p in people)
        {
            sb.Append(string.Join(",", Field(p.Name), Field(p.Phone), p.Id, p.Email, p.Age.ToString(CultureInfo.InvariantCulture), Field(p.Note))).Append('\n');
        }

        // Rules that fail on the declared columns too, so their (masked) values are sampled.
        var rules = RuleSet.Create("people").Key("name").PassRate(0.5).DefaultMostly(0.5)
            .Column("age", c => c.Between(0, 120))
            .Column("phone", c => c.Matches(@"^1[3-9]\d{9}$"))
            .Column("resident_id", c => c.Length(19, null))
            .Column("name", c => c.Length(null, 3))
            .Column("note", c => c.InSet(["ok"]))
            .Build();
        var options = new IngestOptions
        {
            MaskColumns = { ["name"] = PiiOperator.Redact, ["phone"] = PiiOperator.Mask, ["resident_id"] = PiiOperator.Mask, ["email"] = PiiOperator.Hash },
        };
        var result = await _h.Get<IDataGate>().IngestAsync(DataSource.FromCsv(_h.WriteFile("people.csv", sb.ToString())), rules, options);
        var html = result.Report.ToHtml();

        foreach (var p in people)
        {
            foreach (var raw in new[] { p.Name, p.Phone, p.Phone.Replace(" ", "", StringComparison.Ordinal).Replace("+86-", "", StringComparison.Ordinal), p.Id, p.Email })
            {
                Assert.DoesNotContain(raw, html, StringComparison.Ordinal);
                Assert.DoesNotContain(System.Net.WebUtility.HtmlEncode(raw), html, StringComparison.Ordinal);
            }
        }

        Assert.Contains("139****", html, StringComparison.Ordinal); // the masked shape is what a reader sees
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/1999/xhtml", "", StringComparison.Ordinal), StringComparison.Ordinal); // self-contained
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);

        var doc = Parse(html);
        XNamespace x = "http://www.w3.org/1999/xhtml";
        var rows = doc.Descendants(x + "table").ElementAt(1).Elements(x + "tr").Skip(1).ToList();
        Assert.Equal(result.Report.Rules.Select(r => r.Name), rows.Select(r => r.Elements(x + "td").First().Value));
        var histograms = doc.Descendants(x + "div").Where(d => (string?)d.Attribute("class") == "hist").Select(d => (string?)d.Attribute("aria-label")).ToList();
        Assert.Equal(["histogram of age"], histograms); // the declared columns have none
        Assert.Equal(result.Report.Histograms.Single().Bins.Count, doc.Descendants(x + "div").Single(d => (string?)d.Attribute("class") == "hist").Elements(x + "div").Count());
    }

    /// <summary>Parses the page as XML (it is written in XHTML syntax); the HTML5 doctype is dropped first, as XML readers refuse DTDs.</summary>
    private static XDocument Parse(string html)
    {
        Assert.StartsWith("<!DOCTYPE html>\n", html, StringComparison.Ordinal);
        return XDocument.Parse(html["<!DOCTYPE html>\n".Length..]);
    }

    [Fact]
    public void ToHtml_HostileNamesAndNonFiniteStatistics_StayEscapedAndWellFormed()
    {
        var rows = Enumerable.Range(0, 20).Select(i => (IReadOnlyList<object?>)[i % 2 == 0 ? "1e200" : "-1e200", "a\"b<c>&'d\u0001"]).ToList();
        var report = Validate.Run(DataSource.FromRecords("set <b>&\"x\"", ["big", "t<e>xt"], rows),
            RuleSet.Create("r").Column("t<e>xt", c => c.Length(null, 2, mostly: 0)).Build());
        var html = report.ToHtml();
        var doc = Parse(html);
        XNamespace x = "http://www.w3.org/1999/xhtml";
        Assert.Equal("Data quality: set <b>&\"x\"", doc.Descendants(x + "title").Single().Value);
        Assert.Contains("Infinity", html, StringComparison.Ordinal); // the overflowed deviation, as text
        Assert.Contains(doc.Descendants(x + "td"), td => td.Value == "a\"b<c>&'d\uFFFD");
    }

    [Fact]
    public void Histogram_CoversEveryValue_WithPowerOfTwoWidths()
    {
        var h = new StreamingHistogram();
        var values = Enumerable.Range(0, 1000).Select(i => ((i * 37) % 1000) - 300.5).ToList();
        foreach (var v in values)
        {
            h.Add(v);
        }

        var bins = h.ToBins();
        Assert.Equal(1000, bins.Sum(b => b.Count));
        Assert.True(bins.Count <= StreamingHistogram.Bins);
        Assert.True(bins[0].Lower <= values.Min() && bins[^1].Upper > values.Max());
        var width = bins[0].Upper - bins[0].Lower;
        Assert.Equal(Math.Pow(2, Math.Round(Math.Log2(width))), width);
        // Power-of-two widths with aligned edges: at most four times the width of a two-pass histogram of 32 bins over [min, max].
        Assert.True(width <= 4 * (values.Max() - values.Min()) / StreamingHistogram.Bins);
        foreach (var b in bins)
        {
            Assert.Equal(values.Count(v => v >= b.Lower && v < b.Upper), b.Count);
        }
    }
}
