using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Tests;

/// <summary>Stateful models: the runner carries h/c between the calls of a sequence (Sequences:States).</summary>
public sealed class SequenceTests : IClassFixture<ModelFilesFixture>
{
    private readonly ModelFiles _files;

    public SequenceTests(ModelFilesFixture fixture) => _files = fixture.Files;

    private string Model()
    {
        var path = _files.NewPath($"recurrent-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Kit.RecurrentCell());
        return path;
    }

    private static OnnxRunnerOptions Stateful(Action<OnnxSequenceOptions>? configure = null) => ModelFiles.CpuOptions(o =>
    {
        o.Sequences.States["h_in"] = "h_out";
        o.Sequences.States["c_in"] = "c_out";
        configure?.Invoke(o.Sequences);
    });

    private static float[] X(int step, ulong seed = 1) => Kit.Features(1, inputSize: 3, seed: seed * 1000 + (ulong)step);

    private static ModelRequest Step(string sequence, float[] x, bool start = false, bool end = false) =>
        new(ModelTensor.Create("x", x.AsMemory(), 1, 3)) { SequenceId = sequence, SequenceStart = start, SequenceEnd = end };

    private static float[] Y(ModelResponse response) => response["y"].As<float>().Span.ToArray();

    /// <summary>The reference: raw ONNX Runtime, the caller carrying h and c by hand.</summary>
    internal sealed class HandCarried : IDisposable
    {
        private readonly InferenceSession _session;
        private float[] _h = new float[4], _c = new float[4];

        public HandCarried(string path) => _session = new InferenceSession(path);

        public float[] Step(float[] x)
        {
            using var xv = OrtValue.CreateTensorValueFromMemory(x, [1, 3]);
            using var hv = OrtValue.CreateTensorValueFromMemory(_h, [1, 4]);
            using var cv = OrtValue.CreateTensorValueFromMemory(_c, [1, 4]);
            using var run = new RunOptions();
            using var outputs = _session.Run(run, ["x", "h_in", "c_in"], [xv, hv, cv], ["y", "h_out", "c_out"]);
            _h = outputs[1].GetTensorDataAsSpan<float>().ToArray();
            _c = outputs[2].GetTensorDataAsSpan<float>().ToArray();
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        public void Dispose() => _session.Dispose();
    }

    [Fact]
    public async Task RunAsync_TenSteps_EqualRawOnnxRuntimeWithTheStateCarriedByHand()
    {
        var path = Model();
        using var reference = new HandCarried(path);
        await using var runner = await _files.CreateAsync(path, Stateful());

        for (var step = 0; step < 10; step++)
        {
            var response = await runner.RunAsync(Step("s1", X(step), start: step == 0));

            Assert.Equal(reference.Step(X(step)), Y(response));
            Assert.Equal(["y"], response.Outputs.Select(o => o.Name)); // state outputs stay with the runner
        }

        Assert.Equal(1, runner.LiveSequences);
    }

    [Fact]
    public async Task RunAsync_TwoInterleavedSequences_KeepTheirOwnState()
    {
        var path = Model();
        using var a = new HandCarried(path);
        using var b = new HandCarried(path);
        await using var runner = await _files.CreateAsync(path, Stateful());

        for (var step = 0; step < 6; step++)
        {
            var ya = await runner.RunAsync(Step("a", X(step, seed: 1), start: step == 0));
            var yb = await runner.RunAsync(Step("b", X(step, seed: 2), start: step == 0));

            Assert.Equal(a.Step(X(step, seed: 1)), Y(ya));
            Assert.Equal(b.Step(X(step, seed: 2)), Y(yb));
        }

        Assert.Equal(2, runner.LiveSequences);
    }

    [Fact]
    public async Task RunAsync_ConcurrentCallsOfOneSequence_RunOneAtATimeInArrivalOrder()
    {
        var path = Model();
        using var reference = new HandCarried(path);
        await using var runner = await _files.CreateAsync(path, Stateful(), Requests.FakeTime());
        using var gate = new RunGate();
        runner.BeforeRun = gate.Hook;
        var first = Task.Run(() => runner.RunAsync(Step("s", X(0), start: true)).AsTask());
        await gate.EnteredAsync();

        // Queued behind the held first call, in this order; none may enter the run while the first is inside it.
        var rest = Enumerable.Range(1, 5).Select(step => runner.RunAsync(Step("s", X(step))).AsTask()).ToArray();
        await Task.Delay(50); // give an unserialised implementation the chance to enter (no timing is asserted)
        Assert.Equal(1, gate.Runs);
        gate.Open();
        var responses = await Task.WhenAll([first, .. rest]);

        for (var step = 0; step < responses.Length; step++)
        {
            Assert.Equal(reference.Step(X(step)), Y(responses[step]));
        }
    }

    [Fact]
    public async Task RunAsync_IdleLongerThanIdleTimeout_SequenceExpiresAndMustBeStartedAgain()
    {
        var time = Requests.FakeTime();
        var path = Model();
        await using var runner = await _files.CreateAsync(path, Stateful(s => s.IdleTimeout = TimeSpan.FromSeconds(10)), time);
        using var events = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.sequences");
        var firstStep = Y(await runner.RunAsync(Step("s", X(0), start: true)));
        time.Advance(TimeSpan.FromSeconds(9));
        var secondStep = Y(await runner.RunAsync(Step("s", X(0)))); // still held: it carries on from step 0's state
        Assert.NotEqual(firstStep, secondStep);

        time.Advance(TimeSpan.FromSeconds(11)); // the sweep timer fires and drops the idle sequence
        Assert.Equal(0, runner.LiveSequences);
        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(Step("s", X(0))).AsTask());
        Assert.Contains("Sequences:IdleTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("SequenceStart", error.Message, StringComparison.Ordinal);

        // Started again it begins from the initial state: the same answer as the very first step.
        Assert.Equal(firstStep, Y(await runner.RunAsync(Step("s", X(0), start: true))));
        Assert.Equal(["started", "expired", "started"], events.GetMeasurementSnapshot().Select(m => (string)m.Tags["event"]!));
    }

    [Fact]
    public async Task RunAsync_SequenceEnd_DropsTheState()
    {
        var path = Model();
        await using var runner = await _files.CreateAsync(path, Stateful());
        await runner.RunAsync(Step("s", X(0), start: true));
        await runner.RunAsync(Step("s", X(1), end: true));

        Assert.Equal(0, runner.LiveSequences);
        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(Step("s", X(2))).AsTask());
        Assert.Equal(nameof(ModelRequest.SequenceStart), error.InputName);
        Assert.Equal(new ModelKey("clf", "1"), error.Key);
    }

    [Fact]
    public async Task RunAsync_NoSequenceId_OrAStateInputGiven_IsABadInput()
    {
        await using var runner = await _files.CreateAsync(Model(), Stateful());
        float[] x = [1, 2, 3], h = [0, 0, 0, 0];

        var missing = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("x", x.AsMemory(), 1, 3))).AsTask());
        Assert.Equal(nameof(ModelRequest.SequenceId), missing.InputName);
        Assert.Contains("stateful", missing.Message, StringComparison.Ordinal);

        var carried = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(new ModelRequest([ModelTensor.Create("x", x.AsMemory(), 1, 3), ModelTensor.Create("h_in", h.AsMemory(), 1, 4)]) { SequenceId = "s", SequenceStart = true }).AsTask());
        Assert.Equal("h_in", carried.InputName);
        Assert.Equal(0, runner.LiveSequences);
    }

    [Fact]
    public async Task RunAsync_SequenceIdOnAStatelessModel_IsABadInput()
    {
        await using var runner = await _files.CreateAsync(_files.ClassifierV1);

        var error = await Assert.ThrowsAsync<ModelInputException>(() => runner.RunAsync(new ModelRequest(ModelTensor.Create("features", Kit.Features(1).AsMemory(), 1, 4)) { SequenceId = "s" }).AsTask());

        Assert.Contains("stateless", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_MaxSequencesHeld_NewSequenceRejectedUntilOneEnds()
    {
        await using var runner = await _files.CreateAsync(Model(), Stateful(s => s.MaxSequences = 1));
        using var events = new MetricCollector<long>(_files.MeterFactory, "AiOps.Inference", "aiops.inference.sequences");
        await runner.RunAsync(Step("a", X(0), start: true));

        var error = await Assert.ThrowsAsync<ModelRejectedException>(() => runner.RunAsync(Step("b", X(0), start: true)).AsTask());
        Assert.Contains("Sequences:MaxSequences", error.Message, StringComparison.Ordinal);

        await runner.RunAsync(Step("a", X(1), end: true));
        await runner.RunAsync(Step("b", X(0), start: true));
        Assert.Equal(["started", "rejected", "ended", "started"], events.GetMeasurementSnapshot().Select(m => (string)m.Tags["event"]!));
    }

    [Fact]
    public async Task RunAsync_ReturnStates_ResponseCarriesTheStateOutputs()
    {
        await using var runner = await _files.CreateAsync(Model(), Stateful(s => s.ReturnStates = true));

        var response = await runner.RunAsync(Step("s", X(0), start: true));

        Assert.Equal(["y", "h_out", "c_out"], response.Outputs.Select(o => o.Name));
    }

    [Theory]
    [InlineData("h_in", "h_next", "output 'h_next'")]
    [InlineData("state", "h_out", "input 'state'")]
    [InlineData("h_in", "y", "differ")]
    public async Task LoadAsync_StatePairDoesNotFitTheModel_FailsNamingIt(string input, string output, string why)
    {
        var error = await Assert.ThrowsAsync<ModelLoadException>(() => _files.CreateAsync(Model(), ModelFiles.CpuOptions(o => o.Sequences.States[input] = output)));

        Assert.Contains($"Sequences:States:{input} = {output} of clf", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_StatefulWithBatching_IsRefusedNamingBothSettings()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _files.CreateAsync(Model(), Stateful(s => { }).Also(o => o.Batching.Enabled = true)));

        Assert.Contains("Batching:Enabled", error.Message, StringComparison.Ordinal);
        Assert.Contains("Sequences:States", error.Message, StringComparison.Ordinal);
    }
}

internal static class OptionsExtensions
{
    public static OnnxRunnerOptions Also(this OnnxRunnerOptions options, Action<OnnxRunnerOptions> configure)
    {
        configure(options);
        return options;
    }
}
