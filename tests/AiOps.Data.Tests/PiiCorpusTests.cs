using System.Globalization;
using System.Text;
using AiOps.Data.Pii;

namespace AiOps.Data.Tests;

/// <summary>Detection precision and recall per kind on a labelled corpus built here (every common written form, and the numbers
/// that look like PII but are not: millisecond timestamps, trace ids, bad-checksum IDs, order numbers).</summary>
public sealed class PiiCorpusTests
{
    private static readonly PiiMasker Masker = Validate.Masker;

    private static string RandomDigits(Random r, int n)
    {
        var sb = new StringBuilder(n);
        for (var i = 0; i < n; i++)
        {
            sb.Append((char)('0' + r.Next(10)));
        }

        return sb.ToString();
    }

    private static string WithLuhn(string body)
    {
        for (var c = '0'; c <= '9'; c++)
        {
            if (Luhn.IsValid(body + c))
            {
                return body + c;
            }
        }

        throw new InvalidOperationException("unreachable");
    }

    private static List<(string Text, PiiKind? Kind)> Corpus()
    {
        var r = new Random(20260101);
        var corpus = new List<(string, PiiKind?)>();
        string[] contexts = ["{0}", "联系电话：{0}", "call {0} now", "value={0};", "（{0}）"];
        string Ctx(string v) => string.Format(CultureInfo.InvariantCulture, contexts[r.Next(contexts.Length)], v);

        for (var i = 0; i < 140; i++)
        {
            var p = "1" + (char)('3' + r.Next(7)) + RandomDigits(r, 9);
            corpus.Add((Ctx(PiiLeakTests.PhoneForms(p)[i % 7]), PiiKind.ChinaMobile));
        }

        for (var i = 0; i < 120; i++)
        {
            var region = (110000 + r.Next(540000)).ToString(CultureInfo.InvariantCulture);
            var birth = new DateOnly(1940, 1, 1).AddDays(r.Next(365 * 65));
            var seq = RandomDigits(r, 3);
            var id = i % 2 == 0
                ? PiiLeakTests.Id18(region + birth.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + seq)
                : region + birth.ToString("yyMMdd", CultureInfo.InvariantCulture) + seq;
            corpus.Add((Ctx(id), PiiKind.ChinaResidentId));
        }

        string[] locals = ["zhang.san", "li_si", "wang+tag", "用户", "josé", "Ωmega", "nguyễn.văn", "müller", "a", "x.y.z"];
        string[] domains = ["example.com", "mail.qq.com", "例子.中国", "exämple.de", "δοκιμή.gr", "company.co.uk", "163.com"];
        for (var i = 0; i < 120; i++)
        {
            corpus.Add((Ctx(locals[r.Next(locals.Length)] + r.Next(100).ToString(CultureInfo.InvariantCulture) + "@" + domains[r.Next(domains.Length)]), PiiKind.Email));
        }

        (string Prefix, int Length)[] issuers = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("62", 16), ("62", 19), ("6011", 16), ("65", 16), ("3528", 16), ("36", 14)];
        for (var i = 0; i < 130; i++)
        {
            var (prefix, length) = issuers[i % issuers.Length];
            var card = WithLuhn(prefix + RandomDigits(r, length - prefix.Length - 1));
            var written = length == 16 && i % 3 == 0 ? string.Join(i % 2 == 0 ? " " : "-", Enumerable.Range(0, 4).Select(k => card.Substring(k * 4, 4))) : card;
            corpus.Add((Ctx(written), PiiKind.BankCard));
        }

        // Look-alikes that are not PII.
        for (var i = 0; i < 100; i++)
        {
            corpus.Add((Ctx((1_600_000_000_000L + r.NextInt64(200_000_000_000L)).ToString(CultureInfo.InvariantCulture)), null)); // ms timestamps
            corpus.Add((Ctx("1" + RandomDigits(r, 17)), null)); // 18-digit snowflake trace ids
            corpus.Add((Ctx(RandomDigits(r, 18)), null)); // 18-digit random ids
            corpus.Add((Ctx(WithLuhn("1" + RandomDigits(r, 15))), null)); // Luhn-valid but no issuer
            corpus.Add((Ctx("12" + RandomDigits(r, 9)), null)); // 11 digits, not a mobile prefix
            corpus.Add((Ctx("ORD-" + RandomDigits(r, 10)), null));
            corpus.Add((Ctx((r.Next(1_000_000) / 100.0).ToString("0.00", CultureInfo.InvariantCulture)), null));
            corpus.Add((Ctx(new DateOnly(2000, 1, 1).AddDays(r.Next(9000)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), null));
        }

        return corpus;
    }

    [Theory]
    [InlineData(PiiKind.ChinaMobile)]
    [InlineData(PiiKind.ChinaResidentId)]
    [InlineData(PiiKind.Email)]
    [InlineData(PiiKind.BankCard)]
    public void Detection_PrecisionAndRecall_AtLeast95PercentPerKind(PiiKind kind)
    {
        int tp = 0, fp = 0, fn = 0;
        var misses = new List<string>();
        foreach (var (text, label) in Corpus())
        {
            var found = Masker.Scan(text).Any(f => f.Masked && f.Kind == kind);
            if (found && label == kind)
            {
                tp++;
            }
            else if (found)
            {
                fp++;
                misses.Add("FP " + text);
            }
            else if (label == kind)
            {
                fn++;
                misses.Add("FN " + text);
            }
        }

        var precision = tp / (double)(tp + fp);
        var recall = tp / (double)(tp + fn);
        Assert.True(precision >= 0.95 && recall >= 0.95, $"{kind}: precision {precision:F3}, recall {recall:F3}; e.g.\n{string.Join("\n", misses.Take(15))}");
    }

    [Theory]
    [InlineData("13812345678", "138****5678")]
    [InlineData("138 1234 5678", "138****5678")]
    [InlineData("138-1234-5678", "138****5678")]
    [InlineData("+86 138 1234 5678", "+86 138****5678")]
    [InlineData("8613812345678", "86138****5678")]
    [InlineData("+86-13812345678", "+86-138****5678")]
    [InlineData("110105491231002", "110105******002")]
    public void Mask_EveryWrittenForm_KeepsTheShape(string input, string expected)
    {
        Assert.Equal(expected, Masker.Mask(input).Text);
        Assert.Equal(expected, Masker.MaskValue(input, PiiOperator.Mask));
    }

    [Theory]
    [InlineData("1700000000000")]
    [InlineData("123456789012345678")]
    public void Mask_TimestampsAndTraceIds_LeftAlone(string input) => Assert.Equal(input, Masker.Mask(input).Text);

    [Fact]
    public void Hash_MobileForms_JoinAlike() =>
        Assert.Single(new[] { "13812345678", "138 1234 5678", "+86 138-1234-5678", "8613812345678" }.Select(p => Masker.MaskValue(p, PiiOperator.Hash)).Distinct());
}
