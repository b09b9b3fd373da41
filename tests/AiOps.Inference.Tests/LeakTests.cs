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
    public async Task RunAsync_AMillionCalls_ProcessMemoryStopsGrowingAfterWarmUp()
    {
        // Each call creates native OrtValues over pinned managed memory and (with a cancellable token) rents RunOptions;
        // 1 KiB of output per call. The first calls grow the heaps and ONNX Runtime's arena to their working size; after
        // that a leak of the per-call native objects (even ~30 B a call) would add over 24 MB across the next 800k calls.
        var model = Kit.Classifier(1, inputSize: 4, hidden: 8, classes: 256);
        var path = model.WriteTo(_files.NewPath("wide.onnx"));
        await using var runner = await _files.CreateAsync(path);
        var request = Requests.Features(Kit.Features(1));
        using var cts = new CancellationTokenSource();

        const int WarmUp = 200_000;
        const int Measured = 800_000;
        for (var i = 0; i < WarmUp; i++)
        {
            await runner.RunAsync(request, i % 2 == 0 ? cts.Token : default);
        }

        var before = Settle();
        for (var i = 0; i < Measured; i++)
        {
            await runner.RunAsync(request, i % 2 == 0 ? cts.Token : default);
        }

        var growth = Settle() - before;
        Assert.True(growth < 24L * 1024 * 1024, $"Process memory grew by {growth / (1024.0 * 1024):F1} MB over {Measured} calls after {WarmUp} warm-up calls; expected under 24 MB.");
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
