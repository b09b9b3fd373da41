using System.Globalization;
using System.Net;
using System.Text;
using AiOps.Data.Quality;
using AiOps.Validation;

namespace AiOps.Data.Internal;

/// <summary>Renders a <see cref="ValidationReport"/> as one self-contained page: inline CSS, no script, no external resource, every
/// text HTML-escaped, XHTML syntax (so it parses as XML too).</summary>
internal static class HtmlReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private const string Style = """
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
        table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}
        .verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff}.verdict.pass{background:#1a7f37}.verdict.fail{background:#cf222e}
        .bar{display:inline-block;height:10px;background:#0969da;vertical-align:middle}.rate{display:inline-block;width:120px;height:10px;background:#eaeef2;vertical-align:middle;margin-right:6px}
        .rate span{display:block;height:10px;background:#1a7f37}.rate.bad span{background:#cf222e}
        .hist{display:flex;align-items:flex-end;gap:1px;height:60px;border-bottom:1px solid #8c959f;width:320px}
        .hist div{flex:1;background:#0969da;min-height:1px}
        details{margin:4px 0}summary{cursor:pointer}small{color:#57606a}
        """;

    public static string Render(ValidationReport r)
    {
        var sb = new StringBuilder(16 * 1024);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n<meta charset=\"utf-8\" />\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n");
        sb.Append("<title>Data quality: ").Append(E(r.Dataset)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n");

        var failedRules = r.Rules.Count(x => !x.Passed);
        sb.Append("<h1>Data quality: ").Append(E(r.Dataset)).Append(" <span class=\"verdict ").Append(r.Passed ? "pass\">PASSED" : "fail\">FAILED").Append("</span></h1>\n");
        sb.Append(C, $"<p><small>Validated {E(r.StartedAt.ToString("u", C))} in {(r.CompletedAt - r.StartedAt).TotalSeconds:0.###} s</small></p>\n");
        sb.Append("<table><tr><th>rows read</th><th>rows failing (quarantined)</th><th>malformed</th><th>blank lines</th><th>rows passing</th><th>rules failed</th></tr>\n");
        var passRate = r.RowsChecked == 0 ? 1 : (r.RowsChecked - r.RowsFailed) / (double)r.RowsChecked;
        sb.Append(C, $"<tr><td class=\"n\">{r.RowsChecked}</td><td class=\"n\">{r.RowsFailed}</td><td class=\"n\">{r.MalformedRows}</td><td class=\"n\">{r.BlankLines}</td>");
        sb.Append("<td class=\"n\">").Append(Rate(passRate, true)).Append(Pct(passRate)).Append("</td>");
        sb.Append(C, $"<td class=\"n\">{failedRules} of {r.Rules.Count}</td></tr></table>\n");

        sb.Append("<h2>Rules</h2>\n<table><tr><th>rule</th><th>result</th><th>severity</th><th>expected</th><th>pass rate</th><th>required</th><th>evaluated</th><th>unexpected</th><th>note</th></tr>\n");
        foreach (var rule in r.Rules)
        {
            var status = rule.Passed ? "<span class=\"pass\">pass</span>" : rule.Severity == ValidationSeverity.Error ? "<span class=\"fail\">FAIL</span>" : "<span class=\"warn\">warn</span>";
            sb.Append("<tr><td>").Append(E(rule.Name)).Append("</td><td>").Append(status).Append("</td><td>").Append(E(rule.Severity.ToString()))
                .Append("</td><td>").Append(E(rule.Expectation)).Append("</td><td class=\"n\">");
            if (rule.Scope == RuleScope.Row || rule.Name == RuleSet.PassRateRuleName)
            {
                var observed = rule.Observed ?? 1;
                sb.Append(Rate(observed, rule.Passed)).Append(Pct(observed));
            }
            else if (rule.Observed is { } o)
            {
                sb.Append(E(N(o)));
            }

            sb.Append("</td><td class=\"n\">").Append(rule.Mostly is { } m ? Pct(m) : "").Append("</td>");
            sb.Append(C, $"<td class=\"n\">{(rule.Scope == RuleScope.Row || rule.Evaluated > 0 ? rule.Evaluated.ToString(C) : "")}</td><td class=\"n\">{(rule.Scope == RuleScope.Row || rule.Evaluated > 0 ? rule.Unexpected.ToString(C) : "")}</td>");
            sb.Append("<td>").Append(E(rule.Message ?? "")).Append("</td></tr>\n");
        }

        sb.Append("</table>\n");

        var withSamples = r.Rules.Where(x => x.FailingRows.Count > 0).ToList();
        if (withSamples.Count > 0)
        {
            sb.Append("<h2>Failing rows (samples, masked)</h2>\n");
            foreach (var rule in withSamples)
            {
                sb.Append(C, $"<details{(rule.Passed ? "" : " open=\"open\"")}><summary>{E(rule.Name)}: {rule.FailingRows.Count} of {rule.Unexpected} failing rows shown</summary>\n");
                sb.Append("<table><tr><th>line</th><th>row</th><th>key</th><th>value</th><th>reason</th></tr>\n");
                foreach (var f in rule.FailingRows)
                {
                    sb.Append(C, $"<tr><td class=\"n\">{f.Line}</td><td class=\"n\">{f.Row}</td><td>{E(f.Key ?? "")}</td><td>{E(f.Value ?? "")}</td><td>{E(f.Reason)}</td></tr>\n");
                }

                sb.Append("</table></details>\n");
            }
        }

        sb.Append("<h2>Columns</h2>\n<table><tr><th>column</th><th>type</th><th>count</th><th>nulls</th><th>complete</th><th>distinct (approx.)</th><th>min</th><th>max</th><th>mean</th><th>std dev</th><th>length</th><th>histogram</th></tr>\n");
        var histograms = r.Histograms.ToDictionary(h => h.Column, StringComparer.Ordinal);
        foreach (var s in r.Columns)
        {
            sb.Append("<tr><td>").Append(E(s.Name)).Append("</td><td>").Append(E(s.InferredType.ToString())).Append("</td>");
            sb.Append(C, $"<td class=\"n\">{s.Count}</td><td class=\"n\">{s.Nulls}</td><td class=\"n\">{Pct(s.Completeness)}</td><td class=\"n\">{s.DistinctEstimate}</td>");
            sb.Append("<td class=\"n\">").Append(E(N(s.Min))).Append("</td><td class=\"n\">").Append(E(N(s.Max))).Append("</td><td class=\"n\">")
                .Append(E(N(s.Mean))).Append("</td><td class=\"n\">").Append(E(N(s.StdDev))).Append("</td>");
            sb.Append("<td class=\"n\">").Append(s.MinLength is { } lo ? string.Create(C, $"{lo}–{s.MaxLength}") : "").Append("</td><td>");
            if (histograms.TryGetValue(s.Name, out var h))
            {
                Histogram(sb, h);
            }

            sb.Append("</td></tr>\n");
        }

        sb.Append("</table>\n<p><small>Values of declared PII columns are masked whole; their statistics and histograms are withheld. The JSON report (ToJson) is the machine format.</small></p>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Histogram(StringBuilder sb, ColumnHistogram h)
    {
        var max = Math.Max(1, h.Bins.Max(b => b.Count));
        sb.Append("<div class=\"hist\" role=\"img\" aria-label=\"histogram of ").Append(E(h.Column)).Append("\">");
        foreach (var b in h.Bins)
        {
            var height = b.Count == 0 ? 0 : Math.Max(2, 100.0 * b.Count / max);
            sb.Append(C, $"<div style=\"height:{height:0.#}%\" title=\"[{E(N(b.Lower))}, {E(N(b.Upper))}): {b.Count}\"></div>");
        }

        sb.Append("</div><small>").Append(E(N(h.Bins[0].Lower))).Append(" … ").Append(E(N(h.Bins[^1].Upper))).Append("</small>");
    }

    private static string Rate(double fraction, bool good) =>
        string.Create(C, $"<span class=\"rate{(good ? "" : " bad")}\"><span style=\"width:{Math.Clamp(fraction, 0, 1) * 100:0.#}%\"></span></span>");

    private static string Pct(double fraction) => double.IsFinite(fraction) ? (fraction * 100).ToString("0.##", C) + " %" : N(fraction);

    private static string N(double? v) => v switch
    {
        null => "",
        { } x when double.IsNaN(x) => "NaN",
        { } x when double.IsPositiveInfinity(x) => "Infinity",
        { } x when double.IsNegativeInfinity(x) => "-Infinity",
        { } x => x.ToString("G6", C),
    };

    /// <summary>HTML-escapes text (also quotes, so it is safe inside attributes); control characters other than tab and line breaks,
    /// which XML cannot hold, become U+FFFD.</summary>
    private static string E(string text)
    {
        var encoded = WebUtility.HtmlEncode(text);
        if (!encoded.AsSpan().ContainsAnyInRange('\0', '\u001F'))
        {
            return encoded;
        }

        var chars = encoded.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] < ' ' && chars[i] is not '\t' and not '\n' and not '\r')
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }
}
