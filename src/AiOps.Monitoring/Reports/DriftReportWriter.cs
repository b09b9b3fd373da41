using System.Globalization;
using System.Net;
using System.Text;
using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Internal;

namespace AiOps.Monitoring.Reports;

/// <summary>
/// Renders a drift window as one self-contained HTML file (no scripts, styles or images from elsewhere): a summary, a
/// table of every statistic with its p-value, sample count and severity colour, and per feature an inline SVG chart of
/// the reference and current proportion of each bin.
/// </summary>
public sealed class DriftReportWriter
{
    /// <summary>The colour of stable results.</summary>
    public const string StableColor = "#2e7d32";

    /// <summary>The colour of moderate results.</summary>
    public const string ModerateColor = "#f9a825";

    /// <summary>The colour of severe results.</summary>
    public const string SevereColor = "#c62828";

    private const string ReferenceColor = "#5c6bc0";
    private const string CurrentColor = "#ff7043";
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;
    private readonly DriftOptions _options;

    /// <summary>Creates a writer.</summary>
    /// <param name="options">The options whose thresholds the report states; <see langword="null"/> for the defaults.</param>
    public DriftReportWriter(DriftOptions? options = null)
    {
        _options = options ?? new DriftOptions();
    }

    /// <summary>Renders the report of a closed window (its result and the counts behind it).</summary>
    /// <param name="window">The window, e.g. from <see cref="IDriftMonitor.GetWindows"/>.</param>
    /// <param name="title">The page title; <see langword="null"/> for "Drift report — model:version".</param>
    public string Render(DriftWindow window, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(window);
        return Render(window.Result, window.Histogram, title);
    }

    /// <summary>Renders the report of a result; charts are drawn for features whose counts <paramref name="current"/> holds.</summary>
    /// <param name="result">The drift result.</param>
    /// <param name="current">The window's counts (and through them the reference profile); <see langword="null"/> for a table only.</param>
    /// <param name="title">The page title.</param>
    public string Render(DriftResult result, ProfileHistogram? current, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        title ??= $"Drift report — {result.Key}";
        var sb = new StringBuilder(16 * 1024);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Encode(title)).Append("</title>\n<style>\n")
          .Append("body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212121}")
          .Append("table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ddd;padding:4px 10px;text-align:right}")
          .Append("th{background:#f5f5f5}td.name{text-align:left}.sev{color:#fff;font-weight:600;border-radius:3px;padding:1px 6px}")
          .Append(".stable{background:").Append(StableColor).Append("}.moderate{background:").Append(ModerateColor).Append(";color:#212121}.severe{background:").Append(SevereColor).Append("}.unknown{background:#757575}")
          .Append("section{margin:18px 0}svg text{font-size:11px;fill:#424242}\n</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Encode(title)).Append("</h1>\n");
        var severities = result.FeatureSeverities();
        sb.Append("<p>Model <b>").Append(Encode(result.Key.Model.Value)).Append("</b>, version <b>").Append(Encode(result.Key.Version.Value))
          .Append("</b>; window ").Append(Encode(result.WindowStart.ToString("O", s_inv))).Append(" – ").Append(Encode(result.WindowEnd.ToString("O", s_inv)))
          .Append(".</p>\n<p>Overall severity ").Append(Badge(result.Severity)).Append("; ")
          .Append(severities.Count(s => s.Value == DriftSeverity.Severe).ToString(s_inv)).Append(" of ").Append(severities.Count.ToString(s_inv))
          .Append(" features severe (drift share ").Append((result.FeatureDriftShare() * 100).ToString("F0", s_inv)).Append('%').Append(").</p>\n");
        if (result.Features.Count == 0)
        {
            sb.Append("<p>No feature had enough values in this window to be evaluated.</p>\n");
        }
        else
        {
            sb.Append("<table>\n<tr><th>Feature</th><th>Statistic</th><th>Value</th><th>p-value</th><th>Values</th><th>Severity</th></tr>\n");
            foreach (var f in result.Features)
            {
                sb.Append("<tr><td class=\"name\">").Append(Encode(f.Feature)).Append("</td><td class=\"name\">").Append(Encode(f.Statistic))
                  .Append("</td><td>").Append(Number(f.Value)).Append("</td><td>").Append(f.PValue is { } p ? Number(p) : "–")
                  .Append("</td><td>").Append(f.SampleCount.ToString(s_inv)).Append("</td><td>").Append(Badge(f.Severity)).Append("</td></tr>\n");
            }

            sb.Append("</table>\n");
        }

        sb.Append("<p>Thresholds (moderate / severe): ")
          .Append(Thresholds("PSI", _options.Psi)).Append(Thresholds("KS D", _options.KolmogorovSmirnov))
          .Append(Thresholds("Jensen–Shannon (base 2)", _options.JensenShannon)).Append(Thresholds("Hellinger", _options.Hellinger))
          .Append(Thresholds("normalised Wasserstein", _options.Wasserstein)).Append(Thresholds("chi-square by Cohen's w", _options.ChiSquare))
          .Append("PSI empty-bin epsilon ").Append(_options.Epsilon.ToString("G3", s_inv))
          .Append(". Severity comes from these effect sizes; p-values are shown for information. ")
          .Append("Bins are the reference's, left-closed, with outer bins open to −∞ and +∞; missing (NaN) values are counted apart.</p>\n");
        if (current is not null)
        {
            foreach (var histogram in current.Features)
            {
                var severity = severities.FirstOrDefault(s => s.Key == histogram.Feature.Name);
                sb.Append("<section>\n<h2>").Append(Encode(histogram.Feature.Name)).Append(' ')
                  .Append(severity.Key is null ? "<span class=\"sev\" style=\"background:#9e9e9e\">not evaluated</span>" : Badge(severity.Value)).Append("</h2>\n");
                AppendChart(sb, histogram);
                sb.Append("<p>").Append(histogram.Count.ToString(s_inv)).Append(" current values, ").Append(histogram.NaNCount.ToString(s_inv))
                  .Append(" missing; ").Append(histogram.Feature.ReferenceCount.ToString(s_inv)).Append(" reference values.</p>\n</section>\n");
            }
        }

        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Writes the report of <paramref name="window"/> to <paramref name="path"/> atomically (temporary file, flush, rename).</summary>
    /// <param name="path">The file path.</param>
    /// <param name="window">The window.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task WriteAsync(string path, DriftWindow window, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Render(window), cancellationToken);

    /// <summary>Writes the report of <paramref name="result"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="result">The result.</param>
    /// <param name="current">The window's counts, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task WriteAsync(string path, DriftResult result, ProfileHistogram? current, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Render(result, current), cancellationToken);

    private static void AppendChart(StringBuilder sb, FeatureHistogram histogram)
    {
        const int Height = 180, Top = 20, Bottom = 60, Left = 40, BinWidth = 44;
        var reference = histogram.Feature.Proportions();
        var counts = histogram.Counts;
        var current = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            current[i] = histogram.Count == 0 ? 0 : counts[i] / (double)histogram.Count;
        }

        var max = Math.Max(reference.DefaultIfEmpty(0).Max(), current.DefaultIfEmpty(0).Max());
        max = max <= 0 ? 1 : max;
        var width = Left + (BinWidth * counts.Length) + 10;
        var plot = Height - Top - Bottom;
        sb.Append(string.Create(s_inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{Height}\" role=\"img\" aria-label=\"Reference and current proportions per bin\">\n"));
        sb.Append(string.Create(s_inv, $"<line x1=\"{Left}\" y1=\"{Top + plot}\" x2=\"{width - 5}\" y2=\"{Top + plot}\" stroke=\"#9e9e9e\"/>\n"));
        sb.Append(string.Create(s_inv, $"<text x=\"2\" y=\"{Top + 4}\">{max * 100:F0}%</text><text x=\"2\" y=\"{Top + plot}\">0%</text>\n"));
        for (var b = 0; b < counts.Length; b++)
        {
            var x = Left + (b * BinWidth);
            var hr = reference[b] / max * plot;
            var hc = current[b] / max * plot;
            sb.Append(string.Create(s_inv, $"<rect class=\"ref\" x=\"{x + 4}\" y=\"{Top + plot - hr:F1}\" width=\"17\" height=\"{hr:F1}\" fill=\"{ReferenceColor}\"><title>reference {reference[b] * 100:F2}%</title></rect>"));
            sb.Append(string.Create(s_inv, $"<rect class=\"cur\" x=\"{x + 22}\" y=\"{Top + plot - hc:F1}\" width=\"17\" height=\"{hc:F1}\" fill=\"{CurrentColor}\"><title>current {current[b] * 100:F2}%</title></rect>"));
            sb.Append(string.Create(s_inv, $"<text transform=\"translate({x + 22},{Top + plot + 12}) rotate(35)\">")).Append(Encode(histogram.Feature.BinLabel(b))).Append("</text>\n");
        }

        sb.Append(string.Create(s_inv, $"<rect x=\"{Left}\" y=\"2\" width=\"10\" height=\"10\" fill=\"{ReferenceColor}\"/><text x=\"{Left + 14}\" y=\"11\">reference</text>"));
        sb.Append(string.Create(s_inv, $"<rect x=\"{Left + 90}\" y=\"2\" width=\"10\" height=\"10\" fill=\"{CurrentColor}\"/><text x=\"{Left + 104}\" y=\"11\">current</text>\n"));
        sb.Append("</svg>\n");
    }

    private static string Thresholds(string name, DriftThresholds t) =>
        string.Create(s_inv, $"{Encode(name)} {t.Moderate:G3} / {t.Severe:G3}; ");

    private static string Badge(DriftSeverity severity)
    {
        var css = severity switch
        {
            DriftSeverity.Severe => "severe",
            DriftSeverity.Moderate => "moderate",
            DriftSeverity.InsufficientData => "unknown",
            DriftSeverity.Stable => "stable",
            _ => "unknown",
        };
        return $"<span class=\"sev {css}\">{css}</span>";
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "∞" : value.ToString(Math.Abs(value) is > 0 and < 1e-4 ? "E3" : "F4", s_inv);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
