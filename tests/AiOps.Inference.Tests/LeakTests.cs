using System.Diagnostics;

namespace AiOps.Inference.Tests;

/// <summary>Runs alone: it measures process memory, which tests running in parallel would disturb.</summary>
[CollectionDefinition(nameof(LeakTests), DisableParallelization = true)]
public sealed class LeakTestsCollection
{
}

[Collection(nameof(LeakTests))]
public sealed class LeakTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public LeakTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task RunAsync_200kCalls_ProcessMemoryStaysBounded()
    {
        // Each call creates native OrtValues over pinned managed memory and (with a cancellable token) rents RunOptions;
        // 1 KiB of output per call means a leak of either would add ~200 MB over the run.
        var model = Kit.Classifier(1, inputSize: 4, hidden: 8, classes: 256);
        var path = model.WriteTo(_files.NewPath("wide.onnx"));
        await using var runner = await _files.CreateAsync(path);
        var request = Requests.Features(Kit.Features(1));
        using var cts = new CancellationTokenSource();

        for (var i = 0; i < 20_000; i++)
        {
            await runner.RunAsync(request, cts.Token);
        }

        var before = Settle();
        for (var i = 0; i < 200_000; i++)
        {
            await runner.RunAsync(request, i % 2 == 0 ? cts.Token : default);
        }

        var growth = Settle() - before;
        Assert.True(growth < 48L * 1024 * 1024, $"Process memory grew by {growth / (1024 * 1024)} MB over 200k calls; expected under 48 MB.");
    }

    private static long Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.PrivateMemorySize64;
    }
}
