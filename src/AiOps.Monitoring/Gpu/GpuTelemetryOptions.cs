namespace AiOps.Monitoring.Gpu;

/// <summary>GPU telemetry polling.</summary>
public sealed class GpuTelemetryOptions
{
    /// <summary>Whether GPUs are polled at all. Default <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often devices are read. Default 15 seconds.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long utilisation samples are kept for windowed averages. Default 2 hours.</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromHours(2);

    /// <summary>The <c>nvidia-smi</c> executable used when NVML cannot be loaded. Default <c>nvidia-smi</c> (found on PATH).</summary>
    public string NvidiaSmiPath { get; set; } = "nvidia-smi";

    /// <summary>How long one <c>nvidia-smi</c> call may take before it is abandoned. Default 10 seconds.</summary>
    public TimeSpan NvidiaSmiTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
