using System.ComponentModel;
using System.Diagnostics;

namespace AiOps.Monitoring.Gpu;

/// <summary>Reads GPUs by running <c>nvidia-smi</c> with <see cref="NvidiaSmiCsv.QueryArguments"/> and parsing its CSV.</summary>
internal sealed class NvidiaSmiGpuTelemetrySource(string executable, TimeSpan timeout) : IGpuTelemetrySource
{
    public const string SourceName = "nvidia-smi";

    public async ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(executable, NvidiaSmiCsv.QueryArguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception($"{executable} did not start.");
        }
        catch (Win32Exception ex)
        {
            return GpuSourceResult.Unavailable(SourceName, $"{executable} could not be run: {ex.Message}");
        }

        using (process)
        {
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            try
            {
                var stdout = process.StandardOutput.ReadToEndAsync(timeoutSource.Token);
                var stderr = process.StandardError.ReadToEndAsync(timeoutSource.Token);
                await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
                var output = await stdout.ConfigureAwait(false);
                var error = await stderr.ConfigureAwait(false);
                if (process.ExitCode != 0)
                {
                    var detail = string.IsNullOrWhiteSpace(error) ? output : error;
                    return GpuSourceResult.Unavailable(SourceName, $"{executable} exited with code {process.ExitCode}: {detail.Trim()}");
                }

                var devices = NvidiaSmiCsv.Parse(output);
                return devices.Count == 0
                    ? GpuSourceResult.Unavailable(SourceName, $"{executable} reports no devices.")
                    : new GpuSourceResult(SourceName, devices, null);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                TryKill(process);
                return GpuSourceResult.Unavailable(SourceName, $"{executable} did not answer within {timeout.TotalSeconds:0.#} s.");
            }
            catch (FormatException ex)
            {
                return GpuSourceResult.Unavailable(SourceName, $"{executable} output could not be parsed: {ex.Message}");
            }
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}

/// <summary>NVML first, then nvidia-smi, then "no GPU" with both reasons.</summary>
internal sealed class GpuTelemetrySourceChain : IGpuTelemetrySource, IDisposable
{
    private readonly NvmlGpuTelemetrySource _nvml = new();
    private readonly NvidiaSmiGpuTelemetrySource _smi;

    public GpuTelemetrySourceChain(Microsoft.Extensions.Options.IOptions<AiOpsMonitoringOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _smi = new NvidiaSmiGpuTelemetrySource(options.Value.Gpu.NvidiaSmiPath, options.Value.Gpu.NvidiaSmiTimeout);
    }

    public async ValueTask<GpuSourceResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var nvml = await _nvml.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (nvml.HasGpu)
        {
            return nvml;
        }

        var smi = await _smi.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (smi.HasGpu)
        {
            return smi;
        }

        return GpuSourceResult.Unavailable("none", $"No GPU: {nvml.Reason} {smi.Reason}");
    }

    public void Dispose() => _nvml.Dispose();
}
