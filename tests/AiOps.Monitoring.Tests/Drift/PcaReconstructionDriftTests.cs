using System.Globalization;
using AiOps.Drift;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Observation;
using AiOps.Monitoring.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>Issue 16: multivariate drift by PCA reconstruction error (NannyML-style).</summary>
public sealed class PcaReconstructionDriftTests
{
    private static double NextNormal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>
    /// Rows of 4 features in two correlated pairs (x1, x2) and (x3, x4), each N(0, 1) with correlation
    /// <paramref name="rho12"/> and 0.9; x3, x4 in dollars (mean 100, sd 15) so standardising matters.
    /// </summary>
    private static double[] Rows(int n, double rho12, int seed)
    {
        var rng = new Random(seed);
        var rows = new double[n * 4];
        for (var i = 0; i < n; i++)
        {
            var a = NextNormal(rng);
            var b = NextNormal(rng);
            var c = NextNormal(rng);
            var d = NextNormal(rng);
            rows[(i * 4) + 0] = a;
            rows[(i * 4) + 1] = (rho12 * a) + (Math.Sqrt(1 - (rho12 * rho12)) * b);
            rows[(i * 4) + 2] = 100 + (15 * c);
            rows[(i * 4) + 3] = 100 + (15 * ((0.9 * c) + (Math.Sqrt(1 - 0.81) * d)));
        }

        return rows;
    }

    private static double[] Column(double[] rows, int j) => Enumerable.Range(0, rows.Length / 4).Select(i => rows[(i * 4) + j]).ToArray();

    [Fact]
    public void CorrelationFlip_WithUnchangedMarginals_IsDetected_WhileUnivariateDriftIsStable()
    {
        var reference = Rows(10_000, 0.9, seed: 1);
        var pca = PcaReconstructionDrift.Fit(reference, 4);
        Assert.Equal(2, pca.Components); // two pairs: 2 × 0.475 of the variance
        Assert.InRange(pca.ExplainedVarianceRatio[0] + pca.ExplainedVarianceRatio[1], 0.9, 1.0);

        // x1 and x2 now move against each other: each is still N(0, 1).
        var current = Rows(2_000, -0.9, seed: 2);
        var calculator = new DriftCalculator();
        for (var j = 0; j < 4; j++)
        {
            var rows = calculator.CompareSamples("x" + j.ToString(CultureInfo.InvariantCulture), Column(reference, j), Column(current, j));
            Assert.All(rows, r => Assert.Equal(DriftSeverity.Stable, r.Severity));
        }

        var result = pca.Evaluate(current);
        Assert.True(result.Drifted, $"score {result.Score:F3}, thresholds {result.LowerThreshold:F3} to {result.UpperThreshold:F3}");
        Assert.True(result.Score > 2 * result.UpperThreshold);
        Assert.Equal(2_000, result.Rows);
    }

    [Fact]
    public void NoDrift_FreshWindowsFromTheReferenceDistribution_AreNotFlagged()
    {
        var pca = PcaReconstructionDrift.Fit(Rows(10_000, 0.9, seed: 3), 4);
        var flagged = 0;
        for (var w = 0; w < 40; w++)
        {
            flagged += pca.Evaluate(Rows(500, 0.9, seed: 100 + w)).Drifted ? 1 : 0;
        }

        // ±3 sd of the chunk scores: about 0.3 % of windows without drift.
        Assert.InRange(flagged, 0, 1);
    }

    [Fact]
    public void MissingValues_AreImputedWithTheReferenceMean()
    {
        var pca = PcaReconstructionDrift.Fit(Rows(2_000, 0.9, seed: 4), 4);
        double[] row = [0.5, double.NaN, 100, 101];
        double[] imputedByHand = [0.5, 0, 100, 101];
        var mean1 = Column(Rows(2_000, 0.9, seed: 4), 1).Average();
        imputedByHand[1] = mean1;
        Assert.Equal(pca.ReconstructionError(imputedByHand), pca.ReconstructionError(row), 9);
    }

    [Fact]
    public void BadInput_NamesWhatWasExpected()
    {
        Assert.Contains("multiple of 4", Assert.Throws<ArgumentException>(() => PcaReconstructionDrift.Fit(new double[4001], 4)).Message, StringComparison.Ordinal);
        Assert.Contains("two chunks", Assert.Throws<ArgumentException>(() => PcaReconstructionDrift.Fit(new double[400 * 4], 4)).Message, StringComparison.Ordinal);
        Assert.Contains("(0, 1]", Assert.Throws<ArgumentException>(() => PcaReconstructionDrift.Fit(Rows(2_000, 0.9, 5), 4, new PcaDriftOptions { ExplainedVariance = 0 })).Message, StringComparison.Ordinal);
        var pca = PcaReconstructionDrift.Fit(Rows(2_000, 0.9, 5), 4);
        Assert.Contains("expected 4", Assert.Throws<ArgumentException>(() => pca.ReconstructionError([1, 2, 3])).Message, StringComparison.Ordinal);
        Assert.Contains("at least one row", Assert.Throws<ArgumentException>(() => pca.Score([])).Message, StringComparison.Ordinal);
    }

    [ScipyFact]
    public void Pca_MatchesNumpySvd_OnASmallFixture()
    {
        // 60 rows of 4 features; chunks of 20 so the fixture can be fitted.
        var reference = Rows(60, 0.7, seed: 6);
        var pca = PcaReconstructionDrift.Fit(reference, 4, new PcaDriftOptions { ChunkSize = 20 });
        var input = string.Join('\n', Enumerable.Range(0, 60).Select(i => string.Join(' ', Enumerable.Range(0, 4).Select(j => reference[(i * 4) + j].ToString("R", CultureInfo.InvariantCulture)))));
        const string Script = """
            import sys, numpy as np
            x = np.loadtxt(sys.stdin)
            z = (x - x.mean(axis=0)) / x.std(axis=0)
            u, s, vt = np.linalg.svd(z, full_matrices=False)
            ratio = s**2 / np.sum(s**2)
            k = int(np.searchsorted(np.cumsum(ratio), 0.65 - 1e-12) + 1)
            w = vt[:k]
            err = np.linalg.norm(z - z @ w.T @ w, axis=1)
            print(k)
            print(' '.join(repr(float(v)) for v in ratio))
            print(' '.join(repr(float(v)) for v in err))
            """;
        var lines = Scipy.Run(Script, input).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(int.Parse(lines[0], CultureInfo.InvariantCulture), pca.Components);
        var ratio = lines[1].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        for (var c = 0; c < 4; c++)
        {
            Assert.Equal(ratio[c], pca.ExplainedVarianceRatio[c], 10);
        }

        var errors = lines[2].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(errors[i], pca.ReconstructionError(reference.AsSpan(i * 4, 4)), 9);
        }

        Assert.Equal(errors.Average(), pca.Score(reference), 9);
    }

    private static ModelRequest Request(double[] rows, int from, int count) =>
        new(ModelTensor.Create("features", rows.Skip(from * 4).Take(count * 4).Select(v => (float)v).ToArray().AsMemory(), count, 4));

    [Fact]
    public void Monitor_FedByServedRequests_FlagsTheCorrelationFlipPerVersion_AndSetsTheGauges()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddAiOpsMultivariateDrift();
        using var provider = services.BuildServiceProvider();
        using var score = new MetricCollector<double>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Monitoring", "aiops.drift.multivariate.score");
        using var drifted = new MetricCollector<int>(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "AiOps.Monitoring", "aiops.drift.multivariate.drifted");
        var monitor = provider.GetRequiredService<MultivariateDriftMonitor>();
        var observer = provider.GetServices<IInferenceObserver>().OfType<MultivariateDriftMonitor>().Single();
        Assert.Same(monitor, observer);

        var pca = PcaReconstructionDrift.Fit(Rows(10_000, 0.9, seed: 7), 4);
        ModelKey stable = new("m", "1"), flipped = new("m", "2");
        monitor.SetModel(stable, pca, "features");
        monitor.SetModel(flipped, pca, "features");
        var same = Rows(1_000, 0.9, seed: 8);
        var flip = Rows(1_000, -0.9, seed: 9);
        var response = new ModelResponse(stable, []);
        for (var r = 0; r < 1_000; r += 50)
        {
            observer.OnInference(stable, Request(same, r, 50), response);
            observer.OnInference(flipped, Request(flip, r, 50), response);
        }

        observer.OnInference(new ModelKey("m", "3"), Request(same, 0, 10), response); // not watched: ignored
        observer.OnInference(stable, new ModelRequest(ModelTensor.Create("features", new float[6].AsMemory(), 2, 3)), response); // other width: ignored

        var results = monitor.CloseWindows();
        Assert.Equal(2, results.Count);
        Assert.Equal(1_000, results[stable].Rows);
        Assert.False(results[stable].Drifted);
        Assert.True(results[flipped].Drifted);

        // The streamed score is the batch score of the same rows (float inputs).
        var asFloats = flip.Select(v => (double)(float)v).ToArray();
        Assert.Equal(pca.Score(asFloats), results[flipped].Score, 9);
        Assert.Equal(1, drifted.GetMeasurementSnapshot().Single(m => (string?)m.Tags["version"] == "2").Value);
        Assert.Equal(0, drifted.GetMeasurementSnapshot().Single(m => (string?)m.Tags["version"] == "1").Value);
        Assert.Equal(results[flipped].Score, score.GetMeasurementSnapshot().Single(m => (string?)m.Tags["version"] == "2").Value, 12);

        // A window without rows gives no result.
        Assert.Empty(monitor.CloseWindows());
    }
}
