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
