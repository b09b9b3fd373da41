using MathNet.Numerics.LinearAlgebra;

namespace AiOps.Monitoring.Drift;

/// <summary>Settings of <see cref="PcaReconstructionDrift.Fit"/>.</summary>
public sealed class PcaDriftOptions
{
    /// <summary>The share of the standardised reference's variance the kept components explain, at least (default 0.65, as NannyML). In (0, 1].</summary>
    public double ExplainedVariance { get; set; } = 0.65;

    /// <summary>The rows of a reference chunk the thresholds are learnt from (default 500); the reference needs at least two chunks.</summary>
    public int ChunkSize { get; set; } = 500;

    /// <summary>How many standard deviations of the reference chunks' scores from their mean a window's score may be (default 3).</summary>
    public double StandardDeviations { get; set; } = 3;
}

/// <summary>A window's multivariate drift verdict.</summary>
/// <param name="Rows">The rows scored.</param>
/// <param name="Score">The mean reconstruction error of the window's rows.</param>
/// <param name="LowerThreshold">The reference chunks' mean score minus <see cref="PcaDriftOptions.StandardDeviations"/> of their standard deviations.</param>
/// <param name="UpperThreshold">The mean plus as many.</param>
public sealed record MultivariateDriftResult(long Rows, double Score, double LowerThreshold, double UpperThreshold)
{
    /// <summary>Whether the score is outside the thresholds.</summary>
    public bool Drifted => Score > UpperThreshold || Score < LowerThreshold;
}

/// <summary>
/// Multivariate drift by data reconstruction (NannyML's <c>DataReconstructionDriftCalculator</c>): the reference's
/// numeric features are standardised (mean, population standard deviation), PCA keeps the components explaining
/// <see cref="PcaDriftOptions.ExplainedVariance"/> of the variance (SVD, MathNet.Numerics), and a row's error is the
/// Euclidean distance between its standardised values and their reconstruction from those components. A window's
/// score is its rows' mean error; the thresholds are the mean ± 3 standard deviations of the scores of reference
/// chunks. A change of how features move together (a correlation flips) leaves every marginal, and so PSI and KS,
/// unchanged, but the reference's components no longer reconstruct the rows. Missing values (NaN) are replaced by the
/// reference mean, as NannyML imputes. Immutable and thread-safe.
/// </summary>
public sealed class PcaReconstructionDrift
{
    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly Matrix<double> _components; // k × p, orthonormal rows

    private PcaReconstructionDrift(double[] mean, double[] scale, Matrix<double> components, double[] explainedRatio, double lower, double upper)
    {
        _mean = mean;
        _scale = scale;
        _components = components;
        ExplainedVarianceRatio = Array.AsReadOnly(explainedRatio);
        LowerThreshold = lower;
        UpperThreshold = upper;
    }

    /// <summary>The number of features.</summary>
    public int Columns => _mean.Length;

    /// <summary>The components kept.</summary>
    public int Components => _components.RowCount;

    /// <summary>The share of the standardised reference's variance each component explains, largest first (all of them, kept or not).</summary>
    public IReadOnlyList<double> ExplainedVarianceRatio { get; }

    /// <summary>The lower threshold learnt from the reference chunks.</summary>
    public double LowerThreshold { get; }

    /// <summary>The upper threshold learnt from the reference chunks.</summary>
    public double UpperThreshold { get; }

    /// <summary>Fits the PCA and the thresholds on a reference.</summary>
    /// <param name="rows">The reference, row-major: <c>rows.Length / columns</c> rows of <paramref name="columns"/> numeric features.</param>
    /// <param name="columns">The features per row, at least 2.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="columns"/>, the reference has fewer than two chunks of rows, or an option is out of range.</exception>
    public static PcaReconstructionDrift Fit(ReadOnlySpan<double> rows, int columns, PcaDriftOptions? options = null)
    {
        options ??= new PcaDriftOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 2);
        if (!(options.ExplainedVariance > 0 && options.ExplainedVariance <= 1))
        {
            throw new ArgumentException($"PcaDriftOptions.ExplainedVariance is {options.ExplainedVariance}; expected a share in (0, 1] (default 0.65).", nameof(options));
        }

        if (options.ChunkSize < 2 || !(options.StandardDeviations > 0))
        {
            throw new ArgumentException($"PcaDriftOptions.ChunkSize is {options.ChunkSize} and StandardDeviations {options.StandardDeviations}; expected a chunk of at least 2 rows and a positive number of standard deviations.", nameof(options));
        }

        var n = RowCount(rows, columns);
        if (n < 2 * options.ChunkSize)
        {
            throw new ArgumentException($"The reference has {n} rows; expected at least two chunks of {options.ChunkSize} (PcaDriftOptions.ChunkSize) to learn the thresholds from.", nameof(rows));
        }

        // Column means and population standard deviations over the non-missing values.
        var mean = new double[columns];
        var scale = new double[columns];
        for (var j = 0; j < columns; j++)
        {
            double sum = 0;
            long count = 0;
            for (var i = 0; i < n; i++)
            {
                var v = rows[(i * columns) + j];
                if (!double.IsNaN(v))
                {
                    sum += v;
                    count++;
                }
            }

            mean[j] = count > 0 ? sum / count : 0;
            double ss = 0;
            for (var i = 0; i < n; i++)
            {
                var v = rows[(i * columns) + j];
                if (!double.IsNaN(v))
                {
                    ss += (v - mean[j]) * (v - mean[j]);
                }
            }

            var sd = count > 0 ? Math.Sqrt(ss / count) : 0;
            scale[j] = sd > 0 ? sd : 1; // a constant column standardises to 0, as scikit-learn's StandardScaler
        }

        var x = Matrix<double>.Build.Dense(n, columns);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                x[i, j] = Standardise(rows[(i * columns) + j], mean[j], scale[j]);
            }
        }

        // PCA of the standardised (centred) reference: the right singular vectors, variance ∝ σ².
        var svd = x.Svd(computeVectors: true);
        var s = svd.S.ToArray();
        var total = s.Sum(v => v * v);
        var ratio = s.Select(v => total > 0 ? v * v / total : 0).ToArray();
        var k = 0;
        var cumulative = 0.0;
        while (k < ratio.Length && (k == 0 || cumulative < options.ExplainedVariance - 1e-12))
        {
            cumulative += ratio[k];
            k++;
        }

        var components = svd.VT.SubMatrix(0, k, 0, columns);
        var model = new PcaReconstructionDrift(mean, scale, components, ratio, double.NegativeInfinity, double.PositiveInfinity);

        // Thresholds from the reference's own chunks (the last partial chunk left out).
        var chunks = n / options.ChunkSize;
        var scores = new double[chunks];
        for (var c = 0; c < chunks; c++)
        {
            scores[c] = model.Score(rows.Slice(c * options.ChunkSize * columns, options.ChunkSize * columns));
        }

        var chunkMean = scores.Average();
        var chunkSd = Math.Sqrt(scores.Sum(v => (v - chunkMean) * (v - chunkMean)) / (chunks - 1));
        var d = options.StandardDeviations * chunkSd;
        return new PcaReconstructionDrift(mean, scale, components, ratio, chunkMean - d, chunkMean + d);
    }

    /// <summary>The mean reconstruction error of <paramref name="rows"/> (row-major, <see cref="Columns"/> per row).</summary>
    /// <param name="rows">The rows.</param>
    /// <exception cref="ArgumentException">No rows, or the length is not a multiple of <see cref="Columns"/>.</exception>
    public double Score(ReadOnlySpan<double> rows)
    {
        var n = RowCount(rows, Columns);
        if (n == 0)
        {
            throw new ArgumentException("No rows were given; expected at least one row to score.", nameof(rows));
        }

        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            sum += ReconstructionError(rows.Slice(i * Columns, Columns));
        }

        return sum / n;
    }

    /// <summary>Scores a window and compares it with the thresholds.</summary>
    /// <param name="rows">The window's rows (row-major).</param>
    /// <exception cref="ArgumentException">No rows, or the length is not a multiple of <see cref="Columns"/>.</exception>
    public MultivariateDriftResult Evaluate(ReadOnlySpan<double> rows) =>
        new(rows.Length / Columns, Score(rows), LowerThreshold, UpperThreshold);

    /// <summary>The Euclidean distance between a row's standardised values and their reconstruction: ‖z − Wᵀ W z‖.</summary>
    /// <param name="row">One row of <see cref="Columns"/> values.</param>
    /// <exception cref="ArgumentException">The row does not have <see cref="Columns"/> values.</exception>
    public double ReconstructionError(ReadOnlySpan<double> row)
    {
        if (row.Length != Columns)
        {
            throw new ArgumentException($"The row has {row.Length} values; expected {Columns}.", nameof(row));
        }

        Span<double> z = Columns <= 128 ? stackalloc double[Columns] : new double[Columns];
        for (var j = 0; j < Columns; j++)
        {
            z[j] = Standardise(row[j], _mean[j], _scale[j]);
        }

        // ‖z − Wᵀ(W z)‖² = ‖z‖² − ‖W z‖² for orthonormal rows of W; computed directly for accuracy.
        Span<double> residual = Columns <= 128 ? stackalloc double[Columns] : new double[Columns];
        z.CopyTo(residual);
        for (var c = 0; c < _components.RowCount; c++)
        {
            var projection = 0.0;
            for (var j = 0; j < Columns; j++)
            {
                projection += _components[c, j] * z[j];
            }

            for (var j = 0; j < Columns; j++)
            {
                residual[j] -= projection * _components[c, j];
            }
        }

        var ss = 0.0;
        foreach (var r in residual)
        {
            ss += r * r;
        }

        return Math.Sqrt(ss);
    }

    private static double Standardise(double value, double mean, double scale) => double.IsNaN(value) ? 0 : (value - mean) / scale;

    private static int RowCount(ReadOnlySpan<double> rows, int columns)
    {
        if (rows.Length % columns != 0)
        {
            throw new ArgumentException($"{rows.Length} values do not make whole rows of {columns}; expected a multiple of {columns} (row-major).", nameof(rows));
        }

        return rows.Length / columns;
    }
}
