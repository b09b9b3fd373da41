using System.Globalization;

namespace AiOps.Monitoring.Gpu;

/// <summary>
/// Parses the output of
/// <c>nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits</c>:
/// one line per device, utilisation in %, memory in MiB, temperature in °C, power in W; <c>[N/A]</c> and
/// <c>[Not Supported]</c> (and any other non-number) give <see langword="null"/>.
/// </summary>
internal static class NvidiaSmiCsv
{
    /// <summary>The query arguments this parser expects.</summary>
    public const string QueryArguments = "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits";

    private const long MiB = 1024 * 1024;

    /// <summary>Parses the output.</summary>
    /// <param name="output">The standard output of nvidia-smi.</param>
    /// <returns>One reading per non-empty line.</returns>
    /// <exception cref="FormatException">A line does not have the 7 expected fields or its index is not a number.</exception>
    public static IReadOnlyList<GpuDeviceReading> Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var devices = new List<GpuDeviceReading>();
        foreach (var rawLine in output.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length < 7)
            {
                throw new FormatException($"nvidia-smi line '{line}' has {fields.Length} fields; expected 7 (index, name, utilization.gpu, memory.used, memory.total, temperature.gpu, power.draw).");
            }

            // A product name could contain a comma: the first field is the index and the last five are the figures.
            var n = fields.Length;
            if (!int.TryParse(fields[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var index))
            {
                throw new FormatException($"nvidia-smi line '{line}' starts with '{fields[0].Trim()}'; expected the device index.");
            }

            var name = string.Join(',', fields[1..(n - 5)]).Trim();
            var utilization = Number(fields[n - 5]) / 100;
            var used = Number(fields[n - 4]) is { } u ? (long)Math.Round(u * MiB) : (long?)null;
            var total = Number(fields[n - 3]) is { } t ? (long)Math.Round(t * MiB) : (long?)null;
            devices.Add(new GpuDeviceReading(index, name, utilization, used, total, Number(fields[n - 2]), Number(fields[n - 1])));
        }

        return devices;
    }

    private static double? Number(string field)
    {
        var text = field.Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;
    }
}
