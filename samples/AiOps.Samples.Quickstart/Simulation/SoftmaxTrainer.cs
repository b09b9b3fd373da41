namespace AiOps.Samples.Quickstart.Simulation;

/// <summary>
/// A small multinomial logistic regression trained with mini-batch SGD: the retraining job of phase 7, real enough
/// that its loss falls and its weights are worth checkpointing.
/// </summary>
internal sealed class SoftmaxTrainer
{
    private readonly int _inputs;
    private readonly int _classes;
    private readonly float[] _x;
    private readonly int[] _y;
    private readonly int _trainRows;
    private readonly Random _rng;

    public SoftmaxTrainer(IReadOnlyList<(float[] Features, int Label)> rows, int inputs, int classes, int seed)
    {
        _inputs = inputs;
        _classes = classes;
        _rng = new Random(seed);
        var shuffled = rows.OrderBy(_ => _rng.Next()).ToArray();
        _x = new float[shuffled.Length * inputs];
        _y = new int[shuffled.Length];
        for (var i = 0; i < shuffled.Length; i++)
        {
            shuffled[i].Features.CopyTo(_x, i * inputs);
            _y[i] = shuffled[i].Label;
        }

        _trainRows = (int)(shuffled.Length * 0.8);
        Weights = new float[(inputs + 1) * classes];
    }

    /// <summary>[inputs + 1, classes] row-major; the last row is the bias.</summary>
    public float[] Weights { get; }

    public int TrainRows => _trainRows;

    public int ValidationRows => _y.Length - _trainRows;

    /// <summary>One SGD step on a random mini-batch; returns the batch's mean cross-entropy.</summary>
    public double Step(int batchSize, double learningRate)
    {
        var grad = new double[Weights.Length];
        var p = new double[_classes];
        double loss = 0;
        for (var b = 0; b < batchSize; b++)
        {
            var r = _rng.Next(_trainRows);
            loss += Forward(r, p);
            for (var c = 0; c < _classes; c++)
            {
                var d = p[c] - (c == _y[r] ? 1 : 0);
                for (var i = 0; i < _inputs; i++)
                {
                    grad[(i * _classes) + c] += d * _x[(r * _inputs) + i];
                }

                grad[(_inputs * _classes) + c] += d;
            }
        }

        for (var w = 0; w < Weights.Length; w++)
        {
            Weights[w] -= (float)(learningRate * grad[w] / batchSize);
        }

        return loss / batchSize;
    }

    /// <summary>Mean cross-entropy on the held-out rows.</summary>
    public double ValidationLoss()
    {
        var p = new double[_classes];
        double loss = 0;
        for (var r = _trainRows; r < _y.Length; r++)
        {
            loss += Forward(r, p);
        }

        return loss / Math.Max(1, ValidationRows);
    }

    /// <summary>Accuracy on the held-out rows.</summary>
    public double ValidationAccuracy()
    {
        var p = new double[_classes];
        var right = 0;
        for (var r = _trainRows; r < _y.Length; r++)
        {
            Forward(r, p);
            var best = 0;
            for (var c = 1; c < _classes; c++)
            {
                best = p[c] > p[best] ? c : best;
            }

            right += best == _y[r] ? 1 : 0;
        }

        return right / (double)Math.Max(1, ValidationRows);
    }

    private double Forward(int row, double[] p)
    {
        var max = double.NegativeInfinity;
        for (var c = 0; c < _classes; c++)
        {
            double z = Weights[(_inputs * _classes) + c];
            for (var i = 0; i < _inputs; i++)
            {
                z += Weights[(i * _classes) + c] * _x[(row * _inputs) + i];
            }

            p[c] = z;
            max = Math.Max(max, z);
        }

        double sum = 0;
        for (var c = 0; c < _classes; c++)
        {
            p[c] = Math.Exp(p[c] - max);
            sum += p[c];
        }

        for (var c = 0; c < _classes; c++)
        {
            p[c] /= sum;
        }

        return -Math.Log(Math.Max(p[_y[row]], 1e-12));
    }
}
