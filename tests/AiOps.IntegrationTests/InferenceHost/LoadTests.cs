namespace AiOps.IntegrationTests.InferenceHost;

public sealed class LoadTests
{
    [Fact]
    public async Task Infer_ThreeThousandRequestsAt32Concurrent_NoErrorsAndBoundedMemory()
    {
        await using var host = await RunningHost.StartAsync();
        var model = TestModels.TestModels.Classifier(1);
        var inputs = Enumerable.Range(0, 64).Select(i => RunningHost.Features(1 + (i % 4), seed: 100 + i)).ToArray();
        var bodies = inputs.Select(f => RunningHost.InferBody(f)).ToArray();
        var expected = inputs.Select(f => model.Predict(f)).ToArray();

        async Task<int> RunAsync(int total)
        {
            var next = -1;
            var errors = 0;
            var workers = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < total)
                {
                    using var response = await host.InferAsync(bodies[i % bodies.Length], version: "1");
                    var (_, p, _) = await RunningHost.ReadAnswerAsync(response);
                    if (!RunningHost.Close(expected[i % bodies.Length], p))
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }));
            await Task.WhenAll(workers);
            return errors;
        }

        Assert.Equal(0, await RunAsync(300)); // warm-up: connections, JIT, pools
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var errors = await RunAsync(3000);

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(0, errors);
        Assert.Equal(0, host.Repository.GetOnnxRunner(new ModelKey("classifier", "1"))!.PendingCalls);
        Assert.True(after - before < 64L * 1024 * 1024, $"managed memory grew by {(after - before) / 1024} KiB over 3000 requests");
    }
}
