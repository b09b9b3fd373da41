namespace AiOps.Monitoring.Gpu;

/// <summary>One GPU's figures at one moment. A figure the device does not report (<c>[N/A]</c>, <c>[Not Supported]</c>) is <see langword="null"/>.</summary>
/// <param name="Index">The device index.</param>
/// <param name="Name">The product name, e.g. <c>NVIDIA H100 80GB HBM3</c>.</param>
/// <param name="Utilization">Share of time the GPU was busy over the driver's sample period, 0–1.</param>
/// <param name="MemoryUsedBytes">Device memory in use, in bytes.</param>
/// <param name="MemoryTotalBytes">Device memory installed, in bytes.</param>
/// <param name="TemperatureCelsius">Core temperature in °C.</param>
/// <param name="PowerWatts">Power draw in watts.</param>
public sealed record GpuDeviceReading(
    int Index,
    string Name,
    double? Utilization,
    long? MemoryUsedBytes,
    long? MemoryTotalBytes,
    double? TemperatureCelsius,
    double? PowerWatts)
{
    /// <summary>Memory used / total (0–1), or <see langword="null"/> when either is unknown or the total is zero.</summary>
    public double? MemoryUsedRatio => MemoryUsedBytes is { } used && MemoryTotalBytes is { } total && total > 0 ? (double)used / total : null;
}

/// <summary>What one read of a telemetry source gave.</summary>
/// <param name="Source">The source that answered: <c>nvml</c>, <c>nvidia-smi</c>, <c>none</c>, or a custom name.</param>
/// <param name="Devices">The devices; empty when there is no GPU.</param>
/// <param name="Reason">Why there are no devices (no driver, no nvidia-smi, a failure); <see langword="null"/> when devices were read.</param>
public sealed record GpuSourceResult(string Source, IReadOnlyList<GpuDeviceReading> Devices, string? Reason)
{
    /// <summary>Whether at least one device was read.</summary>
    public bool HasGpu => Devices.Count > 0;

    /// <summary>A result without devices.</summary>
    /// <param name="source">The source name.</param>
    /// <param name="reason">Why there are no devices.</param>
    public static GpuSourceResult Unavailable(string source, string reason) => new(source, [], reason);
}

/// <summary>The latest GPU reading, time-stamped.</summary>
/// <param name="At">When it was taken.</param>
/// <param name="Result">What the source gave.</param>
public sealed record GpuReading(DateTimeOffset At, GpuSourceResult Result)
{
    /// <summary>Whether a GPU was found.</summary>
    public bool HasGpu => Result.HasGpu;
}

/// <summary>
/// Reads GPU figures. The default chain tries NVML (<c>libnvidia-ml.so.1</c> through P/Invoke), then
/// <c>nvidia-smi --query-gpu=… --format=csv,noheader,nounits</c>, then reports "no GPU" without throwing. Register your
/// own implementation before <c>AddAiOpsMonitoring()</c> to replace it (e.g. a DCGM reader, or a fake in tests).
/// </summary>
public interface IGpuTelemetrySource
{
    /// <summary>Reads every device once. Must not throw for "no GPU": return <see cref="GpuSourceResult.Unavailable"/>.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default);
}

/// <summary>The GPU telemetry collector: the latest reading, utilisation history, and the <c>aiops_gpu_*</c> gauges.</summary>
public interface IGpuTelemetry
{
    /// <summary>The latest reading; before the first poll, a reading without devices whose reason says so.</summary>
    GpuReading Latest { get; }

    /// <summary>Reads the source now, updates the gauges and the history, and returns the reading.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<GpuReading> PollAsync(CancellationToken cancellationToken = default);

    /// <summary>The average utilisation (0–1) of a device over the readings taken since <paramref name="since"/>, or <see langword="null"/> when none.</summary>
    /// <param name="deviceIndex">The device index.</param>
    /// <param name="since">The start of the period.</param>
    double? GetAverageUtilization(int deviceIndex, DateTimeOffset since);
}
