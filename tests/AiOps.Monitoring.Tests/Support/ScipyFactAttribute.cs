using System.Diagnostics;

namespace AiOps.Monitoring.Tests.Support;

/// <summary>A fact that is skipped, with the reason in the test summary, when <c>/usr/bin/python3</c> cannot import SciPy.</summary>
public sealed class ScipyFactAttribute : FactAttribute
{
    public ScipyFactAttribute()
    {
        if (!Scipy.Available)
        {
            Skip = "SciPy is not importable by /usr/bin/python3 (install the Debian 'python3-scipy' package; .ci/run does).";
        }
    }
}

/// <summary>Runs a Python script with the system interpreter, which has SciPy where the Debian package is installed.</summary>
public static class Scipy
{
    public const string Python = "/usr/bin/python3";

    public static bool Available { get; } = Probe();

    /// <summary>Runs <paramref name="script"/> with <paramref name="input"/> on stdin and returns stdout; throws on a non-zero exit.</summary>
    public static string Run(string script, string input)
    {
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{Python} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Python} exited with {process.ExitCode}: {stderr.Result}");
        }

        return stdout.Result;
    }

    private static bool Probe()
    {
        if (!File.Exists(Python))
        {
            return false;
        }

        try
        {
            return Run("import scipy.stats", string.Empty) is not null;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
