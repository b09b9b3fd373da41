using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Inference.Tests;

/// <summary>A temporary folder with the kit's models, and helpers to create runners over them.</summary>
public sealed class ModelFiles : IDisposable
{
    private readonly ServiceProvider _metricsProvider;

    public ModelFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), "aiops-inference-tests", Guid.NewGuid().ToString("N"));
        Paths = Kit.WriteAll(Directory);
        _metricsProvider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _metricsProvider.GetRequiredService<IMeterFactory>();
    }

    public string Directory { get; }

    public IReadOnlyDictionary<string, string> Paths { get; }

    public IMeterFactory MeterFactory { get; }

    public string ClassifierV1 => Paths["classifier_v1"];

    public string ClassifierV2 => Paths["classifier_v2"];

    public string FixedShape => Paths["fixed_shape"];

    public string MultiInput => Paths["multi_input"];

    public string Corrupt => Paths["corrupt"];

    public static OnnxRunnerOptions CpuOptions(Action<OnnxRunnerOptions>? configure = null)
    {
        var options = new OnnxRunnerOptions { WarmUpIterations = 1, IntraOpNumThreads = 1 };
        options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
        configure?.Invoke(options);
        return options;
    }

    public string NewPath(string name) => Path.Combine(Directory, name);

    public Task<OnnxModelRunner> CreateAsync(string path, OnnxRunnerOptions? options = null, TimeProvider? time = null, string version = "1") =>
        OnnxModelRunner.CreateAsync(new ModelKey("clf", version), path, options ?? CpuOptions(), meterFactory: MeterFactory, timeProvider: time);

    public void Dispose()
    {
        _metricsProvider.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A watcher may still hold the folder briefly; the OS temp cleaner removes it.
        }
    }
}

public static class Requests
{
    public static ModelRequest Features(float[] data, int inputSize = 4) =>
        new(ModelTensor.Create(ClassifierModel.InputName, data.AsMemory(), data.Length / inputSize, inputSize));

    public static float[] Probabilities(this ModelResponse response) =>
        response[ClassifierModel.OutputName].As<float>().Span.ToArray();

    public static void AssertClose(float[] expected, float[] actual, float tolerance = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"Element {i}: expected {expected[i]}, got {actual[i]}.");
        }
    }

    public static FakeTimeProvider FakeTime() => new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
}

/// <summary>
/// Holds the first <c>holds</c> runs of a runner inside ONNX Runtime's doorstep (<see cref="OnnxModelRunner.BeforeRun"/>)
/// until opened, so a test can queue calls behind a run deterministically. Opened on dispose.
/// </summary>
public sealed class RunGate(int holds = 1) : IDisposable
{
    private readonly SemaphoreSlim _entered = new(0);
    private readonly ManualResetEventSlim _open = new(false);
    private int _holds = holds;
    private int _runs;

    /// <summary>Runs that reached the hook (held or not).</summary>
    public int Runs => Volatile.Read(ref _runs);

    public void Hook()
    {
        Interlocked.Increment(ref _runs);
        if (Interlocked.Decrement(ref _holds) >= 0)
        {
            _entered.Release();
            _open.Wait();
        }
    }

    public Task EnteredAsync() => _entered.WaitAsync();

    public void Open() => _open.Set();

    public void Dispose()
    {
        _open.Set();
        _entered.Dispose();
    }
}
