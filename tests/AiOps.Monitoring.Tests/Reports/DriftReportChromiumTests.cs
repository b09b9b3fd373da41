using System.Text.RegularExpressions;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Reports;
using AiOps.Monitoring.Tests.Support;

namespace AiOps.Monitoring.Tests.Reports;

/// <summary>Issue 16: the drift report renders in a real browser (headless Chromium): not blank, both series drawn.</summary>
public sealed class DriftReportChromiumTests
{
    // DriftReportWriter's series colours: the reference (solid on per-value and category bars, 45 % over white on
    // numeric bins) and the current sample (solid fill or outline).
    private static readonly (int R, int G, int B)[] s_reference = [(0x5c, 0x6b, 0xc0), (182, 188, 227)];
    private static readonly (int R, int G, int B) s_current = (0xff, 0x70, 0x43);

    private static DriftWindow Window()
    {
        var amount = ReferenceProfileBuilder.Numeric("amount", Enumerable.Range(0, 2000).Select(i => i / 2000.0).ToArray());
        var flag = ReferenceProfileBuilder.Numeric("flag", Enumerable.Range(0, 1000).Select(i => i < 50 ? 1.0 : 0).ToArray());
        var histogram = new ProfileHistogram(new ReferenceProfile([amount, flag]));
        histogram["amount"].Add(Enumerable.Range(0, 1000).Select(i => 0.4 + (i / 1700.0)).ToArray());
        histogram["flag"].Add(Enumerable.Range(0, 1000).Select(i => i < 500 ? 1.0 : 0).ToArray());
        histogram.Rows = 1000;
        var result = new DriftCalculator().Evaluate(new ModelKey("fraud", "2"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), histogram);
        return new DriftWindow(result, histogram);
    }

    private static bool Near((byte R, byte G, byte B) p, (int R, int G, int B) c, int tolerance = 10) =>
        Math.Abs(p.R - c.R) <= tolerance && Math.Abs(p.G - c.G) <= tolerance && Math.Abs(p.B - c.B) <= tolerance;

    [ChromiumFact]
    public async Task Report_InHeadlessChromium_ScreenshotIsNotBlank_AndChartsShowBothSeries()
    {
        var folder = Directory.CreateTempSubdirectory("aiops-report-");
        try
        {
            var html = Path.Combine(folder.FullName, "drift.html");
            var png = Path.Combine(folder.FullName, "drift.png");
            await new DriftReportWriter().WriteAsync(html, Window());

            await Chromium.RunAsync(html, "--screenshot=" + png, "--window-size=1280,2000", "--hide-scrollbars");
            var image = PngImage.Decode(await File.ReadAllBytesAsync(png));
            Assert.Equal((1280, 2000), (image.Width, image.Height));

            long nonWhite = 0, reference = 0, current = 0;
            int currentTop = int.MaxValue, currentBottom = -1, referenceTop = int.MaxValue, referenceBottom = -1;
            for (var y = 0; y < image.Height; y++)
            {
                for (var x = 0; x < image.Width; x++)
                {
                    var p = image[x, y];
                    if (p.R < 245 || p.G < 245 || p.B < 245)
                    {
                        nonWhite++;
                    }

                    if (s_reference.Any(c => Near(p, c)))
                    {
                        reference++;
                        referenceTop = Math.Min(referenceTop, y);
                        referenceBottom = Math.Max(referenceBottom, y);
                    }
                    else if (Near(p, s_current))
                    {
                        current++;
                        currentTop = Math.Min(currentTop, y);
                        currentBottom = Math.Max(currentBottom, y);
                    }
                }
            }

            // Text, table and charts: far more than a blank page (0) or a lone error line.
            Assert.True(nonWhite > 20_000, $"{nonWhite} non-white pixels of {image.Width * image.Height}");
            Assert.True(reference > 2_000, $"{reference} pixels of the reference colour");
            Assert.True(current > 1_000, $"{current} pixels of the current colour");

            // Both series are drawn in the same chart area (overlaid), not one of them alone somewhere.
            Assert.True(currentTop < referenceBottom && referenceTop < currentBottom, $"reference rows {referenceTop}-{referenceBottom}, current rows {currentTop}-{currentBottom}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [ChromiumFact]
    public async Task Report_DumpDom_ParsesEveryChartAndRunsNoScript()
    {
        var folder = Directory.CreateTempSubdirectory("aiops-report-");
        try
        {
            var html = Path.Combine(folder.FullName, "drift.html");
            var window = Window();
            var source = new DriftReportWriter().Render(window);
            await File.WriteAllTextAsync(html, source);

            var dom = await Chromium.RunAsync(html, "--dump-dom");

            // The browser's DOM has what the file has: every chart and bar, the verdict; the report needs no script.
            Assert.Equal(Regex.Count(source, "<svg "), Regex.Count(dom, "<svg "));
            Assert.Equal(Regex.Count(source, "class=\"cur\""), Regex.Count(dom, "class=\"cur\""));
            Assert.True(Regex.Count(dom, "class=\"cur\"") >= 10);
            Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("fraud", dom, StringComparison.Ordinal);
            Assert.EndsWith("</html>", dom.TrimEnd(), StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
