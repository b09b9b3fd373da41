using System.Diagnostics;

namespace AiOps.Samples.Quickstart;

/// <summary>
/// The quickstart: one model's life, from its training data to a drift alert, on simulated time. Program.cs calls it
/// with the console; the integration test calls it with a temp folder and a string writer.
/// </summary>
public static class QuickstartRunner
{
    /// <summary>
    /// The default output folder: <c>output/</c> next to the sample's project file (found above the running assembly,
    /// as with <c>dotnet run</c>; git ignores it), or <c>quickstart-output/</c> in the current directory when the
    /// assembly runs outside the repository.
    /// </summary>
    public static string DefaultOutputDirectory { get; } = FindDefaultOutputDirectory();

    private static string FindDefaultOutputDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AiOps.Samples.Quickstart.csproj")))
            {
                return Path.Combine(dir.FullName, "output");
            }
        }

        return Path.GetFullPath("quickstart-output");
    }

    /// <summary>
    /// Runs every step and writes the artifacts and <c>summary.json</c> into <paramref name="outputDirectory"/>. The
    /// folder is created if missing; a previous quickstart run's output in it is replaced; any other non-empty folder
    /// is refused (nothing is deleted that the quickstart did not write).
    /// </summary>
    /// <param name="outputDirectory">Where everything is written.</param>
    /// <param name="output">Where the narrative goes (a progress bar is drawn only on an interactive console).</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The summary; <see cref="QuickstartSummary.Succeeded"/> says whether every step reached its outcome.</returns>
    /// <exception cref="QuickstartException">The output folder cannot be used.</exception>
    public static async Task<QuickstartSummary> RunAsync(string outputDirectory, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(output);
        var root = PrepareOutputDirectory(outputDirectory);
        var interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var wall = Stopwatch.StartNew();
        await using var session = await QuickstartSession.CreateAsync(root, output, interactive, cancellationToken).ConfigureAwait(false);
        return await session.RunAsync(wall, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The file that marks a folder as quickstart output, so a later run may clear it.</summary>
    internal const string MarkerFile = ".aiops-quickstart";

    private static string PrepareOutputDirectory(string outputDirectory)
    {
        var root = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            if (!File.Exists(Path.Combine(root, MarkerFile)))
            {
                throw new QuickstartException(
                    $"The output folder '{root}' is not empty and holds no earlier quickstart output ({MarkerFile}); choose an empty or new folder with --output <dir>.");
            }

            foreach (var dir in Directory.EnumerateDirectories(root))
            {
                Directory.Delete(dir, recursive: true);
            }

            foreach (var file in Directory.EnumerateFiles(root))
            {
                File.Delete(file);
            }
        }

        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, MarkerFile), "Written by AiOps.Samples.Quickstart; the next run clears this folder.\n");
        return root;
    }
}

/// <summary>The quickstart cannot run or a step did not reach its outcome; the message says which and why.</summary>
public sealed class QuickstartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QuickstartException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public QuickstartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public QuickstartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
