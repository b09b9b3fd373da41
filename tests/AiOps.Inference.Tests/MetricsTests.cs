using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AiOps.Inference.Tests;

public sealed class MetricsTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public MetricsTests(ModelFilesFixture fixture) => _files = fixture.Files;

    [Fact]
    public async Task RunAsync_OkAndBadInput_RecordsRequestsDurationBatchSizeAndInFlightByModelAndVersion()
    {
        var time = Requests.FakeTime();
        await using var runner = await _files.CreateAsync(_files.ClassifierV1, time: time, version: "7");
        using var requests = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.requests");
        using var durations = new MetricCollector<double>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.duration");
        using var batchSizes = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.batch_size");
        using var inFlight = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.in_flight");
        runner.BeforeRun = () => time.Advance(TimeSpan.FromMilliseconds(3));

        await runner.RunAsync(Requests.Features(Kit.Features(4)));
        await runner.RunAsync(Requests.Features(Kit.Features(1)));
        await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("nope", new float[4].AsMemory(), 1, 4))).AsTask());

        var counted = requests.GetMeasurementSnapshot();
        Assert.Equal(3, counted.Count);
        Assert.All(counted, m =>
        {
            Assert.Equal("clf", m.Tags["model"]);
            Assert.Equal("7", m.Tags["version"]);
        });
        Assert.Equal(["bad_input", "ok", "ok"], counted.Select(m => (string)m.Tags["outcome"]!).Order());
        var okDurations = durations.GetMeasurementSnapshot().Where(m => (string)m.Tags["outcome"]! == "ok").Select(m => m.Value).ToArray();
        Assert.Equal([0.003, 0.003], okDurations);
        Assert.Equal([4L, 1L], batchSizes.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(0, inFlight.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(2, inFlight.GetMeasurementSnapshot().Count(m => m.Value == 1));
        Assert.Equal("s", durations.Instrument!.Unit);
    }
}
