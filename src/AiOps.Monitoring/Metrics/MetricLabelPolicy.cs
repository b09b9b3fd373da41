using System.Collections.Concurrent;
using AiOps.Monitoring.Export;
using Microsoft.Extensions.Options;

namespace AiOps.Monitoring.Metrics;

/// <summary>
/// Keeps Prometheus label values bounded. The <c>model</c> label takes only registered model names (others become
/// <see cref="Other"/>); <c>version</c> takes at most <see cref="PrometheusExportOptions.MaxVersionsPerModel"/> valid
/// versions of a registered model; any other label takes at most
/// <see cref="PrometheusExportOptions.MaxValuesPerLabel"/> short identifier-like values per metric (free-form text,
/// such as a value with spaces, is always <see cref="Other"/>).
/// </summary>
internal sealed class MetricLabelPolicy
{
    /// <summary>The value that replaces any label value outside the bounds.</summary>
    public const string Other = "other";

    /// <summary>The longest label value kept as is.</summary>
    public const int MaxValueLength = 64;

    private readonly ConcurrentDictionary<string, ModelLabels> _models = new(StringComparer.Ordinal);
    private readonly int _maxVersions;

    public MetricLabelPolicy(IOptions<AiOpsMonitoringOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxVersions = options.Value.Prometheus.MaxVersionsPerModel;
        MaxValuesPerLabel = options.Value.Prometheus.MaxValuesPerLabel;
        MaxFeaturesPerModel = options.Value.Prometheus.MaxFeaturesPerModel;
        foreach (var model in options.Value.Models)
        {
            RegisterModel(model);
        }
    }

    /// <summary>Distinct values a generic label may take per metric.</summary>
    public int MaxValuesPerLabel { get; }

    /// <summary>Distinct <c>feature</c> values per model and metric.</summary>
    public int MaxFeaturesPerModel { get; }

    /// <summary>The registered model names.</summary>
    public IReadOnlyCollection<string> Models => (IReadOnlyCollection<string>)_models.Keys;

    /// <summary>Allows <paramref name="model"/> as a label value.</summary>
    public void RegisterModel(string model)
    {
        if (!ModelId.IsValid(model, out var error))
        {
            throw new ArgumentException(error, nameof(model));
        }

        _models.TryAdd(model, new ModelLabels(model));
    }

    /// <summary>Returns the label value for a model name.</summary>
    public string MapModel(object? value)
    {
        if (value is not string model)
        {
            model = value?.ToString() ?? string.Empty;
        }

        return _models.TryGetValue(model, out var labels) ? labels.Name : Other;
    }

    /// <summary>Returns the label value for a version of <paramref name="mappedModel"/> (an output of <see cref="MapModel"/>).</summary>
    public string MapVersion(string mappedModel, object? value)
    {
        if (!_models.TryGetValue(mappedModel, out var labels))
        {
            return Other;
        }

        var versions = labels.Versions;

        if (value is not string version)
        {
            version = value?.ToString() ?? string.Empty;
        }

        if (versions.TryGetValue(version, out var canonical))
        {
            return canonical;
        }

        if (versions.Count >= _maxVersions || !ModelVersion.IsValid(version, out _))
        {
            return Other;
        }

        return versions.GetOrAdd(version, version);
    }

    /// <summary>
    /// Whether a value is an ASP.NET Core route template (<c>/v2/models/{model_name}/infer</c>): the label-safe
    /// characters plus <c>/ { } * ? =</c>. Templates are bounded by the application's routes, not by its callers.
    /// </summary>
    public static bool IsRouteTemplateSafe(string value)
    {
        if (value.Length is 0 or > MaxValueLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or ':' or '-' or '/' or '{' or '}' or '*' or '?' or '='))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a value is short and identifier-like (letters, digits, <c>_ . : -</c>).</summary>
    public static bool IsLabelSafe(string value)
    {
        if (value.Length is 0 or > MaxValueLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class ModelLabels(string name)
    {
        // One instance per model keeps label tuples reference-equal, which makes child lookups cheap.
        public string Name { get; } = name;

        public ConcurrentDictionary<string, string> Versions { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>Bounds the values of one label of one metric separately for each (mapped) model.</summary>
internal sealed class PerModelLabelValues(int maxValuesPerModel)
{
    private readonly ConcurrentDictionary<string, BoundedLabelValues> _models = new(StringComparer.Ordinal);

    public string Map(string? mappedModel, object? value) =>
        _models.GetOrAdd(mappedModel ?? string.Empty, static (_, max) => new BoundedLabelValues(max), maxValuesPerModel).Map(value);
}

/// <summary>Bounds the values of one generic label of one metric.</summary>
internal sealed class BoundedLabelValues(int maxValues, bool routeTemplates = false)
{
    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal);

    public string Map(object? value)
    {
        if (value is not string text)
        {
            text = value switch
            {
                null => string.Empty,
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => value.ToString() ?? string.Empty,
            };
        }

        if (_values.TryGetValue(text, out var canonical))
        {
            return canonical;
        }

        if (text.Length == 0)
        {
            return string.Empty;
        }

        if (_values.Count >= maxValues || !(routeTemplates ? MetricLabelPolicy.IsRouteTemplateSafe(text) : MetricLabelPolicy.IsLabelSafe(text)))
        {
            return MetricLabelPolicy.Other;
        }

        return _values.GetOrAdd(text, text);
    }
}
