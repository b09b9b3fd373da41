using System.Globalization;
using System.Text;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Tests.Support;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>Issue 16, item 1: KS p-values agree with SciPy's <c>ks_2samp</c> (exact for small samples, <c>kstwo</c> beyond).</summary>
public sealed class KolmogorovSmirnovPValueTests
{
    private static void AssertRelative(double expected, double actual, double tolerance)
    {
        var error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), double.Epsilon);
        Assert.True(error <= tolerance, $"expected {expected:R}, got {actual:R} (relative error {error:E2} > {tolerance:E0})");
    }

    [Fact]
    public void Exact_SmallSamples_MatchScipyReferenceValues()
    {
        // scipy.stats.ks_2samp (SciPy 1.10.1, method='auto', which is exact at these sizes).
        var unequal = DriftStatistics.KolmogorovSmirnov([5, 1, 3, 2, 4], [8, 3, 4, 5, 6, 7]);
        Assert.Equal(0.5, unequal.Statistic, 12);
        AssertRelative(0.35714285714285715, unequal.PValue, 1e-12);

        var a = Enumerable.Range(0, 20).Select(i => 0.1 * i).ToArray();
        var b = Enumerable.Range(0, 20).Select(i => (0.1 * i) + 0.45).ToArray();
        var square = DriftStatistics.KolmogorovSmirnov(a, b);
        Assert.Equal(0.25, square.Statistic, 12);
        AssertRelative(0.571336004933722, square.PValue, 1e-12);

        var c = Enumerable.Range(0, 30).Select(i => (double)i).ToArray();
        var d = Enumerable.Range(0, 17).Select(i => (i * 1.3) + 2).ToArray();
        AssertRelative(0.5040925980794758, DriftStatistics.KolmogorovSmirnov(c, d).PValue, 1e-12);
    }

    [Fact]
    public void Asymptotic_MatchesScipyKstwoAtTheEffectiveSampleSize()
    {
        // ks_2samp([5,1,3,2,4], [8,3,4,5,6,7], method='asymp') = kstwo.sf(0.5, round(30/11) = 3).
        AssertRelative(0.3333333333333333, DriftStatistics.KolmogorovSmirnovPValue(0.5, 5, 6, KolmogorovSmirnovMethod.Asymptotic), 1e-12);

        // kstwo.sf(d, en) for every branch SciPy takes: n = m = 2·en gives round(n·m/(n + m)) = en.
        (double D, long En, double Expected)[] cases =
        [
            (0.07, 99, 0.6904462062717165),       // Durbin matrix
            (0.15, 99, 0.0207571487983919),       // Pomeranz in SciPy, Durbin matrix here (both exact)
            (0.2, 99, 0.0006018712428207582),
            (0.3, 99, 2.1295020110227236e-08),    // 2·Smirnov
            (0.6, 50, 9.634070456142374e-18),     // x >= 0.5: 2·Smirnov
            (0.01, 1000, 0.9999496745370611),     // Durbin matrix, n > 140
            (0.01, 5000, 0.6954557253913853),     // Pelz-Good
            (0.002, 50000, 0.9880386605338913),
            (0.003, 150000, 0.1341018124495077),
            (0.05, 5000, 2.6523052328711187e-11), // 2·Smirnov, n > 140
            (0.012, 150000, 3.431320180314473e-19),
            (0.05, 20000, 6.81423819297241e-44),
        ];
        foreach (var (d, en, expected) in cases)
        {
            AssertRelative(expected, DriftStatistics.KolmogorovSmirnovPValue(d, 2 * en, 2 * en, KolmogorovSmirnovMethod.Asymptotic), 1e-6);
        }
    }

    [Fact]
    public void Auto_IsExactUpTo10000ValuesAndAsymptoticBeyond()
    {
        Assert.Equal(
            DriftStatistics.KolmogorovSmirnovPValue(0.02, 10_000, 9_000, KolmogorovSmirnovMethod.Exact),
            DriftStatistics.KolmogorovSmirnovPValue(0.02, 10_000, 9_000));
        Assert.Equal(
            DriftStatistics.KolmogorovSmirnovPValue(0.02, 10_001, 9_000, KolmogorovSmirnovMethod.Asymptotic),
            DriftStatistics.KolmogorovSmirnovPValue(0.02, 10_001, 9_000));
    }

    [Fact]
    public void PValue_EdgeCases()
    {
        Assert.Equal(1, DriftStatistics.KolmogorovSmirnovPValue(0, 50, 70));
        Assert.Equal(1, DriftStatistics.KolmogorovSmirnovPValue(0.3, 0, 70));

        // D = 1 with n = m = 3: only the two paths that take one sample entirely first reach it: 2 / C(6, 3) = 0.1.
        Assert.Equal(0.1, DriftStatistics.KolmogorovSmirnovPValue(1, 3, 3), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => DriftStatistics.KolmogorovSmirnovPValue(0.1, 10, 10, (KolmogorovSmirnovMethod)7));
    }

    [ScipyFact]
    public void SeededSamples_MatchScipyKs2samp_ExactWithin1e6_AsymptoticWithin1e6()
    {
        var cases = new List<(double[] A, double[] B, string Method)>();
        var rng = new Random(1616);
        foreach (var n in new[] { 5, 20, 100, 1000 })
        {
            foreach (var (m, shift) in new[] { (n, 0.0), (n, 0.4), ((2 * n) + 1, 0.2), ((3 * n / 2) + 1, 0.0) })
            {
                cases.Add((Normal(rng, n, 0), Normal(rng, m, shift / Math.Sqrt(n / 5.0)), "exact"));
            }
        }

        // Past SciPy's exact limit, 'auto' (and our Auto) is asymptotic.
        cases.Add((Normal(rng, 20_000, 0), Normal(rng, 300, 0.1), "asymp"));
        cases.Add((Normal(rng, 12_000, 0), Normal(rng, 11_000, 0.03), "asymp"));
        cases.Add((Normal(rng, 50_000, 0), Normal(rng, 100, 0.0), "asymp"));

        var input = new StringBuilder();
        foreach (var (a, b, method) in cases)
        {
            input.Append(method).Append('\n');
            input.AppendJoin(' ', a.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
            input.AppendJoin(' ', b.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        }

        const string script = """
            import sys
            from scipy.stats import ks_2samp
            lines = sys.stdin.read().split('\n')
            for k in range(0, len(lines) - 2, 3):
                a = [float(v) for v in lines[k + 1].split()]
                b = [float(v) for v in lines[k + 2].split()]
                r = ks_2samp(a, b, method=lines[k])
                print(repr(float(r.statistic)), repr(float(r.pvalue)))
            """;
        var output = Scipy.Run(script, input.ToString()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Count, output.Length);
        for (var k = 0; k < cases.Count; k++)
        {
            var parts = output[k].Split(' ');
            var expectedD = double.Parse(parts[0], CultureInfo.InvariantCulture);
            var expectedP = double.Parse(parts[1], CultureInfo.InvariantCulture);
            var (a, b, method) = cases[k];
            var actual = DriftStatistics.KolmogorovSmirnovSorted(
                a.Order().ToArray(), b.Order().ToArray(), method == "exact" ? KolmogorovSmirnovMethod.Exact : KolmogorovSmirnovMethod.Asymptotic);
            Assert.Equal(expectedD, actual.Statistic, 12);

            // SciPy's exact mode for n != m forms 1 - (share of paths inside the band), which keeps only absolute
            // precision (~1e-13) for tiny p; the paths-outside recursion here keeps relative precision.
            if (expectedP < 1e-6 && method == "exact" && a.Length != b.Length)
            {
                Assert.True(Math.Abs(actual.PValue - expectedP) < 1e-12, $"case {k}: expected {expectedP:R}, got {actual.PValue:R}");
            }
            else
            {
                AssertRelative(expectedP, actual.PValue, 1e-6);
            }
        }
    }

    private static double[] Normal(Random rng, int count, double shift) =>
        Enumerable.Range(0, count).Select(_ => shift + (Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
}
