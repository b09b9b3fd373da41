using MathNet.Numerics;

namespace AiOps.Monitoring.Drift;

/// <summary>How the two-sample Kolmogorov–Smirnov p-value is computed (SciPy's <c>ks_2samp(method=…)</c>).</summary>
public enum KolmogorovSmirnovMethod
{
    /// <summary>
    /// <see cref="Exact"/> when both samples hold at most 10,000 values, <see cref="Asymptotic"/> otherwise (SciPy's
    /// <c>method='auto'</c>). The default.
    /// </summary>
    Auto = 0,

    /// <summary>
    /// The exact null distribution of D for samples of sizes n and m (continuous data): the share of the C(n+m, n)
    /// lattice paths that leave the band |i/n − j/m| &lt; D (Hodges 1958). Falls back to <see cref="Asymptotic"/> when
    /// lcm(n, m) exceeds 2³¹, as SciPy does.
    /// </summary>
    Exact,

    /// <summary>
    /// The one-sample Kolmogorov distribution at nₑ = round(n·m/(n + m)) (SciPy's <c>kstwo.sf(D, round(nₑ))</c>), which
    /// corrects the limiting distribution for the finite sample size.
    /// </summary>
    Asymptotic,
}

/// <summary>
/// The null distributions behind the KS p-values, written after SciPy's <c>ks_2samp</c> and <c>kstwo</c>
/// (Simard and L'Ecuyer 2011: Ruben–Gambino, Durbin matrix after Marsaglia–Tsang–Wang, Pelz–Good, Birnbaum–Tingey).
/// </summary>
internal static class KolmogorovDistribution
{
    /// <summary>SciPy's <c>MAX_AUTO_N</c>: the exact mode is used up to this sample size.</summary>
    public const long MaxAutoExactCount = 10_000;

    private const int ScaleExponent = 128;
    private static readonly double s_big = Math.ScaleB(1.0, ScaleExponent);
    private static readonly double s_small = Math.ScaleB(1.0, -ScaleExponent);
    private static readonly double s_sqrt2Pi = Math.Sqrt(2 * Math.PI);
    private static readonly double[] s_stirling =
    [
        -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
        -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
    ];

    /// <summary>P(D ≥ d) for two samples of sizes n and m under the null hypothesis.</summary>
    public static double TwoSampleSurvival(double d, long n, long m, KolmogorovSmirnovMethod method)
    {
        if (n <= 0 || m <= 0 || double.IsNaN(d))
        {
            return double.NaN;
        }

        var g = Gcd(n, m);
        var ng = n / g;
        var mg = m / g;
        if (method == KolmogorovSmirnovMethod.Auto)
        {
            method = Math.Max(n, m) <= MaxAutoExactCount ? KolmogorovSmirnovMethod.Exact : KolmogorovSmirnovMethod.Asymptotic;
        }

        if (method == KolmogorovSmirnovMethod.Exact && ng < int.MaxValue / (double)mg)
        {
            var lcm = ng * m;
            var h = (long)Math.Round(d * lcm, MidpointRounding.ToEven);
            if (h <= 0)
            {
                return 1;
            }

            var p = n == m ? OutsideSquare(n, h) : OutsideBand(n, m, g, h);
            if (p is >= 0 and <= 1)
            {
                return p;
            }
        }

        double big = Math.Max(n, m), small = Math.Min(n, m);
        var en = Math.Round(big * small / (big + small), MidpointRounding.ToEven);
        return Math.Clamp(OneSampleSurvival((long)en, d), 0, 1);
    }

    /// <summary>P(D_{n,n} ≥ h/n): 2·Σ (−1)^{k−1} C(2n, n − kh)/C(2n, n), in SciPy's Horner form (no cancellation).</summary>
    private static double OutsideSquare(long n, long h)
    {
        var p = 0.0;
        for (var k = n / h; k >= 0; k--)
        {
            var p1 = 1.0;
            for (long j = 0; j < h; j++)
            {
                p1 = (n - (k * h) - j) * p1 / (n + (k * h) + j + 1);
            }

            p = p1 * (1.0 - p);
        }

        return 2 * p;
    }

    /// <summary>
    /// The share of monotone lattice paths from (0, 0) to (a, b) that touch |i·bg − j·ag| ≥ h (ag = a/g, bg = b/g):
    /// o(i, j) = 1 outside the band, o(i, j) = (i·o(i−1, j) + j·o(i, j−1))/(i + j) inside, so every term is a
    /// probability and small p-values keep their relative precision.
    /// </summary>
    private static double OutsideBand(long a, long b, long g, long h)
    {
        // The column runs over the smaller sample; the recursion is symmetric.
        if (a < b)
        {
            (a, b) = (b, a);
        }

        var ag = a / g;
        var bg = b / g;
        var column = new double[b + 1];
        Array.Fill(column, 1.0);

        // i = 0: inside while j·ag < h.
        var hi0 = Math.Min(b, CeilDiv(h, ag) - 1);
        for (var j = 0; j <= hi0; j++)
        {
            column[j] = 0;
        }

        long previousLow = 0;
        for (long i = 1; i <= a; i++)
        {
            // Inside: i·bg − h < j·ag < i·bg + h.
            var low = Math.Max(0, FloorDiv((i * bg) - h, ag) + 1);
            var high = Math.Min(b, CeilDiv((i * bg) + h, ag) - 1);
            for (var j = previousLow; j < Math.Min(low, b + 1); j++)
            {
                column[j] = 1;
            }

            previousLow = low;
            for (var j = low; j <= high; j++)
            {
                var left = j == 0 ? 0 : column[j - 1];
                column[j] = ((i * column[j]) + (j * left)) / (i + j);
            }
        }

        return column[b];
    }

    /// <summary>SciPy's <c>kstwo.sf(x, n)</c>: P(Dₙ ≥ x) of the one-sample two-sided statistic.</summary>
    internal static double OneSampleSurvival(long n, double x)
    {
        if (n <= 0 || double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x >= 1)
        {
            return 0;
        }

        if (x <= 0)
        {
            return 1;
        }

        var t = n * x;
        if (t <= 1)
        {
            // Ruben–Gambino: 1/2n ≤ x ≤ 1/n.
            if (t <= 0.5)
            {
                return 1;
            }

            double cdf;
            if (n <= 140)
            {
                cdf = 1.0;
                for (long i = 1; i <= n; i++)
                {
                    cdf *= i * (1.0 / n) * ((2 * t) - 1);
                }
            }
            else
            {
                cdf = Math.Exp(LogFactorialOverPower(n) + (n * Math.Log((2 * t) - 1)));
            }

            return Math.Clamp(1 - cdf, 0, 1);
        }

        if (t >= n - 1)
        {
            return Math.Clamp(2 * Math.Pow(1 - x, n), 0, 1);
        }

        if (x >= 0.5)
        {
            return Math.Clamp(2 * Smirnov(n, x), 0, 1);
        }

        var nxSquared = t * x;
        if (n <= 140)
        {
            // SciPy uses Pomeranz's recursion for 0.754693 < n·x² ≤ 4; the Durbin matrix is exact there too.
            return nxSquared <= 4 ? Math.Clamp(1 - DurbinMatrixCdf(n, x), 0, 1) : Math.Clamp(2 * Smirnov(n, x), 0, 1);
        }

        if (nxSquared >= 370)
        {
            return 0;
        }

        if (nxSquared >= 2.2)
        {
            return Math.Clamp(2 * Smirnov(n, x), 0, 1);
        }

        var cdfProbability = n <= 100_000 && n * Math.Pow(x, 1.5) <= 1.4 ? DurbinMatrixCdf(n, x) : PelzGoodCdf(n, x);
        return Math.Clamp(1 - cdfProbability, 0, 1);
    }

    /// <summary>ln(n!/nⁿ) by Stirling's series.</summary>
    private static double LogFactorialOverPower(long n)
    {
        var rn = 1.0 / n;
        var poly = 0.0;
        foreach (var c in s_stirling)
        {
            poly = (poly * (rn / n)) + c;
        }

        return (Math.Log(n) / 2) - n + (Math.Log(2 * Math.PI) / 2) + (rn * poly);
    }

    /// <summary>P(Dₙ ≤ d) by Durbin's matrix (Marsaglia, Tsang and Wang 2003), with scaling against overflow.</summary>
    private static double DurbinMatrixCdf(long n, double d)
    {
        var nd = n * d;
        if (nd <= 0.5)
        {
            return 0;
        }

        var k = (int)Math.Ceiling(nd);
        var h = k - nd;
        var m = (2 * k) - 1;
        var v = new double[m];
        var w = new double[m];
        var fac = 1.0;
        for (var j = 1; j <= m; j++)
        {
            w[j - 1] = fac;
            fac /= j;
            v[j - 1] = (1.0 - Math.Pow(h, j)) * fac;
        }

        var tt = Math.Pow(Math.Max((2 * h) - 1.0, 0), m) - (2 * Math.Pow(h, m));
        v[m - 1] = (1.0 + tt) * fac;
        var matrix = new double[m, m];
        for (var i = 1; i < m; i++)
        {
            for (var r = i - 1; r < m; r++)
            {
                matrix[r, i] = w[r - i + 1];
            }
        }

        for (var r = 0; r < m; r++)
        {
            matrix[r, 0] = v[r];
        }

        for (var c = 0; c < m; c++)
        {
            matrix[m - 1, c] = v[m - 1 - c];
        }

        var power = Identity(m);
        var exponent = 0;
        var matrixExponent = 0;
        for (var left = n; left > 0; left /= 2)
        {
            if (left % 2 == 1)
            {
                power = Multiply(power, matrix);
                exponent += matrixExponent;
            }

            matrix = Multiply(matrix, matrix);
            matrixExponent *= 2;
            if (Math.Abs(matrix[k - 1, k - 1]) > s_big)
            {
                Scale(matrix, s_small);
                matrixExponent += ScaleExponent;
            }
        }

        var p = power[k - 1, k - 1];
        for (long i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < s_small)
            {
                p *= s_big;
                exponent -= ScaleExponent;
            }
        }

        return Math.Clamp(exponent == 0 ? p : Math.ScaleB(p, exponent), 0, 1);
    }

    /// <summary>The Pelz–Good asymptotic series for P(Dₙ ≤ x) (large n).</summary>
    private static double PelzGoodCdf(long n, double x)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        const double pi2 = Math.PI * Math.PI;
        var pi4 = pi2 * pi2;
        var pi6 = pi4 * pi2;
        var z = Math.Sqrt(n) * x;
        double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
        var qlog = -pi2 / 8 / z2;
        if (qlog < -708)
        {
            return 0;
        }

        var q = Math.Exp(qlog);
        var k1a = -z2;
        var k1b = pi2 / 4;
        var k2a = (6 * z6) + (2 * z4);
        var k2b = ((2 * z4) - (5 * z2)) * pi2 / 4;
        var k2c = pi4 * (1 - (2 * z2)) / 16;
        var k3d = pi6 * (5 - (30 * z2)) / 64;
        var k3c = pi4 * ((-60 * z2) + (212 * z4)) / 16;
        var k3b = pi2 * ((135 * z4) - (96 * z6)) / 4;
        var k3a = (-30 * z6) - (90 * Math.Pow(z, 8));
        double k0 = 0, k1 = 0, k2 = 0, k3 = 0;
        var maxK = (int)Math.Ceiling(16 * z / Math.PI);
        for (var k = maxK; k > 0; k--)
        {
            double mm = (2 * k) - 1;
            double m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
            var qp = Math.Pow(q, 8 * k);
            k0 = (k0 * qp) + 1.0;
            k1 = (k1 * qp) + k1a + (k1b * m2);
            k2 = (k2 * qp) + k2a + (k2b * m2) + (k2c * m4);
            k3 = (k3 * qp) + k3a + (k3b * m2) + (k3c * m4) + (k3d * m6);
        }

        var scale = q * s_sqrt2Pi;
        k0 = k0 * scale / z;
        k1 = k1 * scale / (6 * z4);
        k2 = k2 * scale / (72 * Math.Pow(z, 7));
        k3 = k3 * scale / (6480 * Math.Pow(z, 10));

        var q2 = Math.Exp(-pi2 / 2 / z2);
        var sqrt3z = Math.Sqrt(3) * z;
        double extra2 = 0, extra3 = 0;
        for (var k = maxK; k > 0; k--)
        {
            double ks = k;
            var ksq = ks * ks;
            var qk = Math.Pow(q2, ksq);
            var kspi = Math.PI * ks;
            extra2 += ksq * qk;
            extra3 += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qk;
        }

        k2 += extra2 * pi2 * s_sqrt2Pi / (-36 * z3);
        k3 += extra3 * pi2 * s_sqrt2Pi / (216 * z6);
        double nn = n;
        return k0 + (k1 / Math.Sqrt(nn)) + (k2 / nn) + (k3 / (nn * Math.Sqrt(nn)));
    }

    /// <summary>
    /// The one-sided Smirnov survival P(Dₙ⁺ ≥ x), by the Birnbaum–Tingey sum
    /// x·Σ_{j=0}^{⌊n(1−x)⌋} C(n, j)(x + j/n)^{j−1}(1 − x − j/n)^{n−j}, in logarithms (every term is positive).
    /// </summary>
    internal static double Smirnov(long n, double x)
    {
        if (x <= 0)
        {
            return 1;
        }

        if (x >= 1)
        {
            return 0;
        }

        if (n == 1)
        {
            return 1 - x;
        }

        if (n > 1_000_000)
        {
            // Cephes beyond its compute limit: p ≈ exp(−(6nx + 1)²/18n).
            var a = (6.0 * n * x) + 1;
            return Math.Exp(-a * a / 18.0 / n);
        }

        var last = (long)Math.Floor(n * (1 - x));
        var logN = SpecialFunctions.FactorialLn((int)n);
        var logs = new double[last + 1];
        var max = double.NegativeInfinity;
        for (long j = 0; j <= last; j++)
        {
            var rest = 1 - x - ((double)j / n);
            if (rest <= 0 && n - j > 0)
            {
                logs[j] = double.NegativeInfinity;
                continue;
            }

            var logC = logN - SpecialFunctions.FactorialLn((int)j) - SpecialFunctions.FactorialLn((int)(n - j));
            var term = logC + ((j - 1) * Math.Log(x + ((double)j / n))) + ((n - j) * (rest <= 0 ? 0 : Math.Log(rest)));
            logs[j] = term;
            max = Math.Max(max, term);
        }

        if (double.IsNegativeInfinity(max))
        {
            return 0;
        }

        var sum = 0.0;
        foreach (var l in logs)
        {
            sum += Math.Exp(l - max);
        }

        return Math.Clamp(x * Math.Exp(max) * sum, 0, 1);
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static long CeilDiv(long a, long b) => -FloorDiv(-a, b);

    private static double[,] Identity(int m)
    {
        var r = new double[m, m];
        for (var i = 0; i < m; i++)
        {
            r[i, i] = 1;
        }

        return r;
    }

    private static double[,] Multiply(double[,] a, double[,] b)
    {
        var m = a.GetLength(0);
        var r = new double[m, m];
        for (var i = 0; i < m; i++)
        {
            for (var k = 0; k < m; k++)
            {
                var aik = a[i, k];
                if (aik == 0)
                {
                    continue;
                }

                for (var j = 0; j < m; j++)
                {
                    r[i, j] += aik * b[k, j];
                }
            }
        }

        return r;
    }

    private static void Scale(double[,] a, double factor)
    {
        var m = a.GetLength(0);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                a[i, j] *= factor;
            }
        }
    }
}
