using AiOps.Monitoring.Drift;
using BenchmarkDotNet.Attributes;

namespace AiOps.Benchmarks;

/// <summary>
/// Counting production values into a 10-bin reference profile (9 inner edges). Target: >= 200 million doubles per
/// second on one core. Baseline: the loop a user would write, <c>Array.BinarySearch</c> per value.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DriftCountingBenchmarks
{
    private const int N = 4_000_000;
    private double[] _values = [];
    private float[] _floats = [];
    private double[] _edges = [];
    private readonly long[] _counts = new long[10];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _values = new double[N];
        _floats = new float[N];
        for (var i = 0; i < N; i++)
        {
            _values[i] = rng.NextDouble() * 12 - 1;
            _floats[i] = (float)_values[i];
        }

        _edges = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N)]
    public long NaiveBinarySearch()
    {
        Array.Clear(_counts);
        foreach (var v in _values)
        {
            if (double.IsNaN(v))
            {
                continue;
            }

            var i = Array.BinarySearch(_edges, v);
            var bin = i >= 0 ? i + 1 : ~i;
            _counts[bin]++;
        }

        return _counts[0];
    }

    [Benchmark(OperationsPerInvoke = N)]
    public long VectorisedDoubles()
    {
        Array.Clear(_counts);
        BinCounter.Count(_values, _edges, _counts);
        return _counts[0];
    }

    [Benchmark(OperationsPerInvoke = N)]
    public long VectorisedFloats()
    {
        Array.Clear(_counts);
        BinCounter.Count(_floats, _edges, _counts);
        return _counts[0];
    }
}

/// <summary>
/// PSI + KS for one feature: 10 million current values against 1 million reference values. Each sample is copied and
/// sorted once (KS merges the two sorted samples; PSI counts the current sample into the reference's quantile bins).
/// Baseline: the same statistics with the binning a user would write (binary search per value) and LINQ sorting.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DriftPsiKsBenchmarks
{
    private double[] _reference = [];
    private double[] _current = [];
    private DriftCalculator _calculator = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        _reference = Enumerable.Range(0, 1_000_000).Select(_ => rng.NextDouble()).ToArray();
        _current = Enumerable.Range(0, 10_000_000).Select(_ => rng.NextDouble() * 1.1).ToArray();
        _calculator = new DriftCalculator(new DriftOptions { NumericStatistics = DriftStatisticKinds.Psi | DriftStatisticKinds.KolmogorovSmirnov });
    }

    [Benchmark(Baseline = true)]
    public double NaivePsiKs()
    {
        var reference = _reference.OrderBy(v => v).ToArray();
        var current = _current.OrderBy(v => v).ToArray();
        var edges = new double[9];
        for (var i = 1; i < 10; i++)
        {
            edges[i - 1] = reference[(int)((reference.Length - 1) * (i / 10.0))];
        }

        var r = new long[10];
        var c = new long[10];
        foreach (var v in reference)
        {
            var i = Array.BinarySearch(edges, v);
            r[i >= 0 ? i + 1 : ~i]++;
        }

        foreach (var v in current)
        {
            var i = Array.BinarySearch(edges, v);
            c[i >= 0 ? i + 1 : ~i]++;
        }

        var psi = DriftStatistics.Psi(r, c);
        var ks = DriftStatistics.KolmogorovSmirnovSorted(reference, current);
        return psi + ks.Statistic;
    }

    [Benchmark]
    public double PsiKs()
    {
        var rows = _calculator.CompareSamples("x", _reference, _current);
        return rows[0].Value + rows[1].Value;
    }
}
