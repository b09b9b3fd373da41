using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Reports;

namespace AiOps.Monitoring.Tests.Reports;

public sealed class DriftReportWriterTests
{
    private static DriftWindow Window()
    {
        var reference = ReferenceProfileBuilder.Numeric("amount<script>", Enumerable.Range(0, 1001).Select(i => i / 1000.0).ToArray(), new ReferenceProfileOptions { BinCount = 4 });
        var stable = ReferenceProfileBuilder.Numeric("age", Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray(), new ReferenceProfileOptions { BinCount = 4 });
        var histogram = new ProfileHistogram(new ReferenceProfile([reference, stable]));
        histogram["amount<script>"].Add(Enumerable.Range(0, 500).Select(i => 0.5 + (i / 1000.0)).ToArray());
        histogram["age"].Add(Enumerable.Range(0, 500).Select(i => i / 500.0).ToArray());
        histogram.Rows = 500;
        var result = new DriftCalculator().Evaluate(new ModelKey("fraud", "2"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), histogram);
        return new DriftWindow(result, histogram);
    }

    [Fact]
    public void Render_Window_HasTableRowPerStatisticAndChartPerFeature()
    {
        var window = Window();
        var html = new DriftReportWriter().Render(window);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(window.Result.Features.Count, CountOf(html, "<tr><td class=\"name\">"));
        Assert.Equal(2, CountOf(html, "<svg "));
        Assert.Equal(8, CountOf(html, "<rect class=\"ref\""));
        Assert.Equal(8, CountOf(html, "<rect class=\"cur\""));
        Assert.Contains("fraud", html, StringComparison.Ordinal);
        Assert.Contains(DriftReportWriter.SevereColor, html, StringComparison.Ordinal);
        Assert.Contains("class=\"sev severe\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"sev stable\"", html, StringComparison.Ordinal);
        Assert.Contains("[0.25, 0.5)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_FeatureNameWithMarkup_IsEncodedAndFileIsSelfContained()
    {
        var html = new DriftReportWriter().Render(Window());
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("amount&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_CurrentBarHeights_FollowProportions()
    {
        // amount: current values 0.5..0.999 -> bins 2 and 3 hold half each; reference a quarter each.
        var html = new DriftReportWriter().Render(Window());
        Assert.Contains("<title>current 50.00%</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>current 0.00%</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>reference 25.07%</title>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ResultWithoutFeatures_SaysNothingWasEvaluated()
    {
        var empty = new DriftResult(new ModelKey("fraud", "2"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, []);
        var html = new DriftReportWriter().Render(empty, null);
        Assert.Contains("No feature had enough values", html, StringComparison.Ordinal);
        // Issue 16: nothing evaluated is unknown, never a green "stable" badge.
        Assert.Contains("class=\"sev unknown\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"sev stable\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_CustomThresholds_AreStated()
    {
        var html = new DriftReportWriter(new DriftOptions { Psi = new DriftThresholds(0.15, 0.3) }).Render(Window());
        Assert.Contains("PSI 0.15 / 0.3", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_WritesRenderedHtmlAtomically()
    {
        var dir = Directory.CreateTempSubdirectory("aiops-report-");
        try
        {
            var path = Path.Combine(dir.FullName, "drift.html");
            var writer = new DriftReportWriter();
            var window = Window();
            await writer.WriteAsync(path, window);
            Assert.Equal(writer.Render(window), await File.ReadAllTextAsync(path));
            Assert.Single(Directory.GetFiles(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

/// <summary>Issue 16, item 6: value axis, per-value bars, dataset verdict by share, summary statistics.</summary>
public sealed class DriftReportContentTests
{
    private static double NextNormal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static DriftWindow Window(bool flagDrifts)
    {
        var rng = new Random(6);
        var flagRef = Enumerable.Range(0, 2_000).Select(i => i % 20 == 0 ? 1.0 : 0.0).ToArray(); // 5 % ones
        var normalRef = Enumerable.Range(0, 5_000).Select(_ => NextNormal(rng)).ToArray();
        var profile = new ReferenceProfile([ReferenceProfileBuilder.Numeric("flag", flagRef), ReferenceProfileBuilder.Numeric("x", normalRef)]);
        var histogram = new ProfileHistogram(profile);
        histogram["flag"].Add(Enumerable.Range(0, 1_000).Select(i => flagDrifts ? i % 2 : (i % 20 == 0 ? 1.0 : 0.0)).ToArray());
        histogram["flag"].Add([7.0, double.NaN]); // a value the reference never had, and a missing one
        histogram["x"].Add(Enumerable.Range(0, 1_000).Select(_ => NextNormal(rng)).ToArray());
        var result = new DriftCalculator().Evaluate(new ModelKey("fraud", "2"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), histogram);
        return new DriftWindow(result, histogram);
    }

    [Fact]
    public void Render_DatasetVerdict_ByShareOfDriftedFeatures()
    {
        Assert.Contains("Dataset drift: <b>detected</b>: 1 of 2 judged features drifted (moderate or severe), 50% against a threshold of 50%", new DriftReportWriter().Render(Window(true)), StringComparison.Ordinal);
        Assert.Contains("Dataset drift: <b>not detected</b>: 1 of 2", new DriftReportWriter { DatasetDriftShare = 0.75 }.Render(Window(true)), StringComparison.Ordinal);
        Assert.Contains("Dataset drift: <b>not detected</b>: 0 of 2", new DriftReportWriter().Render(Window(false)), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DriftReportWriter { DatasetDriftShare = 0 });
    }

    [Fact]
    public void Render_PerValueFeature_BarsAtEachValuePlusOther_AndSummaryStatistics()
    {
        var html = new DriftReportWriter().Render(Window(true));

        // flag: bars at 0 and 1 plus "other" (the 7): reference 95 % / 5 %, current ~50 % / 50 %.
        Assert.Contains("<title>reference 95.00%</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>reference 5.00%</title>", html, StringComparison.Ordinal);
        Assert.Contains(">other</text>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"name\">numeric (per value)</td>", html, StringComparison.Ordinal);

        // Summary: 1,001 current values, 1 missing (0.1 %), mean of the 0/1 values 0.5, 1 of 1,001 out of range (0.1 %).
        Assert.Contains("<td>1001</td><td>0.1%</td><td>0.5</td><td>0.1%</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NumericFeature_OnTheValueAxis_ReferenceDensityIsNotFlat()
    {
        var html = new DriftReportWriter().Render(Window(false));
        var section = html[html.IndexOf("<h2>x ", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("</svg>", StringComparison.Ordinal)];
        var heights = System.Text.RegularExpressions.Regex.Matches(section, "class=\"ref\" x=\"[^\"]+\" y=\"[^\"]+\" width=\"[^\"]+\" height=\"([^\"]+)\"")
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

        // Ten quantile bins hold 10 % each, but on the value axis the central ones are narrow and so tall.
        Assert.Equal(10, heights.Count);
        Assert.True(heights.Max() > 2 * heights.Min(), string.Join(", ", heights));
        Assert.Contains(">density</text>", section, StringComparison.Ordinal);
    }
}

/// <summary>Issue 16, item 6: drift over time from the kept windows.</summary>
public sealed class DriftOverTimeReportTests
{
    [Fact]
    public void RenderOverTime_ThreeWindows_OneLinePerFeature_GapForInsufficientData()
    {
        var profile = new ReferenceProfile(
        [
            ReferenceProfileBuilder.Numeric("a", Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray()),
            ReferenceProfileBuilder.Numeric("b", Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray()),
        ]);
        var windows = new List<DriftWindow>();
        for (var w = 0; w < 3; w++)
        {
            var histogram = new ProfileHistogram(profile);
            histogram["a"].Add(Enumerable.Range(0, 500).Select(i => (w * 0.3) + (i / 500.0)).ToArray());
            histogram["b"].Add(Enumerable.Range(0, w == 1 ? 5 : 500).Select(i => i / (w == 1 ? 5.0 : 500.0)).ToArray()); // window 1: too few values
            var start = DateTimeOffset.UnixEpoch.AddHours(w);
            windows.Add(new DriftWindow(new DriftCalculator().Evaluate(new ModelKey("fraud", "2"), start, start.AddHours(1), histogram), histogram));
        }

        var html = new DriftReportWriter().RenderOverTime(windows);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(html, "<line class=\"threshold\""));
        var lines = System.Text.RegularExpressions.Regex.Matches(html, "<polyline class=\"psi\"[^>]*points=\"([^\"]*)\"><title>([^<]*)</title>");
        Assert.Equal(["a:3", "b:1", "b:1"], lines.Select(m => $"{m.Groups[2].Value}:{m.Groups[1].Value.Split(' ').Length}"));
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(html, "<tr><td>1970-"));
        Assert.Contains("class=\"sev severe\"", html, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new DriftReportWriter().RenderOverTime([]));
    }
}
