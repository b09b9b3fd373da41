using AiOps.Samples.Quickstart;

// dotnet run --project samples/AiOps.Samples.Quickstart [-- --output <dir>]
// The narrative and the packages' messages use a few non-ASCII characters (×, –, …).
Console.OutputEncoding = System.Text.Encoding.UTF8;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--output" or "-o" when i + 1 < args.Length:
            output = args[++i];
            break;
        case "--help" or "-h":
            Console.WriteLine("Usage: AiOps.Samples.Quickstart [--output <dir>]");
            Console.WriteLine($"  --output <dir>  where artifacts and summary.json are written (default {QuickstartRunner.DefaultOutputDirectory})");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: AiOps.Samples.Quickstart [--output <dir>]");
            return 2;
    }
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

try
{
    var summary = await QuickstartRunner.RunAsync(output ?? QuickstartRunner.DefaultOutputDirectory, Console.Out, cts.Token);
    if (!summary.Succeeded)
    {
        Console.Error.WriteLine($"Quickstart failed: {summary.Failure}");
        return 1;
    }

    return 0;
}
catch (OperationCanceledException) when (cts.IsCancellationRequested)
{
    Console.Error.WriteLine("Quickstart cancelled.");
    return 130;
}
catch (QuickstartException e)
{
    Console.Error.WriteLine($"Quickstart failed: {e.Message}");
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine($"Quickstart failed unexpectedly: {e.GetType().Name}: {e.Message}");
    Console.Error.WriteLine(e.StackTrace);
    return 1;
}
