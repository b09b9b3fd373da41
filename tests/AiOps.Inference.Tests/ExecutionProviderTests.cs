using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AiOps.Inference.Tests;

public sealed class ExecutionProviderTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public ExecutionProviderTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task CreateAsync_DefaultPreferenceOnCpuBuild_FallsBackToCpuDegradedWithTheReason()
    {
        // This machine runs the CPU build of ONNX Runtime: appending CUDA fails, which is the fallback path.
        var options = new OnnxRunnerOptions { WarmUpIterations = 1 };

        await using var runner = await _files.CreateAsync(_files.ClassifierV1, options);

        Assert.Equal(ModelReadiness.Degraded, runner.Status.Readiness);
        Assert.Equal("CPU", runner.Status.ExecutionProvider);
        Assert.Equal("CPU", runner.ExecutionProvider);
        Assert.Contains("CUDA", runner.ExecutionProviderFallbackReason, StringComparison.Ordinal);
        Assert.Contains(runner.ExecutionProviderFallbackReason!, runner.Status.Reason, StringComparison.Ordinal);
        Assert.True(runner.Status.IsServing);

        var response = await runner.RunAsync(Requests.Features(Kit.Features(2)));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(2)), response.Probabilities());
    }

    [Fact]
    public async Task CreateAsync_RequireGpuOnCpuBuild_ThrowsExecutionProviderUnavailableWithTheReason()
    {
        var options = new OnnxRunnerOptions { RequireGpu = true };

        var error = await Assert.ThrowsAsync<ExecutionProviderUnavailableException>(() => _files.CreateAsync(_files.ClassifierV1, options));

        Assert.Equal("CUDA", error.Provider);
        Assert.Contains("RequireGpu", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);
    }

    [Fact]
    public async Task CreateAsync_CpuOnly_IsReadyWithoutReason()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);

        Assert.Equal(new ModelRunnerStatus(ModelReadiness.Ready, "CPU", null), runner.Status);
        Assert.Null(runner.ExecutionProviderFallbackReason);
    }

    [Fact]
    public async Task CreateAsync_CudaSettingsAndSessionOptions_StillFallBackAndWriteTheOptimisedModel()
    {
        var optimized = _files.NewPath($"optimized-{Guid.NewGuid():N}.onnx");
        var options = new OnnxRunnerOptions
        {
            Cuda = new OnnxCudaOptions { DeviceId = 0, GpuMemoryLimitBytes = 1L << 30, ArenaExtendStrategy = CudaArenaExtendStrategy.SameAsRequested, ConvAlgorithmSearch = CudnnConvAlgorithmSearch.Heuristic },
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = OnnxGraphOptimizationLevel.Basic,
            OptimizedModelFilePath = optimized,
            DeterministicCompute = true,
        };

        await using var runner = await _files.CreateAsync(_files.ClassifierV1, options);

        Assert.Equal("CPU", runner.ExecutionProvider);
        Assert.True(File.Exists(optimized), "ONNX Runtime writes the optimised model where OptimizedModelFilePath says.");
    }

    [Fact]
    public async Task LoadAllModels_SameFallbackReason_IsLoggedOnceAsWarning()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        var reporter = new Sessions.ExecutionProviderReporter();
        var logger = loggerFactory.CreateLogger<OnnxModelRunner>();
        using var metrics = new Diagnostics.InferenceMetrics(null);
        var runners = new List<OnnxModelRunner>();
        try
        {
            foreach (var version in new[] { "1", "2", "3" })
            {
                var runner = new OnnxModelRunner(new ModelKey("clf", version), _files.ClassifierV1, new OnnxRunnerOptions { WarmUpIterations = 0 }, logger, metrics, false, reporter, TimeProvider.System);
                runners.Add(runner);
                await runner.LoadAsync(CancellationToken.None);
            }

            var warnings = logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning).ToList();
            var warning = Assert.Single(warnings);
            Assert.Contains("CUDA", warning.Message, StringComparison.Ordinal);
            Assert.All(runners, r => Assert.Equal(ModelReadiness.Degraded, r.Status.Readiness));
        }
        finally
        {
            foreach (var r in runners)
            {
                await r.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task CreateAsync_TensorRtPreferredOnCpuBuild_FallsBackThroughCudaToCpuWithBothReasons()
    {
        // No GPU build here: TensorRT cannot be appended, nor can CUDA; the runner serves on CPU and says why.
        var options = new OnnxRunnerOptions { WarmUpIterations = 1 };
        options.ExecutionProviders.Add(OnnxExecutionProvider.TensorRt);
        options.ExecutionProviders.Add(OnnxExecutionProvider.Cuda);
        options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);

        await using var runner = await _files.CreateAsync(_files.ClassifierV1, options);

        Assert.Equal(ModelReadiness.Degraded, runner.Status.Readiness);
        Assert.Equal("CPU", runner.ExecutionProvider);
        Assert.StartsWith("the TensorRT execution provider cannot be used", runner.ExecutionProviderFallbackReason, StringComparison.Ordinal);
        Assert.Contains("; the CUDA execution provider cannot be used", runner.ExecutionProviderFallbackReason, StringComparison.Ordinal);
        var response = await runner.RunAsync(Requests.Features(Kit.Features(2)));
        Requests.AssertClose(Kit.Classifier(1).Predict(Kit.Features(2)), response.Probabilities());
    }

    [Fact]
    public async Task CreateAsync_TensorRtRequiredOnCpuBuild_FailsWithProviderUnavailable()
    {
        var options = new OnnxRunnerOptions { WarmUpIterations = 1, RequireGpu = true };
        options.ExecutionProviders.Add(OnnxExecutionProvider.TensorRt);
        options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);

        var error = await Assert.ThrowsAsync<ExecutionProviderUnavailableException>(() => _files.CreateAsync(_files.ClassifierV1, options));

        Assert.Contains("RequireGpu", error.Message, StringComparison.Ordinal);
        Assert.Contains("TensorRT", error.Message, StringComparison.Ordinal);
    }
}
