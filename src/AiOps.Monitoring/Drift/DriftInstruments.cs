using System.Diagnostics.Metrics;
using System.Globalization;
using AiOps.Drift;

namespace AiOps.Monitoring.Drift;

/// <summary>
/// The drift instruments on the <c>AiOps.Monitoring</c> meter: the <c>aiops.drift.psi</c> gauge per feature, the
/// per-bin counters a fleet-wide PSI is computed from (sum the counters of every replica, divide by the total, compare
/// with <c>aiops.drift.reference.proportion</c>), the missing-value counter, the <c>aiops.drift.missing.share</c> gauge
/// (rise of the missing share per feature), the drift share and closed windows.
/// </summary>
internal sealed class DriftInstruments : IDisposable
{
    /// <summary>The meter name shared by AiOps.Monitoring.</summary>
    public const string MeterName = AiOpsMonitoringDiagnostics.MeterName;

    private static readonly string[] s_binLabels = Enumerable.Range(0, 1024).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Gauge<double> _psi;
    private readonly Gauge<double> _share;
    private readonly Gauge<double> _missingShare;
    private readonly Counter<long> _binValues;
    private readonly Counter<long> _missing;
    private readonly Counter<long> _windows;

    public DriftInstruments(IMeterFactory? meterFactory, DriftMonitor monitor)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _psi = _meter.CreateGauge<double>("aiops.drift.psi", description: "Population Stability Index of a feature over the last closed window (< 0.1 stable, 0.1-0.2 moderate, > 0.2 severe).");
        _missingShare = _meter.CreateGauge<double>("aiops.drift.missing.share",
            description: "Rise of a feature's missing-value share over the last closed window, current - reference (0.05 moderate, above 0.2 severe by default).");
        _share = _meter.CreateGauge<double>("aiops.drift.share", description: "Share of a version's features whose drift is severe in the last closed window.");
        _binValues = _meter.CreateCounter<long>("aiops.drift.bin.values", "{value}", "Production values counted per reference bin; sum across replicas for a fleet-wide PSI.");
        _missing = _meter.CreateCounter<long>("aiops.drift.missing.values", "{value}", "Missing (NaN) production values per feature.");
        _windows = _meter.CreateCounter<long>("aiops.drift.windows", "{window}", "Drift windows closed.");
        _meter.CreateObservableGauge(
            "aiops.drift.reference.proportion",
            () => ReferenceProportions(monitor),
            description: "Reference proportion of each bin of each tracked feature.");
    }

    public void Record(ModelKey key, DriftResult result, ProfileHistogram window)
    {
        var model = new KeyValuePair<string, object?>("model", key.Model.Value);
        var version = new KeyValuePair<string, object?>("version", key.Version.Value);
        foreach (var f in result.Features)
        {
            // A feature that could not be judged keeps its last gauge value rather than a PSI of a handful of values.
            if (f.Severity == DriftSeverity.InsufficientData)
            {
                continue;
            }

            if (f.Statistic == DriftStatisticNames.Psi)
            {
                _psi.Record(f.Value, model, version, new KeyValuePair<string, object?>("feature", f.Feature));
            }
            else if (f.Statistic == DriftStatisticNames.MissingShare)
            {
                // The rise as graded: a drop in missing values reads 0 or below, never an alert.
                _missingShare.Record(f.Value, model, version, new KeyValuePair<string, object?>("feature", f.Feature));
            }
        }

        _share.Record(result.FeatureDriftShare(), model, version);
        _windows.Add(1, model, version);
        foreach (var histogram in window.Features)
        {
            var feature = new KeyValuePair<string, object?>("feature", histogram.Feature.Name);
            var counts = histogram.Counts;
            for (var b = 0; b < counts.Length; b++)
            {
                // Every bin is created, empty ones at 0, so PSI computed from these series in PromQL sees every bin.
                _binValues.Add(counts[b], model, version, feature, new KeyValuePair<string, object?>("bin", BinLabel(b)));
            }

            if (histogram.NaNCount != 0)
            {
                _missing.Add(histogram.NaNCount, model, version, feature);
            }
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static string BinLabel(int bin) => bin < s_binLabels.Length ? s_binLabels[bin] : bin.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<Measurement<double>> ReferenceProportions(DriftMonitor monitor)
    {
        foreach (var (key, profile) in monitor.ActiveProfiles())
        {
            foreach (var feature in profile.Features)
            {
                var proportions = feature.Proportions();
                for (var b = 0; b < proportions.Length; b++)
                {
                    yield return new Measurement<double>(
                        proportions[b],
                        new KeyValuePair<string, object?>("model", key.Model.Value),
                        new KeyValuePair<string, object?>("version", key.Version.Value),
                        new KeyValuePair<string, object?>("feature", feature.Name),
                        new KeyValuePair<string, object?>("bin", BinLabel(b)));
                }
            }
        }
    }
}
