using System.Runtime.InteropServices;
using System.Text;

namespace AiOps.Monitoring.Gpu;

/// <summary>
/// Reads GPUs through NVML (<c>libnvidia-ml.so.1</c>, <c>nvml.dll</c> on Windows). The library is loaded with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> and called through function pointers, so a machine without
/// the driver gets a clean "unavailable" result instead of a <see cref="DllNotFoundException"/>.
/// </summary>
internal sealed unsafe class NvmlGpuTelemetrySource : IGpuTelemetrySource, IDisposable
{
    public const string SourceName = "nvml";
    private const int Success = 0;
    private const int NameBufferSize = 96;

    private readonly Lock _lock = new();
    private IntPtr _library;
    private string? _unavailableReason;
    private bool _initialised;
    private Api _api;

    public ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_initialised)
            {
                Initialise();
            }

            if (_unavailableReason is not null)
            {
                return ValueTask.FromResult(GpuSourceResult.Unavailable(SourceName, _unavailableReason));
            }

            uint count;
            var rc = _api.GetCount(&count);
            if (rc != Success)
            {
                return ValueTask.FromResult(GpuSourceResult.Unavailable(SourceName, $"nvmlDeviceGetCount_v2 returned {rc}."));
            }

            var devices = new List<GpuDeviceReading>((int)count);
            var name = stackalloc byte[NameBufferSize];
            for (uint i = 0; i < count; i++)
            {
                IntPtr device;
                if (_api.GetHandleByIndex(i, &device) != Success)
                {
                    continue;
                }

                var deviceName = _api.GetName(device, name, NameBufferSize) == Success
                    ? Encoding.UTF8.GetString(name, new ReadOnlySpan<byte>(name, NameBufferSize).IndexOf((byte)0) is var end and >= 0 ? end : NameBufferSize)
                    : $"GPU {i}";
                Utilization utilization;
                double? busy = _api.GetUtilizationRates(device, &utilization) == Success ? utilization.Gpu / 100.0 : null;
                Memory memory;
                var hasMemory = _api.GetMemoryInfo(device, &memory) == Success;
                uint temperature;
                double? celsius = _api.GetTemperature(device, 0, &temperature) == Success ? temperature : null;
                uint milliwatts;
                double? watts = _api.GetPowerUsage != null && _api.GetPowerUsage(device, &milliwatts) == Success ? milliwatts / 1000.0 : null;
                devices.Add(new GpuDeviceReading(
                    (int)i,
                    deviceName,
                    busy,
                    hasMemory ? (long)memory.Used : null,
                    hasMemory ? (long)memory.Total : null,
                    celsius,
                    watts));
            }

            return ValueTask.FromResult(devices.Count == 0
                ? GpuSourceResult.Unavailable(SourceName, "NVML reports no devices.")
                : new GpuSourceResult(SourceName, devices, null));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_library != IntPtr.Zero)
            {
                if (_unavailableReason is null && _api.Shutdown != null)
                {
                    _api.Shutdown();
                }

                NativeLibrary.Free(_library);
                _library = IntPtr.Zero;
            }
        }
    }

    private void Initialise()
    {
        _initialised = true;
        var libraryName = OperatingSystem.IsWindows() ? "nvml.dll" : "libnvidia-ml.so.1";
        if (!NativeLibrary.TryLoad(libraryName, out _library))
        {
            _unavailableReason = $"{libraryName} could not be loaded (no NVIDIA driver).";
            return;
        }

        if (!TryExport("nvmlInit_v2", out var init) ||
            !TryExport("nvmlDeviceGetCount_v2", out var getCount) ||
            !TryExport("nvmlDeviceGetHandleByIndex_v2", out var getHandle) ||
            !TryExport("nvmlDeviceGetName", out var getName) ||
            !TryExport("nvmlDeviceGetUtilizationRates", out var getUtilization) ||
            !TryExport("nvmlDeviceGetMemoryInfo", out var getMemory) ||
            !TryExport("nvmlDeviceGetTemperature", out var getTemperature))
        {
            _unavailableReason = $"{libraryName} lacks an expected NVML function.";
            return;
        }

        TryExport("nvmlDeviceGetPowerUsage", out var getPower);
        TryExport("nvmlShutdown", out var shutdown);
        _api = new Api
        {
            GetCount = (delegate* unmanaged<uint*, int>)getCount,
            GetHandleByIndex = (delegate* unmanaged<uint, IntPtr*, int>)getHandle,
            GetName = (delegate* unmanaged<IntPtr, byte*, uint, int>)getName,
            GetUtilizationRates = (delegate* unmanaged<IntPtr, Utilization*, int>)getUtilization,
            GetMemoryInfo = (delegate* unmanaged<IntPtr, Memory*, int>)getMemory,
            GetTemperature = (delegate* unmanaged<IntPtr, int, uint*, int>)getTemperature,
            GetPowerUsage = (delegate* unmanaged<IntPtr, uint*, int>)getPower,
            Shutdown = (delegate* unmanaged<int>)shutdown,
        };
        var rc = ((delegate* unmanaged<int>)init)();
        if (rc != Success)
        {
            _unavailableReason = $"nvmlInit_v2 returned {rc} (driver not loaded or no permission).";
        }
    }

    private bool TryExport(string name, out IntPtr address) => NativeLibrary.TryGetExport(_library, name, out address);

    private struct Api
    {
        public delegate* unmanaged<uint*, int> GetCount;
        public delegate* unmanaged<uint, IntPtr*, int> GetHandleByIndex;
        public delegate* unmanaged<IntPtr, byte*, uint, int> GetName;
        public delegate* unmanaged<IntPtr, Utilization*, int> GetUtilizationRates;
        public delegate* unmanaged<IntPtr, Memory*, int> GetMemoryInfo;
        public delegate* unmanaged<IntPtr, int, uint*, int> GetTemperature;
        public delegate* unmanaged<IntPtr, uint*, int> GetPowerUsage;
        public delegate* unmanaged<int> Shutdown;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Utilization
    {
        public uint Gpu;
        public uint MemoryBusy;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Memory
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }
}
