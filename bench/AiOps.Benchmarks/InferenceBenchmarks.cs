using System.Diagnostics;
using System.Diagnostics.Metrics;
using AiOps.Inference;
using AiOps.TestModels;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Benchmarks;

/// <summary>
/// Added latency of <see cref="OnnxModelRunner"/> (batching off; validation, NaN checks and metrics on, with a listener
/// attached as an exporter would be) over raw <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// with the same inputs, pre-allocated outputs and the same session settings.
/// Targets: median overhead at most 2 µs on the tiny MLP and at most 3 % on the ~1 ms model.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class InferenceOverheadBenchmarks
{
    private InferenceSession _session = null!;
    private RunOptions _runOptions = null!;
    private OnnxModelRunner _runner = null!;
    private MeterListener _listener = null!;
    private ModelRequest _request = null!;
    private float[] _features = null!;
    private long[] _inputShape = null!;
    private long[] _outputShape = null!;
    private string[] _inputNames = null!;
    private string[] _outputNames = null!;
    private string _directory = null!;
    private long _measurements;

    /// <summary>tiny: the kit's 4-8-3 MLP, one row. 1ms: a 256-2048-10 MLP on 100 rows (about 1 ms a run on one core here;
    /// 24 rows took only ~0.23 ms).</summary>
    [Params("tiny", "1ms")]
    public string Model { get; set; } = "tiny";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var (model, rows) = Model == "tiny" ? (TestModels.TestModels.Classifier(1), 1) : (TestModels.TestModels.Classifier(1, inputSize: 256, hidden: 2048, classes: 10), 100);
        _directory = Directory.CreateTempSubdirectory("aiops-bench-").FullName;
        var path = model.WriteTo(Path.Combine(_directory, "model.onnx"));
        _features = TestModels.TestModels.Features(rows, model.InputSize);
        _inputShape = [rows, model.InputSize];
        _outputShape = [rows, model.Classes];
        _inputNames = [ClassifierModel.InputName];
        _outputNames = [ClassifierModel.OutputName];

        using (var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            _session = new InferenceSession(path, sessionOptions);
        }

        _runOptions = new RunOptions();
        var options = new OnnxRunnerOptions { IntraOpNumThreads = 1 };
        options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
        _runner = await OnnxModelRunner.CreateAsync(new ModelKey("bench", "1"), path, options);
        _request = new ModelRequest(ModelTensor.Create(ClassifierModel.InputName, _features.AsMemory(), rows, model.InputSize));

        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "AiOps.Inference")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measurements));
        _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _measurements));
        _listener.Start();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _listener.Dispose();
        await _runner.DisposeAsync();
        _runOptions.Dispose();
        _session.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>What a user writes by hand: OrtValues over the input and a pre-allocated output array, one Run.</summary>
    [Benchmark(Baseline = true)]
    public float RawInferenceSessionRun()
    {
        var output = new float[_outputShape[0] * _outputShape[1]];
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _features.AsMemory(), _inputShape);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, output.AsMemory(), _outputShape);
        _session.Run(_runOptions, _inputNames, [input], _outputNames, [outputValue]);
        return output[0];
    }

    /// <summary>The AiOps runner: validation, NaN check, queue bound, metrics, response objects.</summary>
    [Benchmark]
    public float AiOpsRunner()
    {
        var pending = _runner.RunAsync(_request);
        if (!pending.IsCompleted)
        {
            throw new InvalidOperationException("Unbatched calls complete synchronously.");
        }

        return pending.Result.Outputs[0].As<float>().Span[0];
    }
}

/// <summary>
/// Micro-batching throughput: 64 concurrent callers each make 50 one-row calls on the tiny MLP, unbatched (baseline)
/// versus batched (max batch 64). Target: at least 3x the unbatched throughput on 2 cores. The p99 call latency of
/// each configuration is printed at the end of its run.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class InferenceBatchingBenchmarks
{
    private const int Callers = 64;
    private const int CallsPerCaller = 50;

    private OnnxModelRunner _unbatched = null!;
    private OnnxModelRunner _batched = null!;
    private ModelRequest[] _requests = null!;
    private string _directory = null!;
    private readonly long[] _unbatchedLatencies = new long[Callers * CallsPerCaller];
    private readonly long[] _batchedLatencies = new long[Callers * CallsPerCaller];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("aiops-bench-").FullName;
        var path = TestModels.TestModels.Classifier(1).WriteTo(Path.Combine(_directory, "tiny.onnx"));
        var plain = new OnnxRunnerOptions { IntraOpNumThreads = 1, MaxQueueLength = 4096 };
        plain.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
        _unbatched = await OnnxModelRunner.CreateAsync(new ModelKey("tiny", "1"), path, plain);
        var batched = new OnnxRunnerOptions { IntraOpNumThreads = 1, MaxQueueLength = 4096, Batching = { Enabled = true, MaxBatchSize = Callers, MaxQueueDelay = TimeSpan.FromMilliseconds(1) } };
        batched.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
        _batched = await OnnxModelRunner.CreateAsync(new ModelKey("tiny", "2"), path, batched);
        _requests = Enumerable.Range(0, Callers)
            .Select(i => new ModelRequest(ModelTensor.Create(ClassifierModel.InputName, TestModels.TestModels.Features(1, seed: (ulong)i).AsMemory(), 1, 4)))
            .ToArray();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        // Each benchmark case has its own setup and cleanup, so only the case that just ran has latencies to report.
        foreach (var (name, latencies) in new[] { ("unbatched", _unbatchedLatencies), ("batched", _batchedLatencies) })
        {
            if (latencies.Any(t => t > 0))
            {
                Console.WriteLine($"// p99 latency {name}: {P99(latencies):F1} µs (last iteration, {Callers} callers)");
            }
        }

        await _unbatched.DisposeAsync();
        await _batched.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The same 64 callers without batching: each call is its own run.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Callers * CallsPerCaller)]
    public Task Unbatched() => RunCallersAsync(_unbatched, _unbatchedLatencies);

    /// <summary>64 callers micro-batched into runs of up to 64 rows.</summary>
    [Benchmark(OperationsPerInvoke = Callers * CallsPerCaller)]
    public Task Batched() => RunCallersAsync(_batched, _batchedLatencies);

    private Task RunCallersAsync(OnnxModelRunner runner, long[] latencies)
    {
        var callers = new Task[Callers];
        for (var c = 0; c < Callers; c++)
        {
            var caller = c;
            callers[c] = Task.Run(async () =>
            {
                for (var i = 0; i < CallsPerCaller; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await runner.RunAsync(_requests[caller]).ConfigureAwait(false);
                    latencies[(caller * CallsPerCaller) + i] = Stopwatch.GetTimestamp() - started;
                }
            });
        }

        return Task.WhenAll(callers);
    }

    private static double P99(long[] ticks)
    {
        var sorted = ticks.Where(t => t > 0).Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[(int)(sorted.Length * 0.99)] * 1_000_000.0 / Stopwatch.Frequency;
    }
}
