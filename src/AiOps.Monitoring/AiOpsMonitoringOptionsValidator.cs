using Microsoft.Extensions.Options;

namespace AiOps.Monitoring;

/// <summary>Checks <see cref="AiOpsMonitoringOptions"/> at start-up; each failure names the setting.</summary>
internal sealed class AiOpsMonitoringOptionsValidator : IValidateOptions<AiOpsMonitoringOptions>
{
    public ValidateOptionsResult Validate(string? name, AiOpsMonitoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var model in options.Models)
        {
            if (!ModelId.IsValid(model, out var error))
            {
                errors.Add($"AiOpsMonitoringOptions.Models: {error}");
            }
        }

        var v = options.VersionMetrics;
        Positive(errors, "VersionMetrics.SampleCapacity", v.SampleCapacity);
        Positive(errors, "VersionMetrics.BucketWidth", v.BucketWidth);
        Positive(errors, "VersionMetrics.Retention", v.Retention);
        if (v.BucketWidth > TimeSpan.Zero && v.Retention < v.BucketWidth)
        {
            errors.Add($"AiOpsMonitoringOptions.VersionMetrics.Retention is {v.Retention}; expected at least VersionMetrics.BucketWidth ({v.BucketWidth}).");
        }

        var p = options.Prometheus;
        if (p.MetricServerPort is { } port && (port < 0 || port > 65535))
        {
            errors.Add($"AiOpsMonitoringOptions.Prometheus.MetricServerPort is {port}; expected 0-65535.");
        }

        if (p.LatencyBuckets.Count == 0)
        {
            errors.Add("AiOpsMonitoringOptions.Prometheus.LatencyBuckets is empty; expected increasing positive bounds in seconds.");
        }

        for (var i = 0; i < p.LatencyBuckets.Count; i++)
        {
            if (!(p.LatencyBuckets[i] > 0) || double.IsInfinity(p.LatencyBuckets[i]) || (i > 0 && p.LatencyBuckets[i] <= p.LatencyBuckets[i - 1]))
            {
                errors.Add($"AiOpsMonitoringOptions.Prometheus.LatencyBuckets[{i}] is {p.LatencyBuckets[i]}; expected increasing positive finite bounds in seconds.");
                break;
            }
        }

        Positive(errors, "Prometheus.MaxValuesPerLabel", p.MaxValuesPerLabel);
        Positive(errors, "Prometheus.MaxVersionsPerModel", p.MaxVersionsPerModel);
        if (string.IsNullOrWhiteSpace(p.MetricServerHostname))
        {
            errors.Add("AiOpsMonitoringOptions.Prometheus.MetricServerHostname is empty; expected a host name or '+'.");
        }

        var g = options.Gpu;
        Positive(errors, "Gpu.PollInterval", g.PollInterval);
        Positive(errors, "Gpu.HistoryRetention", g.HistoryRetention);
        Positive(errors, "Gpu.NvidiaSmiTimeout", g.NvidiaSmiTimeout);

        var a = options.Alerts;
        Positive(errors, "Alerts.EvaluationInterval", a.EvaluationInterval);
        Positive(errors, "Alerts.Window", a.Window);
        Positive(errors, "Alerts.AccuracyWindow", a.AccuracyWindow);
        Positive(errors, "Alerts.DriftWindow", a.DriftWindow);
        Positive(errors, "Alerts.GpuWindow", a.GpuWindow);
        Positive(errors, "Alerts.LatencyP95Threshold", a.LatencyP95Threshold);
        if (a.LatencyP1Threshold <= a.LatencyP95Threshold)
        {
            errors.Add($"AiOpsMonitoringOptions.Alerts.LatencyP1Threshold is {a.LatencyP1Threshold}; expected more than Alerts.LatencyP95Threshold ({a.LatencyP95Threshold}).");
        }

        if (a.MinRequests < 1)
        {
            errors.Add($"AiOpsMonitoringOptions.Alerts.MinRequests is {a.MinRequests}; expected at least 1.");
        }

        Fraction(errors, "Alerts.SuccessRateThreshold", a.SuccessRateThreshold);
        Fraction(errors, "Alerts.AccuracyChangeThreshold", a.AccuracyChangeThreshold);
        Fraction(errors, "Alerts.AccuracyP1Change", a.AccuracyP1Change);
        if (a.AccuracyP1Change < a.AccuracyChangeThreshold)
        {
            errors.Add($"AiOpsMonitoringOptions.Alerts.AccuracyP1Change is {a.AccuracyP1Change}; expected at least Alerts.AccuracyChangeThreshold ({a.AccuracyChangeThreshold}).");
        }

        Fraction(errors, "Alerts.GpuHotThreshold", a.GpuHotThreshold);
        Fraction(errors, "Alerts.GpuIdleThreshold", a.GpuIdleThreshold);
        Fraction(errors, "Alerts.GpuMemoryThreshold", a.GpuMemoryThreshold);
        if (a.GpuIdleThreshold >= a.GpuHotThreshold)
        {
            errors.Add($"AiOpsMonitoringOptions.Alerts.GpuIdleThreshold is {a.GpuIdleThreshold}; expected less than Alerts.GpuHotThreshold ({a.GpuHotThreshold}).");
        }

        foreach (var (model, baseline) in a.AccuracyBaselines)
        {
            if (double.IsNaN(baseline) || baseline is < 0 or > 1)
            {
                errors.Add($"AiOpsMonitoringOptions.Alerts.AccuracyBaselines[\"{model}\"] is {baseline}; expected an accuracy between 0 and 1.");
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
                errors.Add($"AiOpsMonitoringOptions.Alerts.{setting} is {value}; expected zero or more.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"AiOpsMonitoringOptions.{setting} is {value}; expected more than zero.");
        }
    }

    private static void Positive(List<string> errors, string setting, int value)
    {
        if (value <= 0)
        {
            errors.Add($"AiOpsMonitoringOptions.{setting} is {value}; expected more than zero.");
        }
    }

    private static void Fraction(List<string> errors, string setting, double value)
    {
        if (double.IsNaN(value) || value is < 0 or > 1)
        {
            errors.Add($"AiOpsMonitoringOptions.{setting} is {value}; expected a fraction between 0 and 1.");
        }
    }
}
