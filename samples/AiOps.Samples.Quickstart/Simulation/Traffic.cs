using System.Globalization;

namespace AiOps.Samples.Quickstart.Simulation;

/// <summary>Standardises raw features with the training data's mean and standard deviation (what the model was fitted on).</summary>
internal sealed class FeatureScaler(double[] mean, double[] standardDeviation)
{
    public double[] Mean { get; } = mean;

    public double[] StandardDeviation { get; } = standardDeviation;

    public void Scale(ReadOnlySpan<double> raw, Span<float> scaled)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            scaled[i] = (float)((raw[i] - Mean[i]) / StandardDeviation[i]);
        }
    }

    public void Scale(Customer c, Span<float> scaled)
    {
        for (var i = 0; i < ChurnData.Features.Length; i++)
        {
            scaled[i] = (float)((c[i] - Mean[i]) / StandardDeviation[i]);
        }
    }
}

/// <summary>One simulated call: the request sent and the ground truth that arrives later.</summary>
internal sealed record TrafficCall(ModelRequest Request, float[] Features, int[] Labels);

/// <summary>Generates the requests of the simulated clients: batches of 1-8 customers, keyed by account for sticky routing.</summary>
internal sealed class TrafficGenerator(int seed, FeatureScaler scaler)
{
    private const int Accounts = 20_000;
    private readonly Random _rng = new(seed);
    private int _sequence;

    public TrafficCall Next(double shift)
    {
        var rows = _rng.Next(1, 9);
        var features = new float[rows * ChurnData.Features.Length];
        var labels = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var c = ChurnData.Draw(_rng, _rng.Next(Accounts), shift);
            scaler.Scale(c, features.AsSpan(r * ChurnData.Features.Length, ChurnData.Features.Length));
            labels[r] = ChurnData.Label(c, _rng);
        }

        var account = _rng.Next(Accounts);
        var request = new ModelRequest(ModelTensor.Create<float>(AiOps.TestModels.ClassifierModel.InputName, features, rows, ChurnData.Features.Length))
        {
            RoutingKey = string.Create(CultureInfo.InvariantCulture, $"account-{account:D5}"),
            RequestId = string.Create(CultureInfo.InvariantCulture, $"req-{++_sequence:D7}"),
        };
        return new TrafficCall(request, features, labels);
    }
}
