using AiOps.Monitoring.Export;
using AiOps.Monitoring.Gpu;
using AiOps.Monitoring.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Monitoring.Tests.Gpu;

public sealed class GpuTelemetryTests
{
    // Real nvidia-smi output lines for the query AiOps runs (H100 busy, A100 with an unsupported power reading, an idle T4).
    private const string H100Busy = "0, NVIDIA H100 80GB HBM3, 87, 40536, 81559, 63, 412.35";
    private const string A100NotSupported = "1, NVIDIA A100-SXM4-40GB, 0, 3, 40960, 31, [Not Supported]";
    private const string T4NotAvailable = "2, Tesla T4, [N/A], 0, 15360, [N/A], 9.87";

    [Fact]
    public void Parse_RealSamples_ConvertsUnitsAndMissingValues()
    {
        var devices = NvidiaSmiCsv.Parse(H100Busy + "\n" + A100NotSupported + "\n" + T4NotAvailable + "\n");

        Assert.Equal(3, devices.Count);
        var h100 = devices[0];
        Assert.Equal(0, h100.Index);
        Assert.Equal("NVIDIA H100 80GB HBM3", h100.Name);
        Assert.Equal(0.87, h100.Utilization!.Value, 6);
        Assert.Equal(40536L * 1024 * 1024, h100.MemoryUsedBytes);
        Assert.Equal(81559L * 1024 * 1024, h100.MemoryTotalBytes);
        Assert.Equal(63, h100.TemperatureCelsius);
        Assert.Equal(412.35, h100.PowerWatts!.Value, 6);
        Assert.Equal(40536.0 / 81559, h100.MemoryUsedRatio!.Value, 9);
        Assert.Null(devices[1].PowerWatts);
        Assert.Equal(0, devices[1].Utilization);
        Assert.Null(devices[2].Utilization);
        Assert.Null(devices[2].TemperatureCelsius);
        Assert.Equal(9.87, devices[2].PowerWatts!.Value, 6);
    }

    [Fact]
    public void Parse_TooFewFields_ThrowsNamingExpectedFields()
    {
        var ex = Assert.Throws<FormatException>(() => NvidiaSmiCsv.Parse("0, NVIDIA H100, 87"));

        Assert.Contains("expected 7", ex.Message);
    }

    [Fact]
    public async Task NvidiaSmiSource_ScriptPrintingRealOutput_ReadsDevices()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the fake nvidia-smi is a POSIX shell script
        }

        var dir = Directory.CreateTempSubdirectory("aiops-smi-");
        try
        {
            var script = Path.Combine(dir.FullName, "nvidia-smi");
            await File.WriteAllTextAsync(script, $"#!/bin/sh\n[ \"$1\" = \"--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw\" ] || exit 9\nprintf '%s\\n' '{H100Busy}'\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var source = new NvidiaSmiGpuTelemetrySource(script, TimeSpan.FromSeconds(30));

            var result = await source.ReadAsync();

            Assert.True(result.HasGpu, result.Reason);
            Assert.Equal("nvidia-smi", result.Source);
            Assert.Equal("NVIDIA H100 80GB HBM3", Assert.Single(result.Devices).Name);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task NvidiaSmiSource_ExecutableMissing_ReportsUnavailableWithoutThrowing()
    {
        var source = new NvidiaSmiGpuTelemetrySource("/nonexistent/nvidia-smi", TimeSpan.FromSeconds(5));

        var result = await source.ReadAsync();

        Assert.False(result.HasGpu);
        Assert.Contains("/nonexistent/nvidia-smi could not be run", result.Reason);
    }

    [Fact]
    public async Task SourceChain_NoDriverAndNoNvidiaSmi_ReportsNoGpuCleanly()
    {
        using var h = new MonitoringHarness(o => o.Gpu.NvidiaSmiPath = "/nonexistent/nvidia-smi");
        using var chain = h.Get<GpuTelemetrySourceChain>();

        var result = await chain.ReadAsync();

        if (File.Exists("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"))
        {
            return; // a GPU machine: the "no GPU" path cannot be observed here
        }

        Assert.False(result.HasGpu);
        Assert.Equal("none", result.Source);
        Assert.Contains("libnvidia-ml.so.1", result.Reason);
        Assert.Contains("could not be run", result.Reason);
    }

    [Fact]
    public async Task PollAsync_NoGpu_GaugeIsZeroAndHealthDegraded()
    {
        using var h = new MonitoringHarness();
        var telemetry = h.Get<IGpuTelemetry>();

        var reading = await telemetry.PollAsync();
        var text = await h.Get<AiOpsPrometheusExporter>().ScrapeAsync();

        Assert.False(reading.HasGpu);
        Assert.Contains("aiops_gpu_devices{source=\"fake\"} 0", text);
        Assert.DoesNotContain("aiops_gpu_utilization_ratio{", text);
    }

    [Fact]
    public async Task PollAsync_FakeDevice_PublishesGaugesAndAverages()
    {
        using var h = new MonitoringHarness();
        var telemetry = h.Get<IGpuTelemetry>();
        var start = h.Time.GetUtcNow();
        h.Gpu.Next = FakeGpuSource.Device(0.9, memoryRatio: 0.95);
        await telemetry.PollAsync();
        h.Time.Advance(TimeSpan.FromMinutes(1));
        h.Gpu.Next = FakeGpuSource.Device(0.5);
        await telemetry.PollAsync();

        var text = await h.Get<AiOpsPrometheusExporter>().ScrapeAsync();

        Assert.Equal(0.7, telemetry.GetAverageUtilization(0, start)!.Value, 9);
        Assert.Equal(0.5, telemetry.GetAverageUtilization(0, start.AddSeconds(30))!.Value, 9);
        Assert.Null(telemetry.GetAverageUtilization(1, start));
        Assert.Contains("aiops_gpu_devices{source=\"fake\"} 1", text);
        Assert.Contains("aiops_gpu_utilization_ratio{device=\"0\"} 0.5", text);
        Assert.Contains("aiops_gpu_memory_total_bytes{device=\"0\"} 80000000000", text);
        Assert.Contains("aiops_gpu_power_watts{device=\"0\"} 300", text);
        Assert.Contains("aiops_gpu_temperature_celsius{device=\"0\"} 60", text);
    }

    [Fact]
    public async Task PollAsync_SourceThrows_ReportsReasonInsteadOfCrashing()
    {
        using var h = new MonitoringHarness(services: s => s.AddSingleton<IGpuTelemetrySource>(new ThrowingSource()));

        var reading = await h.Get<IGpuTelemetry>().PollAsync();

        Assert.False(reading.HasGpu);
        Assert.Contains("driver hung", reading.Result.Reason);
    }

    private sealed class ThrowingSource : IGpuTelemetrySource
    {
        public ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default) => throw new IOException("driver hung");
    }
}
