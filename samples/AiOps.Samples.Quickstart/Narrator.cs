using System.Globalization;

namespace AiOps.Samples.Quickstart;

/// <summary>
/// Writes the quickstart's story: numbered steps, indented facts with the simulated time of day, and a progress bar for
/// long steps. The bar redraws in place only on an interactive console; elsewhere (a test, a redirected log) only the
/// line that closes it is written, so the output stays readable.
/// </summary>
internal sealed class Narrator(TextWriter output, TimeProvider clock, bool interactive)
{
    private const int BarWidth = 24;
    private int _lastBarLength;

    public TextWriter Output => output;

    public void Title(string text)
    {
        output.WriteLine(text);
        output.WriteLine(new string('=', Math.Min(text.Length, 100)));
    }

    public void Step(int number, int of, string text)
    {
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{number}/{of}] {text}"));
    }

    /// <summary>A fact, stamped with the simulated time.</summary>
    public void Say(string text) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.GetUtcNow():HH:mm}  {text}"));

    /// <summary>A continuation line under the previous fact.</summary>
    public void Detail(string text) => output.WriteLine("         " + text);

    public void Line(string text = "") => output.WriteLine(text);

    public void Progress(string label, double fraction, string status)
    {
        if (!interactive)
        {
            return;
        }

        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * BarWidth);
        var text = string.Create(
            CultureInfo.InvariantCulture,
            $"\r  {clock.GetUtcNow():HH:mm}  {label} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {fraction * 100,3:0}%  {status}");
        output.Write(text.PadRight(_lastBarLength));
        _lastBarLength = text.Length;
        output.Flush();
    }

    /// <summary>Clears the bar (when drawn) so the next line starts clean.</summary>
    public void EndProgress()
    {
        if (interactive && _lastBarLength > 0)
        {
            output.Write("\r" + new string(' ', _lastBarLength) + "\r");
            _lastBarLength = 0;
        }
    }

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan span) =>
        span.TotalDays >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays} d {span.Hours} h {span.Minutes} min")
        : span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h {span.Minutes} min")
        : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes} min");
}
