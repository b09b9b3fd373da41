using System.Globalization;
using System.Net;
using System.Text;
using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Internal;

namespace AiOps.Monitoring.Reports;

/// <summary>
/// Renders a drift window as one self-contained HTML file (no scripts, styles or images from elsewhere): a summary with
/// the dataset verdict by the share of drifted features, a table of every statistic with its p-value, sample count and
/// severity colour, summary statistics per feature (mean, sd, range, missing %, out-of-range or unseen %), and per
/// feature an inline SVG chart: numeric features on their value axis (bin widths by value, heights by density,
/// reference and current overlaid; per-value features as bars at each value plus "other"), categorical ones per category.
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
    private readonly double _datasetDriftShare = 0.5;

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
        AppendDatasetVerdict(sb, severities);
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
          .Append(Thresholds("missing share (current − reference, all rows)", _options.MissingShare))
          .Append("PSI empty-bin epsilon ").Append(_options.Epsilon.ToString("G3", s_inv))
          .Append(". Severity comes from these effect sizes; p-values are shown for information. ")
          .Append("Bins are the reference's, left-closed, with outer bins open to −∞ and +∞; missing (NaN) values are counted apart.</p>\n");
        if (current is not null)
        {
            AppendSummary(sb, current);
            foreach (var histogram in current.Features)
            {
                var severity = severities.FirstOrDefault(s => s.Key == histogram.Feature.Name);
                sb.Append("<section>\n<h2>").Append(Encode(histogram.Feature.Name)).Append(' ')
                  .Append(severity.Key is null ? "<span class=\"sev\" style=\"background:#9e9e9e\">not evaluated</span>" : Badge(severity.Value)).Append("</h2>\n");
                if (histogram.Feature.Kind == FeatureKind.Numeric && histogram.Feature.Binning == BinningMethod.PerValue)
                {
                    AppendPerValueChart(sb, histogram);
                }
                else if (histogram.Feature.Kind == FeatureKind.Numeric)
                {
                    AppendValueAxisChart(sb, histogram);
                }
                else
                {
                    AppendChart(sb, histogram);
                }

                sb.Append("<p>").Append(histogram.Count.ToString(s_inv)).Append(" current values, ").Append(histogram.NaNCount.ToString(s_inv))
                  .Append(" missing; ").Append(histogram.Feature.ReferenceCount.ToString(s_inv)).Append(" reference values.</p>\n</section>\n");
            }
        }

        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>
    /// Renders drift over time from kept windows (e.g. <see cref="IDriftMonitor.GetWindows"/>, oldest first): one SVG line
    /// per feature of its PSI in each window, the moderate and severe thresholds dashed, and a table of each window's
    /// severity and dataset drift share. Windows where a feature had insufficient data leave a gap in its line.
    /// </summary>
    /// <param name="windows">The windows, oldest first.</param>
    /// <param name="title">The page title; <see langword="null"/> for "Drift over time — model:version".</param>
    /// <exception cref="ArgumentException">No windows.</exception>
    public string RenderOverTime(IReadOnlyList<DriftWindow> windows, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (windows.Count == 0)
        {
            throw new ArgumentException("No windows were given; expected at least one closed window.", nameof(windows));
        }

        title ??= $"Drift over time — {windows[0].Result.Key}";
        const int Height = 240, Top = 20, Bottom = 30, Left = 50, Width = 560;
        string[] palette = ["#1e88e5", "#43a047", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41", "#d81b60", "#3949ab"];
        var features = windows.SelectMany(w => w.Result.Features).Where(f => f.Statistic == DriftStatisticNames.Psi).Select(f => f.Feature).Distinct(StringComparer.Ordinal).ToList();
        var max = Math.Max(_options.Psi.Severe * 1.5, windows.SelectMany(w => w.Result.Features)
            .Where(f => f.Statistic == DriftStatisticNames.Psi && f.Severity != DriftSeverity.InsufficientData && double.IsFinite(f.Value))
            .Select(f => f.Value).DefaultIfEmpty(0).Max());
        var plot = Height - Top - Bottom;
        double X(int i) => Left + (windows.Count == 1 ? Width / 2.0 : i * Width / (double)(windows.Count - 1));
        double Y(double v) => Top + plot - (Math.Min(v, max) / max * plot);
        var sb = new StringBuilder(8 * 1024);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Encode(title)).Append("</title>\n<style>\n")
          .Append("body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212121}")
          .Append("table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ddd;padding:4px 10px;text-align:right}th{background:#f5f5f5}")
          .Append(".sev{color:#fff;font-weight:600;border-radius:3px;padding:1px 6px}.stable{background:").Append(StableColor).Append("}.moderate{background:").Append(ModerateColor)
          .Append(";color:#212121}.severe{background:").Append(SevereColor).Append("}.unknown{background:#757575}svg text{font-size:11px;fill:#424242}\n</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Encode(title)).Append("</h1>\n");
        sb.Append(string.Create(s_inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Left + Width + 160}\" height=\"{Height}\" role=\"img\" aria-label=\"PSI per feature over the kept windows\">\n"));
        sb.Append(string.Create(s_inv, $"<line x1=\"{Left}\" y1=\"{Top + plot}\" x2=\"{Left + Width}\" y2=\"{Top + plot}\" stroke=\"#9e9e9e\"/><text x=\"2\" y=\"{Top + plot}\">0</text><text x=\"2\" y=\"{Top + 4}\">PSI {max:G3}</text>\n"));
        foreach (var (threshold, colour) in new[] { (_options.Psi.Moderate, ModerateColor), (_options.Psi.Severe, SevereColor) })
        {
            sb.Append(string.Create(s_inv, $"<line class=\"threshold\" x1=\"{Left}\" y1=\"{Y(threshold):F1}\" x2=\"{Left + Width}\" y2=\"{Y(threshold):F1}\" stroke=\"{colour}\" stroke-dasharray=\"4 3\"/>\n"));
        }

        for (var k = 0; k < features.Count; k++)
        {
            var colour = palette[k % palette.Length];
            var points = new StringBuilder();
            for (var i = 0; i < windows.Count; i++)
            {
                var row = windows[i].Result.Find(features[k], DriftStatisticNames.Psi);
                if (row is null || row.Severity == DriftSeverity.InsufficientData || double.IsNaN(row.Value))
                {
                    Flush(sb, points, colour, features[k]);
                    continue;
                }

                points.Append(string.Create(s_inv, $"{X(i):F1},{Y(row.Value):F1} "));
            }

            Flush(sb, points, colour, features[k]);
            sb.Append(string.Create(s_inv, $"<text x=\"{Left + Width + 10}\" y=\"{Top + 12 + (k * 14)}\" fill=\"{colour}\">")).Append(Encode(features[k])).Append("</text>\n");
        }

        sb.Append(string.Create(s_inv, $"<text x=\"{Left}\" y=\"{Height - 8}\">")).Append(Encode(windows[0].Result.WindowEnd.ToString("u", s_inv)))
          .Append(string.Create(s_inv, $"</text><text x=\"{Left + Width - 110}\" y=\"{Height - 8}\">")).Append(Encode(windows[^1].Result.WindowEnd.ToString("u", s_inv))).Append("</text>\n</svg>\n");
        sb.Append("<table>\n<tr><th>Window end</th><th>Severity</th><th>Drift share</th></tr>\n");
        foreach (var w in windows)
        {
            sb.Append("<tr><td>").Append(Encode(w.Result.WindowEnd.ToString("O", s_inv))).Append("</td><td>").Append(Badge(w.Result.Severity))
              .Append("</td><td>").Append((w.Result.FeatureDriftShare() * 100).ToString("F0", s_inv)).Append("%</td></tr>\n");
        }

        sb.Append("</table>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Flush(StringBuilder sb, StringBuilder points, string colour, string feature)
    {
        if (points.Length == 0)
        {
            return;
        }

        sb.Append("<polyline class=\"psi\" fill=\"none\" stroke=\"").Append(colour).Append("\" stroke-width=\"2\" points=\"").Append(points.ToString().TrimEnd())
          .Append("\"><title>").Append(Encode(feature)).Append("</title></polyline>\n");
        points.Clear();
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

    /// <summary>The share of judged features (worst statistic moderate or severe) at which the report calls the dataset drifted (default 0.5, as Evidently).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The share is not in (0, 1].</exception>
    public double DatasetDriftShare
    {
        get => _datasetDriftShare;
        init => _datasetDriftShare = value is > 0 and <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DatasetDriftShare), value, "Expected a share of drifted features in (0, 1] (default 0.5).");
    }

    private void AppendDatasetVerdict(StringBuilder sb, IReadOnlyList<KeyValuePair<string, DriftSeverity>> severities)
    {
        var judged = severities.Where(s => s.Value != DriftSeverity.InsufficientData).ToList();
        var drifted = judged.Count(s => s.Value >= DriftSeverity.Moderate);
        sb.Append("<p class=\"verdict\">Dataset drift: ");
        if (judged.Count == 0)
        {
            sb.Append("<b>unknown</b> (no feature could be judged).</p>\n");
            return;
        }

        var share = drifted / (double)judged.Count;
        sb.Append(share >= DatasetDriftShare ? "<b>detected</b>" : "<b>not detected</b>")
          .Append(string.Create(s_inv, $": {drifted} of {judged.Count} judged features drifted (moderate or severe), {share * 100:F0}% against a threshold of {DatasetDriftShare * 100:F0}%"));
        var unknown = severities.Count - judged.Count;
        sb.Append(unknown > 0 ? string.Create(s_inv, $"; {unknown} with insufficient data.</p>\n") : ".</p>\n");
    }

    private static void AppendSummary(StringBuilder sb, ProfileHistogram current)
    {
        sb.Append("<h2>Summary statistics</h2>\n<table class=\"summary\">\n<tr><th>Feature</th><th>Kind</th><th>Reference values</th><th>Reference missing</th>")
          .Append("<th>Reference mean ± sd</th><th>Reference range</th><th>Current values</th><th>Current missing</th><th>Current mean</th><th>Out of range / unseen</th></tr>\n");
        foreach (var h in current.Features)
        {
            var f = h.Feature;
            var refMissing = Share(f.MissingCount, f.ReferenceCount + f.MissingCount);
            var curMissing = Share(h.NaNCount, h.Count + h.NaNCount);
            sb.Append("<tr class=\"stats\"><td class=\"name\">").Append(Encode(f.Name)).Append("</td><td class=\"name\">")
              .Append(f.Kind == FeatureKind.Numeric ? f.Binning == BinningMethod.PerValue ? "numeric (per value)" : "numeric" : "categorical")
              .Append("</td><td>").Append(f.ReferenceCount.ToString(s_inv)).Append("</td><td>").Append(refMissing).Append("</td><td>");
            if (f.Kind == FeatureKind.Numeric)
            {
                sb.Append(Value(f.Mean)).Append(" ± ").Append(Value(f.StandardDeviation)).Append("</td><td>[").Append(Value(f.Min)).Append(", ").Append(Value(f.Max)).Append(']');
            }
            else
            {
                sb.Append("–</td><td>").Append(f.Categories.Count.ToString(s_inv)).Append(" categories");
            }

            sb.Append("</td><td>").Append(h.Count.ToString(s_inv)).Append("</td><td>").Append(curMissing).Append("</td><td>")
              .Append(f.Kind == FeatureKind.Numeric && h.Count > 0 ? CurrentMean(h) : "–").Append("</td><td>").Append(OutOfRange(h)).Append("</td></tr>\n");
        }

        sb.Append("</table>\n<p>Current means come from the bins: for per-value bins the exact mean of the values the reference has, ≈ from bin midpoints otherwise (outer bins at the reference range). ")
          .Append("Out of range: values the reference never had (per-value bins) or unseen categories; for quantile bins it is not known from the counts (–).</p>\n");
    }

    private static string CurrentMean(FeatureHistogram h)
    {
        var f = h.Feature;
        var edges = f.EdgeArray;
        var counts = h.Counts;
        double sum = 0, n = 0;
        if (f.Binning == BinningMethod.PerValue)
        {
            for (var b = 1; b < edges.Length; b++)
            {
                if (IsValueBin(edges, b))
                {
                    sum += edges[b - 1] * counts[b];
                    n += counts[b];
                }
            }

            return n == 0 ? "–" : Value(sum / n);
        }

        for (var b = 0; b < counts.Length; b++)
        {
            var lo = b == 0 ? Math.Min(f.Min, edges[0]) : edges[b - 1];
            var hi = b == edges.Length ? Math.Max(f.Max, edges[^1]) : edges[b];
            sum += (lo + hi) / 2 * counts[b];
            n += counts[b];
        }

        return n == 0 ? "–" : "≈ " + Value(sum / n);
    }

    private static string OutOfRange(FeatureHistogram h)
    {
        var f = h.Feature;
        if (h.Count == 0)
        {
            return "–";
        }

        if (f.Kind == FeatureKind.Categorical)
        {
            return Share(h.Counts[^1], h.Count);
        }

        if (f.Binning != BinningMethod.PerValue)
        {
            return "–";
        }

        long other = 0;
        for (var b = 0; b < h.Counts.Length; b++)
        {
            if (!(b > 0 && b < f.EdgeArray.Length && IsValueBin(f.EdgeArray, b)))
            {
                other += h.Counts[b];
            }
        }

        return Share(other, h.Count);
    }

    /// <summary>Bin b of per-value edges holds one value: [v, next(v)).</summary>
    private static bool IsValueBin(double[] edges, int b) => b > 0 && b < edges.Length && edges[b] == Math.BitIncrement(edges[b - 1]);

    private static string Share(long part, long total) => total == 0 ? "–" : string.Create(s_inv, $"{part * 100.0 / total:F1}%");

    private static string Value(double v) => v.ToString("G4", s_inv);

    /// <summary>
    /// A numeric feature on its value axis: each bin is as wide as its value range (outer bins drawn over the reference
    /// range) and as tall as its density, reference and current overlaid, so the reference is not a flat 10 %.
    /// </summary>
    private static void AppendValueAxisChart(StringBuilder sb, FeatureHistogram histogram)
    {
        const int Height = 200, Top = 20, Bottom = 40, Left = 50, Width = 520, Stub = 14;
        var f = histogram.Feature;
        var edges = f.EdgeArray;
        var reference = f.Proportions();
        var counts = histogram.Counts;
        var lo = Math.Min(f.Min, edges[0]);
        var hi = Math.Max(f.Max, edges[^1]);
        var span = hi > lo ? hi - lo : 1;
        double X(double v) => Left + Stub + ((v - lo) / span * Width);
        var x0 = new double[counts.Length];
        var x1 = new double[counts.Length];
        for (var b = 0; b < counts.Length; b++)
        {
            x0[b] = b == 0 ? (f.Min < edges[0] ? X(f.Min) : X(edges[0]) - Stub) : X(edges[b - 1]);
            x1[b] = b == edges.Length ? (f.Max > edges[^1] ? X(f.Max) : X(edges[^1]) + Stub) : X(edges[b]);
            x1[b] = Math.Max(x1[b], x0[b] + 1);
        }

        var current = new double[counts.Length];
        var maxDensity = 0.0;
        for (var b = 0; b < counts.Length; b++)
        {
            current[b] = histogram.Count == 0 ? 0 : counts[b] / (double)histogram.Count;
            maxDensity = Math.Max(maxDensity, Math.Max(reference[b], current[b]) / (x1[b] - x0[b]));
        }

        maxDensity = maxDensity <= 0 ? 1 : maxDensity;
        var plot = Height - Top - Bottom;
        var width = Left + Stub + Width + Stub + 10;
        sb.Append(string.Create(s_inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{Height}\" role=\"img\" aria-label=\"Reference and current density on the value axis\">\n"));
        sb.Append(string.Create(s_inv, $"<line x1=\"{Left}\" y1=\"{Top + plot}\" x2=\"{width - 5}\" y2=\"{Top + plot}\" stroke=\"#9e9e9e\"/>\n"));
        sb.Append(string.Create(s_inv, $"<text x=\"2\" y=\"{Top + 4}\">density</text>\n"));
        for (var b = 0; b < counts.Length; b++)
        {
            var w = x1[b] - x0[b];
            var hr = reference[b] / w / maxDensity * plot;
            var hc = current[b] / w / maxDensity * plot;
            sb.Append("<g><title>").Append(Encode(f.BinLabel(b))).Append("</title>");
            sb.Append(string.Create(s_inv, $"<rect class=\"ref\" x=\"{x0[b]:F1}\" y=\"{Top + plot - hr:F1}\" width=\"{w:F1}\" height=\"{hr:F1}\" fill=\"{ReferenceColor}\" fill-opacity=\"0.45\"><title>reference {reference[b] * 100:F2}%</title></rect>"));
            sb.Append(string.Create(s_inv, $"<rect class=\"cur\" x=\"{x0[b]:F1}\" y=\"{Top + plot - hc:F1}\" width=\"{w:F1}\" height=\"{hc:F1}\" fill=\"none\" stroke=\"{CurrentColor}\" stroke-width=\"2\"><title>current {current[b] * 100:F2}%</title></rect></g>\n"));
        }

        // Value ticks: the reference range's ends and its middle.
        foreach (var v in new[] { lo, lo + (span / 2), hi })
        {
            var x = X(v);
            sb.Append(string.Create(s_inv, $"<line x1=\"{x:F1}\" y1=\"{Top + plot}\" x2=\"{x:F1}\" y2=\"{Top + plot + 4}\" stroke=\"#9e9e9e\"/><text x=\"{x - 12:F1}\" y=\"{Top + plot + 16}\">"))
              .Append(Encode(Value(v))).Append("</text>\n");
        }

        AppendLegend(sb, Left);
        sb.Append("</svg>\n");
    }

    /// <summary>A per-value feature: one pair of bars at each reference value on the value axis, plus one pair for values the reference never had.</summary>
    private static void AppendPerValueChart(StringBuilder sb, FeatureHistogram histogram)
    {
        const int Height = 200, Top = 20, Bottom = 40, Left = 50, Width = 480, Bar = 9;
        var f = histogram.Feature;
        var edges = f.EdgeArray;
        var reference = f.Proportions();
        var counts = histogram.Counts;
        var values = new List<(double Value, int Bin)>();
        double otherRef = 0, otherCur = 0;
        for (var b = 0; b < counts.Length; b++)
        {
            var cur = histogram.Count == 0 ? 0 : counts[b] / (double)histogram.Count;
            if (IsValueBin(edges, b))
            {
                values.Add((edges[b - 1], b));
            }
            else if (!(edges.Length == 1 && b == 1))
            {
                otherRef += reference[b];
                otherCur += cur;
            }
            else
            {
                values.Add((edges[0], b)); // a constant's last bin [v, +inf) when v + ulp overflowed
            }
        }

        var max = 1e-12;
        foreach (var (_, b) in values)
        {
            max = Math.Max(max, Math.Max(reference[b], histogram.Count == 0 ? 0 : counts[b] / (double)histogram.Count));
        }

        max = Math.Max(max, Math.Max(otherRef, otherCur));
        var lo = values.Count == 0 ? 0 : values[0].Value;
        var hi = values.Count == 0 ? 1 : values[^1].Value;
        var span = hi > lo ? hi - lo : 1;
        var plot = Height - Top - Bottom;
        var width = Left + Width + 80;
        sb.Append(string.Create(s_inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{Height}\" role=\"img\" aria-label=\"Reference and current share of each value\">\n"));
        sb.Append(string.Create(s_inv, $"<line x1=\"{Left}\" y1=\"{Top + plot}\" x2=\"{width - 5}\" y2=\"{Top + plot}\" stroke=\"#9e9e9e\"/>\n"));
        sb.Append(string.Create(s_inv, $"<text x=\"2\" y=\"{Top + 4}\">{max * 100:F0}%</text><text x=\"2\" y=\"{Top + plot}\">0%</text>\n"));
        void Pair(double x, double r, double c, string label)
        {
            var hr = r / max * plot;
            var hc = c / max * plot;
            sb.Append(string.Create(s_inv, $"<rect class=\"ref\" x=\"{x - Bar:F1}\" y=\"{Top + plot - hr:F1}\" width=\"{Bar}\" height=\"{hr:F1}\" fill=\"{ReferenceColor}\"><title>reference {r * 100:F2}%</title></rect>"));
            sb.Append(string.Create(s_inv, $"<rect class=\"cur\" x=\"{x:F1}\" y=\"{Top + plot - hc:F1}\" width=\"{Bar}\" height=\"{hc:F1}\" fill=\"{CurrentColor}\"><title>current {c * 100:F2}%</title></rect>"));
            sb.Append(string.Create(s_inv, $"<text x=\"{x - 10:F1}\" y=\"{Top + plot + 16}\">")).Append(Encode(label)).Append("</text>\n");
        }

        foreach (var (v, b) in values)
        {
            var x = Left + 20 + ((v - lo) / span * (Width - 40));
            Pair(x, reference[b], histogram.Count == 0 ? 0 : counts[b] / (double)histogram.Count, Value(v));
        }

        Pair(Left + Width + 40, otherRef, otherCur, "other");
        AppendLegend(sb, Left);
        sb.Append("</svg>\n");
    }

    private static void AppendLegend(StringBuilder sb, int left)
    {
        sb.Append(string.Create(s_inv, $"<rect x=\"{left}\" y=\"2\" width=\"10\" height=\"10\" fill=\"{ReferenceColor}\"/><text x=\"{left + 14}\" y=\"11\">reference</text>"));
        sb.Append(string.Create(s_inv, $"<rect x=\"{left + 90}\" y=\"2\" width=\"10\" height=\"10\" fill=\"{CurrentColor}\"/><text x=\"{left + 104}\" y=\"11\">current</text>\n"));
    }

    private static void AppendChart(StringBuilder sb, FeatureHistogram histogram)
    {
        const int Height = 200, Top = 20, Bottom = 80, Left = 40, BinWidth = 44;
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
            var label = histogram.Feature.BinLabel(b);
            var shown = label.Length > 16 ? label[..15] + "…" : label;
            sb.Append(string.Create(s_inv, $"<text transform=\"translate({x + 22},{Top + plot + 12}) rotate(35)\"><title>")).Append(Encode(label)).Append("</title>").Append(Encode(shown)).Append("</text>\n");
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
        double.IsNaN(value) ? "–" : double.IsPositiveInfinity(value) ? "∞" : value.ToString(Math.Abs(value) is > 0 and < 1e-4 ? "E3" : "F4", s_inv);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
