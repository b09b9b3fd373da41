using AiOps.Data.History;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

public sealed class HistoryTests : IDisposable
{
    private readonly DataHarness _h = new(o => o.MaxHistoryRuns = 5);

    public void Dispose() => _h.Dispose();

    private static MetricsRun Run(double rows, double mean) =>
        new("d", DateTimeOffset.UnixEpoch, new Dictionary<string, double> { ["rows"] = rows, ["x.mean"] = mean });

    [Fact]
    public void RelativeRateOfChange_FlagsMovesBeyondRate()
    {
        var history = new[] { Run(1000, 10) };
        var anomalies = AnomalyDetector.Detect(history, Run(1300, 10.5), [new RelativeRateOfChangeStrategy(0.2, 0.2)]);
        var a = Assert.Single(anomalies);
        Assert.Equal("rows", a.Metric);
        Assert.Equal((800.0, 1200.0), (a.ExpectedMin, a.ExpectedMax), new ToleranceComparer());
        Assert.Empty(AnomalyDetector.Detect([], Run(1300, 10.5), [new RelativeRateOfChangeStrategy(0.2, 0.2)]));
    }

    [Fact]
    public void StdDev_FlagsBeyondKSigma_AfterMinimumHistory()
    {
        var history = new[] { Run(100, 10), Run(102, 11), Run(98, 9), Run(100, 10) };
        Assert.Empty(AnomalyDetector.Detect(history, Run(101, 11.5), [new StdDevStrategy(3)]));
        var flagged = AnomalyDetector.Detect(history, Run(101, 20), [new StdDevStrategy(3)]);
        Assert.Equal("x.mean", Assert.Single(flagged).Metric);
        Assert.Empty(AnomalyDetector.Detect(history[..2], Run(500, 20), [new StdDevStrategy(3)]));
    }

    [Fact]
    public async Task Repository_RecordAsync_ChecksAgainstHistoryAndKeepsLastRuns()
    {
        var repo = _h.Get<IMetricsRepository>();
        var rules = RuleSet.Empty("d");
        for (var i = 0; i < 6; i++)
        {
            var report = Validate.Run(DataSource.FromRecords("d", ["x"], Enumerable.Range(0, 100).Select(j => (IReadOnlyList<object?>)[j % 10])), rules);
            Assert.Empty(await repo.RecordAsync(report, [new StdDevStrategy(3), new RelativeRateOfChangeStrategy(0.1, 0.1)]));
        }

        var shifted = Validate.Run(DataSource.FromRecords("d", ["x"], Enumerable.Range(0, 100).Select(j => (IReadOnlyList<object?>)[(j % 10) + 50])), rules);
        var anomalies = await repo.RecordAsync(shifted, [new RelativeRateOfChangeStrategy(0.1, 0.1)]);
        Assert.Contains(anomalies, a => a.Metric == "x.mean" && Math.Abs(a.Value - 54.5) < 1e-9);
        Assert.DoesNotContain(anomalies, a => a.Metric == "rows");
        Assert.Equal(5, (await repo.GetHistoryAsync("d")).Count);
    }

    private sealed class ToleranceComparer : IEqualityComparer<(double, double)>
    {
        public bool Equals((double, double) x, (double, double) y) => Math.Abs(x.Item1 - y.Item1) < 1e-9 && Math.Abs(x.Item2 - y.Item2) < 1e-9;

        public int GetHashCode((double, double) obj) => 0;
    }
}
