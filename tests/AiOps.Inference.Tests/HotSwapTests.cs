using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Security.Cryptography;

namespace AiOps.Inference.Tests;

public sealed class HotSwapTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public HotSwapTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string CopyOf(string source)
    {
        var path = _files.NewPath($"swap-{Guid.NewGuid():N}.onnx");
        File.Copy(source, path);
        return path;
    }

    private static void ReplaceAtomically(string source, string target)
    {
        var temp = target + ".tmp";
        File.Copy(source, temp, overwrite: true);
        File.Move(temp, target, overwrite: true);
    }

    private static bool Matches(float[] expected, float[] actual) =>
        expected.Length == actual.Length && expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-5f);

    [Fact]
    public async Task ReloadAsync_UnderConcurrentLoad_SwapsWithZeroFailedCalls()
    {
        var path = CopyOf(_files.ClassifierV1);
        await using var runner = await _files.CreateAsync(path);
        var features = Kit.Features(2);
        var v1 = Kit.Classifier(1).Predict(features);
        var v2 = Kit.Classifier(2).Predict(features);
        var swapped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = 0;
        var sawV1 = 0;
        var sawV2AfterSwap = 0;

        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var afterSwap = 0;
            while (afterSwap < 200)
            {
                try
                {
                    var p = (await runner.RunAsync(Requests.Features(features))).Probabilities();
                    if (Matches(v1, p))
                    {
                        Interlocked.Increment(ref sawV1);
                    }
                    else if (Matches(v2, p) && swapped.Task.IsCompleted)
                    {
                        Interlocked.Increment(ref sawV2AfterSwap);
                    }
                    else if (!Matches(v2, p))
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (AiOpsException)
                {
                    Interlocked.Increment(ref failures);
                }

                if (swapped.Task.IsCompleted)
                {
                    afterSwap++;
                }
            }
        })).ToArray();

        while (Volatile.Read(ref sawV1) < 50)
        {
            await Task.Yield();
        }

        var oldSession = runner.CurrentSession!;
        ReplaceAtomically(_files.ClassifierV2, path);
        await runner.ReloadAsync();
        swapped.SetResult();
        await Task.WhenAll(callers);

        Assert.Equal(0, failures);
        Assert.True(sawV2AfterSwap >= 600, $"Calls after the swap are answered by the new file ({sawV2AfterSwap}).");
        Assert.True(oldSession.IsDisposed, "The old session is disposed once its calls drained.");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_files.ClassifierV2))), runner.Sha256);
        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
    }

    [Fact]
    public async Task ReloadAsync_CallInFlight_OldSessionDisposedOnlyAfterItFinishes()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        runner.BeforeRun = () =>
        {
            entered.Release();
            release.Wait();
        };
        var features = Kit.Features(1);
        var inFlight = Task.Run(() => runner.RunAsync(Requests.Features(features)).AsTask());
        await entered.WaitAsync();
        runner.BeforeRun = null;
        var oldSession = runner.CurrentSession!;

        await runner.ReloadAsync(_files.ClassifierV2);

        Assert.False(oldSession.IsDisposed);
        var during = await runner.RunAsync(Requests.Features(features));
        Requests.AssertClose(Kit.Classifier(2).Predict(features), during.Probabilities());
        release.Release();
        var old = await inFlight;
        Requests.AssertClose(Kit.Classifier(1).Predict(features), old.Probabilities());
        Assert.True(oldSession.IsDisposed);
        Assert.Equal(_files.ClassifierV2, runner.ModelPath);
    }

    [Fact]
    public async Task ReloadAsync_CorruptFile_KeepsOldSessionServingAndReportsWhy()
    {
        var path = CopyOf(_files.ClassifierV1);
        await using var runner = await _files.CreateAsync(path);
        var sha = runner.Sha256;
        ReplaceAtomically(_files.Corrupt, path);

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => runner.ReloadAsync());

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(sha, runner.Sha256);
        Assert.Equal(error.Message, runner.LastReloadFailure);
        Assert.Equal(ModelReadiness.Degraded, runner.Status.Readiness);
        Assert.Contains("Reload failed", runner.Status.Reason, StringComparison.Ordinal);
        var response = await runner.RunAsync(Requests.Features(Kit.Features(1)));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1)), response.Probabilities());

        // A good file afterwards clears the failure.
        ReplaceAtomically(_files.ClassifierV2, path);
        await runner.ReloadAsync();
        Assert.Null(runner.LastReloadFailure);
        Assert.Equal(ModelReadiness.Ready, runner.Status.Readiness);
    }

    [Fact]
    public async Task ReloadAsync_IncompatibleFileUnderLoad_RefusedWithZeroFailedCallsAndCounted()
    {
        // Invariant: while a reload to a file with another input shape is refused, every call is answered, by the
        // serving version. Checked over seeded runs: callers, rows per call, batched and unbatched.
        var incompatible = _files.NewPath($"wider-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(incompatible, Kit.Classifier(2, inputSize: 5).ToOnnx());
        for (var seed = 1; seed <= 4; seed++)
        {
            var path = CopyOf(_files.ClassifierV1);
            var version = $"load{seed}";
            await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o => o.Batching.Enabled = seed % 2 == 0), version: version);
            using var reloads = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.reloads");
            var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var failures = 0;
            var answered = 0;
            var callers = Enumerable.Range(0, 2 + seed).Select(c => Task.Run(async () =>
            {
                var features = Kit.Features(1 + ((c + seed) % 3), seed: (ulong)((seed * 10) + c));
                var expected = Kit.Classifier(1).Predict(features);
                var after = 0;
                while (after < 100)
                {
                    try
                    {
                        if (Matches(expected, (await runner.RunAsync(Requests.Features(features))).Probabilities()))
                        {
                            Interlocked.Increment(ref answered);
                        }
                        else
                        {
                            Interlocked.Increment(ref failures);
                        }
                    }
                    catch (AiOpsException)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    if (refused.Task.IsCompleted)
                    {
                        after++;
                    }
                }
            })).ToArray();

            while (Volatile.Read(ref answered) < 50)
            {
                await Task.Yield();
            }

            ReplaceAtomically(incompatible, path);
            var error = await Assert.ThrowsAsync<ModelSignatureMismatchException>(() => runner.ReloadAsync());
            refused.SetResult();
            await Task.WhenAll(callers);

            Assert.Equal(0, failures);
            Assert.Equal(error.Message, runner.LastReloadFailure);
            Assert.Equal(ModelReadiness.Degraded, runner.Status.Readiness);
            var counted = Assert.Single(reloads.GetMeasurementSnapshot(), m => (string?)m.Tags["version"] == version);
            Assert.Equal("refused", counted.Tags["outcome"]);
            Assert.Equal("clf", counted.Tags["model"]);
        }
    }

    [Theory]
    [InlineData("wider input")]
    [InlineData("renamed tensors")]
    public async Task ReloadAsync_IncompatibleSignature_RefusedAndOldFileKeepsServing(string change)
    {
        var path = CopyOf(_files.ClassifierV1);
        await using var runner = await _files.CreateAsync(path);
        var sha = runner.Sha256;
        var replacement = change == "wider input"
            ? Kit.Classifier(2, inputSize: 5).ToOnnx()
            : new OnnxModelBuilder("renamed")
                .AddInput("x", OnnxDataType.Float, "batch", 4)
                .AddOutput("y", OnnxDataType.Float, "batch", 4)
                .AddNode("Identity", ["x"], ["y"])
                .Build();
        var other = _files.NewPath($"incompatible-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(other, replacement);
        ReplaceAtomically(other, path);

        var error = await Assert.ThrowsAsync<ModelSignatureMismatchException>(() => runner.ReloadAsync());

        Assert.False(error.Compatibility.IsCompatible);
        Assert.Contains(change == "wider input" ? "input 'features' dimension 1 is 4 today but 5 in the replacement" : "input 'features' (Float32[-1, 4]) is missing from the replacement", error.Message, StringComparison.Ordinal);
        Assert.Equal(runner.Key, error.Key);
        Assert.Equal(sha, runner.Sha256);
        Assert.Equal(error.Message, runner.LastReloadFailure);
        Assert.Equal(ModelReadiness.Degraded, runner.Status.Readiness);
        var response = await runner.RunAsync(Requests.Features(Kit.Features(1)));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(1)), response.Probabilities());

        // Forced explicitly, the replacement is installed.
        await runner.ReloadAsync(allowSignatureChange: true);
        Assert.NotEqual(sha, runner.Sha256);
        Assert.Null(runner.LastReloadFailure);
    }

    [Fact]
    public async Task ReloadAsync_PinnedShaMismatch_RefusesAndKeepsServing()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);
        var v1Sha = runner.Sha256!;

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => runner.ReloadAsync(_files.ClassifierV2, expectedSha256: v1Sha));

        Assert.Contains($"expected {v1Sha}", error.Message, StringComparison.Ordinal);
        Assert.Equal(v1Sha, runner.Sha256);
        Assert.Equal(_files.ClassifierV1, runner.ModelPath);

        var v2Sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_files.ClassifierV2)));
        await runner.ReloadAsync(_files.ClassifierV2, expectedSha256: v2Sha.ToUpperInvariant());
        Assert.Equal(v2Sha, runner.Sha256);
    }

    [Fact]
    public async Task WatchFile_FileReplaced_ReloadsAfterTheDebounce()
    {
        var time = Requests.FakeTime();
        var path = CopyOf(_files.ClassifierV1);
        await using var runner = await _files.CreateAsync(path, ModelFiles.CpuOptions(o =>
        {
            o.WatchFile = true;
            o.ReloadDebounce = TimeSpan.FromSeconds(1);
        }), time);
        var reloaded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        runner.ReloadCompleted += e => reloaded.TrySetResult(e);
        runner.WatchedFileChanged += () => changed.TrySetResult();

        ReplaceAtomically(_files.ClassifierV2, path);
        await changed.Task; // the file-system event arrived and armed the debounce timer
        Assert.False(reloaded.Task.IsCompleted, "Nothing reloads before the debounce elapses.");
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await reloaded.Task);
        var response = await runner.RunAsync(Requests.Features(Kit.Features(1)));
        Requests.AssertClose(Kit.Classifier(2).Predict(Kit.Features(1)), response.Probabilities());
    }
}
