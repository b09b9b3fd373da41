using Microsoft.Extensions.Time.Testing;

namespace AiOps.Samples.Quickstart.Simulation;

/// <summary>How long a version's calls take in the simulated world, and how often they fail.</summary>
/// <param name="MedianMs">The median service time (queueing, transfer and compute on the serving node).</param>
/// <param name="Spread">The log-normal sigma of the service time.</param>
/// <param name="FailureRate">The share of calls that fail after taking their time.</param>
/// <param name="Defect">What is wrong with the build, for failure messages; <see langword="null"/> for a healthy build.</param>
internal sealed record ServiceProfile(double MedianMs, double Spread, double FailureRate = 0, string? Defect = null)
{
    public static ServiceProfile Healthy(double medianMs) => new(medianMs, 0.25);
}

/// <summary>A call failed inside a defective model build (the fault the quickstart injects into v3).</summary>
internal sealed class SimulatedFaultException(string message) : Exception(message);

/// <summary>
/// Runs the real model (the ONNX runner underneath), then lets the simulated clock move on by the version's service
/// time, and fails the call when the version's defect strikes. The monitoring decorator above it measures latency on
/// the same clock, so what it records is the simulated service time: hours of traffic run in seconds, with the
/// latencies a real deployment would show.
/// </summary>
internal sealed class SimulatedServiceRunner : DelegatingModelRunner
{
    private readonly FakeTimeProvider _clock;
    private readonly ServiceProfile _profile;
    private readonly Random _rng;
    private readonly Lock _gate = new();

    public SimulatedServiceRunner(IModelRunner inner, FakeTimeProvider clock, ServiceProfile profile, int seed)
        : base(inner)
    {
        _clock = clock;
        _profile = profile;
        _rng = new Random(seed);
    }

    public override async ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
    {
        var response = await Inner.RunAsync(request, cancellationToken).ConfigureAwait(false);
        double serviceMs;
        bool fails;
        lock (_gate)
        {
            serviceMs = _profile.MedianMs * Math.Exp(_profile.Spread * ChurnData.Normal(_rng, 0, 1));
            fails = _rng.NextDouble() < _profile.FailureRate;
        }

        _clock.Advance(TimeSpan.FromMilliseconds(serviceMs));
        return fails
            ? throw new SimulatedFaultException($"{Key} failed the call: {_profile.Defect ?? "simulated fault"}.")
            : response;
    }
}

/// <summary>
/// The simulated serving node as a runner decorator: it sits below monitoring (what monitoring measures is the node's
/// simulated service time and faults) and above ONNX Runtime, for every version the catalog serves.
/// </summary>
internal sealed class SimulatedServiceDecorator(FakeTimeProvider clock, IReadOnlyDictionary<ModelVersion, ServiceProfile> profiles) : IModelRunnerDecorator
{
    public int Order => ModelRunnerDecoratorOrder.BeforeMonitoring;

    public IModelRunner Decorate(IModelRunner runner) => new SimulatedServiceRunner(
        runner,
        clock,
        profiles.TryGetValue(runner.Key.Version, out var p) ? p : ServiceProfile.Healthy(20),
        runner.Key.Version.Value.Aggregate(17, (h, c) => unchecked((h * 31) + c)));
}
