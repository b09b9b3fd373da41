using AiOps.Alerts;
using AiOps.Drift;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Observation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Support;

/// <summary>A runner whose latency and failures the test controls; latency advances the fake clock.</summary>
internal sealed class FakeRunner(ModelKey key, FakeTimeProvider time) : IModelRunner
{
    public ModelKey Key { get; } = key;

    public ModelMetadata Metadata { get; } = new([new TensorSpec("features", TensorElementType.Float32, [-1, 4])], [new TensorSpec("probabilities", TensorElementType.Float32, [-1, 3])]);

    public ModelRunnerStatus Status { get; set; } = new(ModelReadiness.Ready, "CPU", null);

    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(20);

    public Exception? Failure { get; set; }

    public int Calls { get; private set; }

    public ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
    {
        Calls++;
        time.Advance(Latency);
        cancellationToken.ThrowIfCancellationRequested();
        if (Failure is not null)
        {
            throw Failure;
        }

        var input = request["features"].As<float>();
        var rows = (int)input.Shape[0];
        var output = new float[rows * 3];
        for (var r = 0; r < rows; r++)
        {
            output[(r * 3) + (r % 3)] = 1;
        }

        return ValueTask.FromResult(new ModelResponse(Key, [ModelTensor.Create<float>("probabilities", output, rows, 3)]));
    }

    public static ModelRequest Request(int rows = 1) => new(ModelTensor.Create<float>("features", new float[rows * 4], rows, 4));
}

internal sealed class RecordingAlertHandler : IAlertHandler
{
    public List<AlertEvent> Events { get; } = [];

    public ValueTask HandleAsync(AlertEvent alert, CancellationToken cancellationToken = default)
    {
        lock (Events)
        {
            Events.Add(alert);
        }

        return ValueTask.CompletedTask;
    }
}

internal sealed class FakeGpuSource : IGpuTelemetrySource
{
    public GpuSourceResult Next { get; set; } = GpuSourceResult.Unavailable("fake", "no GPU in this test");

    public ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Next);

    public static GpuSourceResult Device(double utilization, double memoryRatio = 0.5) =>
        new("fake", [new GpuDeviceReading(0, "NVIDIA H100 80GB HBM3", utilization, (long)(memoryRatio * 80_000_000_000), 80_000_000_000, 60, 300)], null);
}

internal sealed class FakeAccuracy : IVersionAccuracyProvider
{
    public double? Accuracy { get; set; }

    public double? GetAccuracy(ModelKey key, DateTimeOffset since) => Accuracy;
}

internal sealed class FakeDrift : IVersionDriftProvider
{
    public DriftSeverity? Severity { get; set; }

    public DriftSeverity? GetWorstSeverity(ModelKey key, DateTimeOffset since) => Severity;
}

/// <summary>A service provider with monitoring over a fake clock and fake GPU.</summary>
internal sealed class MonitoringHarness : IDisposable
{
    public MonitoringHarness(Action<AiOpsMonitoringOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<TimeProvider>(Time);
        collection.AddSingleton<IGpuTelemetrySource>(Gpu);
        collection.AddSingleton<IAlertHandler>(Alerts);
        services?.Invoke(collection);
        collection.AddAiOpsMonitoring(configure);
        Provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2024, 8, 1, 12, 0, 0, TimeSpan.Zero));

    public FakeGpuSource Gpu { get; } = new();

    public RecordingAlertHandler Alerts { get; } = new();

    public ServiceProvider Provider { get; }

    public T Get<T>()
        where T : notnull => Provider.GetRequiredService<T>();

    public void Dispose() => Provider.Dispose();
}
