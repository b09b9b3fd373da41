using System.Diagnostics.Metrics;
using System.Globalization;
using AiOps.Monitoring.Metrics;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Gpu;

/// <summary>
/// Polls the <see cref="IGpuTelemetrySource"/>, keeps utilisation history for windowed alert rules, and publishes the
/// gauges <c>aiops_gpu_devices</c> (0 when there is no GPU, tagged with the source), <c>aiops_gpu_utilization_ratio</c>,
/// <c>aiops_gpu_memory_used_bytes</c>, <c>aiops_gpu_memory_total_bytes</c>, <c>aiops_gpu_temperature_celsius</c> and
/// <c>aiops_gpu_power_watts</c> per device.
/// </summary>
internal sealed class GpuTelemetry : IGpuTelemetry
{
    private readonly IGpuTelemetrySource _source;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retention;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Queue<(DateTimeOffset At, double Utilization)>> _history = [];
    private volatile GpuReading _latest;

    public GpuTelemetry(IGpuTelemetrySource source, TimeProvider time, IOptions<AiOpsMonitoringOptions> options, MonitoringMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _source = source;
        _time = time;
        _retention = options.Value.Gpu.HistoryRetention;
        _latest = new GpuReading(time.GetUtcNow(), GpuSourceResult.Unavailable("none", "GPUs have not been polled yet."));
        var meter = metrics.Meter;
        meter.CreateObservableGauge("aiops.gpu.devices", ObserveDevices, unit: "{device}", description: "GPUs found (0 when there is none), by telemetry source.");
        meter.CreateObservableGauge("aiops.gpu.utilization", () => PerDevice(d => d.Utilization), unit: "1", description: "Share of time the GPU was busy (0-1).");
        meter.CreateObservableGauge("aiops.gpu.memory.used", () => PerDevice(d => d.MemoryUsedBytes), unit: "By", description: "GPU memory in use.");
        meter.CreateObservableGauge("aiops.gpu.memory.total", () => PerDevice(d => d.MemoryTotalBytes), unit: "By", description: "GPU memory installed.");
        meter.CreateObservableGauge("aiops.gpu.temperature", () => PerDevice(d => d.TemperatureCelsius), unit: "Cel", description: "GPU core temperature.");
        meter.CreateObservableGauge("aiops.gpu.power", () => PerDevice(d => d.PowerWatts), unit: "W", description: "GPU power draw.");
    }

    public GpuReading Latest => _latest;

    public async ValueTask<GpuReading> PollAsync(CancellationToken cancellationToken = default)
    {
        GpuSourceResult result;
        try
        {
            result = await _source.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A custom source that throws is reported as "no reading", never as a crash of the poller.
            result = GpuSourceResult.Unavailable(_source.GetType().Name, $"GPU telemetry source failed: {ex.Message}");
        }

        var now = _time.GetUtcNow();
        var reading = new GpuReading(now, result);
        lock (_lock)
        {
            foreach (var device in result.Devices)
            {
                if (device.Utilization is not { } utilization)
                {
                    continue;
                }

                if (!_history.TryGetValue(device.Index, out var queue))
                {
                    _history[device.Index] = queue = new Queue<(DateTimeOffset, double)>();
                }

                queue.Enqueue((now, utilization));
                while (queue.Count > 0 && queue.Peek().At < now - _retention)
                {
                    queue.Dequeue();
                }
            }
        }

        _latest = reading;
        return reading;
    }

    public double? GetAverageUtilization(int deviceIndex, DateTimeOffset since)
    {
        lock (_lock)
        {
            if (!_history.TryGetValue(deviceIndex, out var queue))
            {
                return null;
            }

            double sum = 0;
            var count = 0;
            foreach (var (at, utilization) in queue)
            {
                if (at >= since)
                {
                    sum += utilization;
                    count++;
                }
            }

            return count == 0 ? null : sum / count;
        }
    }

    private Measurement<int> ObserveDevices()
    {
        var latest = _latest;
        return new Measurement<int>(latest.Result.Devices.Count, new KeyValuePair<string, object?>("source", latest.Result.Source));
    }

    private IEnumerable<Measurement<double>> PerDevice(Func<GpuDeviceReading, double?> select)
    {
        foreach (var device in _latest.Result.Devices)
        {
            if (select(device) is { } value)
            {
                yield return new Measurement<double>(value, new KeyValuePair<string, object?>("device", device.Index.ToString(CultureInfo.InvariantCulture)));
            }
        }
    }

    private IEnumerable<Measurement<double>> PerDevice(Func<GpuDeviceReading, long?> select) =>
        PerDevice(d => select(d) is { } v ? (double)v : null);
}
