using AiOps.Monitoring.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring;

/// <summary>Checks <see cref="AiOpsMonitoringOptions"/> at start-up; each failure names the configuration key, its value and what is expected.</summary>
internal sealed class AiOpsMonitoringOptionsValidator : IValidateOptions<AiOpsMonitoringOptions>
{
    private const string Section = AiOpsMonitoringOptions.SectionName;
    private const string VersionMetrics = Section + ":VersionMetrics:";
    private const string Prometheus = Section + ":Prometheus:";
    private const string Gpu = Section + ":Gpu:";
    private const string Alerts = Section + ":Alerts:";

    public ValidateOptionsResult Validate(string? name, AiOpsMonitoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var index = 0;
        foreach (var model in options.Models)
        {
            if (!ModelId.IsValid(model, out _))
            {
                errors.Add(OptionsMessage.Invalid($"{Section}:Models:{index}", model, OptionsMessage.ModelName));
            }

            index++;
        }

        var v = options.VersionMetrics;
        Positive(errors, VersionMetrics + "SampleCapacity", v.SampleCapacity);
        Positive(errors, VersionMetrics + "BucketWidth", v.BucketWidth);
        Positive(errors, VersionMetrics + "Retention", v.Retention);
        if (v.BucketWidth > TimeSpan.Zero && v.Retention < v.BucketWidth)
        {
            errors.Add(OptionsMessage.Invalid(VersionMetrics + "Retention", v.Retention, $"at least {VersionMetrics}BucketWidth ({v.BucketWidth})"));
        }

        var p = options.Prometheus;
        if (p.MetricServerPort is { } port && (port < 0 || port > 65535))
        {
            errors.Add(OptionsMessage.Invalid(Prometheus + "MetricServerPort", port, "a port from 0 to 65535 (0 = any free port)"));
        }

        if (p.LatencyBuckets.Count == 0)
        {
            errors.Add(OptionsMessage.Invalid(Prometheus + "LatencyBuckets", string.Empty, "increasing positive bounds in seconds"));
        }

        for (var i = 0; i < p.LatencyBuckets.Count; i++)
        {
            if (!(p.LatencyBuckets[i] > 0) || double.IsInfinity(p.LatencyBuckets[i]) || (i > 0 && p.LatencyBuckets[i] <= p.LatencyBuckets[i - 1]))
            {
                errors.Add(OptionsMessage.Invalid($"{Prometheus}LatencyBuckets:{i}", p.LatencyBuckets[i], "increasing positive finite bounds in seconds"));
                break;
            }
        }

        Positive(errors, Prometheus + "MaxValuesPerLabel", p.MaxValuesPerLabel);
        Positive(errors, Prometheus + "MaxVersionsPerModel", p.MaxVersionsPerModel);
        Positive(errors, Prometheus + "MaxFeaturesPerModel", p.MaxFeaturesPerModel);
        if (string.IsNullOrWhiteSpace(p.MetricServerHostname))
        {
            errors.Add(OptionsMessage.Invalid(Prometheus + "MetricServerHostname", p.MetricServerHostname, "a host name or '+'"));
        }

        var g = options.Gpu;
        Positive(errors, Gpu + "PollInterval", g.PollInterval);
        Positive(errors, Gpu + "HistoryRetention", g.HistoryRetention);
        Positive(errors, Gpu + "NvidiaSmiTimeout", g.NvidiaSmiTimeout);

        var a = options.Alerts;
        Positive(errors, Alerts + "EvaluationInterval", a.EvaluationInterval);
        Positive(errors, Alerts + "Window", a.Window);
        Positive(errors, Alerts + "AccuracyWindow", a.AccuracyWindow);
        Positive(errors, Alerts + "DriftWindow", a.DriftWindow);
        Positive(errors, Alerts + "GpuWindow", a.GpuWindow);
        Positive(errors, Alerts + "LatencyP95Threshold", a.LatencyP95Threshold);
        if (a.LatencyP1Threshold <= a.LatencyP95Threshold)
        {
            errors.Add(OptionsMessage.Invalid(Alerts + "LatencyP1Threshold", a.LatencyP1Threshold, $"more than {Alerts}LatencyP95Threshold ({a.LatencyP95Threshold})"));
        }

        if (a.MinRequests < 1)
        {
            errors.Add(OptionsMessage.Invalid(Alerts + "MinRequests", a.MinRequests, "1 or more"));
        }

        Fraction(errors, Alerts + "SuccessRateThreshold", a.SuccessRateThreshold);
        Fraction(errors, Alerts + "AccuracyChangeThreshold", a.AccuracyChangeThreshold);
        Fraction(errors, Alerts + "AccuracyP1Change", a.AccuracyP1Change);
        if (a.AccuracyP1Change < a.AccuracyChangeThreshold)
        {
            errors.Add(OptionsMessage.Invalid(Alerts + "AccuracyP1Change", a.AccuracyP1Change, $"at least {Alerts}AccuracyChangeThreshold ({OptionsMessage.Show(a.AccuracyChangeThreshold)})"));
        }

        Fraction(errors, Alerts + "GpuHotThreshold", a.GpuHotThreshold);
        Fraction(errors, Alerts + "GpuIdleThreshold", a.GpuIdleThreshold);
        Fraction(errors, Alerts + "GpuMemoryThreshold", a.GpuMemoryThreshold);
        if (a.GpuIdleThreshold >= a.GpuHotThreshold)
        {
            errors.Add(OptionsMessage.Invalid(Alerts + "GpuIdleThreshold", a.GpuIdleThreshold, $"less than {Alerts}GpuHotThreshold ({OptionsMessage.Show(a.GpuHotThreshold)})"));
        }

        foreach (var (model, baseline) in a.AccuracyBaselines)
        {
            if (double.IsNaN(baseline) || baseline is < 0 or > 1)
            {
                errors.Add(OptionsMessage.Invalid($"{Alerts}AccuracyBaselines:{model}", baseline, "an accuracy between 0 and 1"));
            }
        }

        foreach (var (setting, value) in new[]
        {
            ("LatencyFor", a.LatencyFor), ("LatencyP1For", a.LatencyP1For), ("SuccessRateFor", a.SuccessRateFor),
            ("UnavailableFor", a.UnavailableFor), ("AccuracyFor", a.AccuracyFor), ("DriftFor", a.DriftFor),
            ("GpuHotFor", a.GpuHotFor), ("GpuIdleFor", a.GpuIdleFor), ("GpuMemoryFor", a.GpuMemoryFor),
        })
        {
            if (value < TimeSpan.Zero)
            {
                errors.Add(OptionsMessage.Invalid(Alerts + setting, value, "0 or more"));
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(key, value, "a positive duration"));
        }
    }

    private static void Positive(List<string> errors, string key, int value)
    {
        if (value <= 0)
        {
            errors.Add(OptionsMessage.Invalid(key, value, "1 or more"));
        }
    }

    private static void Fraction(List<string> errors, string key, double value)
    {
        if (double.IsNaN(value) || value is < 0 or > 1)
        {
            errors.Add(OptionsMessage.Invalid(key, value, "a fraction between 0 and 1"));
        }
    }
}
