using System.Globalization;
using System.Text;

namespace AiOps.Samples.Quickstart.Simulation;

/// <summary>One customer as the churn model sees it (raw, before normalisation).</summary>
internal readonly record struct Customer(int Id, double Age, double TenureMonths, double MonthlySpend, double SupportTickets)
{
    public double this[int feature] => feature switch
    {
        0 => Age,
        1 => TenureMonths,
        2 => MonthlySpend,
        3 => SupportTickets,
        _ => throw new ArgumentOutOfRangeException(nameof(feature), feature, "Expected a feature index 0-3."),
    };
}

/// <summary>
/// The quickstart's synthetic world: customers of a subscription service, their features and whether they churn. The
/// same generator writes the training CSV and produces live traffic, so production data matches training data until
/// the sample shifts it on purpose.
/// </summary>
internal static class ChurnData
{
    public const string Dataset = "churn-training";

    /// <summary>The model's input features, in input-column order.</summary>
    public static readonly string[] Features = ["age", "tenure_months", "monthly_spend", "support_tickets"];

    /// <summary>The label values, in the model's output order.</summary>
    public static readonly string[] Classes = ["stay", "at_risk", "churn"];

    public static readonly string[] Columns = ["customer_id", "phone", "email", "notes", "age", "tenure_months", "monthly_spend", "support_tickets", "churn"];

    private static readonly string[] Surnames = ["wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu"];
    private static readonly string[] Domains = ["example.com", "example.cn", "mail.example.org"];

    /// <summary>
    /// Draws a customer. <paramref name="shift"/> (in standard deviations) moves spending up and tenure down: the
    /// market change phase 6 of the quickstart simulates.
    /// </summary>
    public static Customer Draw(Random rng, int id, double shift = 0)
    {
        var age = Math.Clamp(Math.Round(Normal(rng, 42, 12)), 18, 90);
        var tenure = Math.Clamp(Math.Round(-30 * Math.Log(1 - rng.NextDouble()) - (18 * shift)), 0, 200);
        var spend = Math.Round(Math.Max(5, Normal(rng, 65 + (20 * shift), 20)), 2);
        var tickets = Poisson(rng, 1.5 + (0.5 * shift));
        return new Customer(id, age, tenure, spend, tickets);
    }

    /// <summary>The ground truth: short tenure, many tickets and high spend push towards churn.</summary>
    public static int Label(Customer c, Random rng)
    {
        var score = (-0.045 * c.TenureMonths) + (0.7 * c.SupportTickets) + (0.015 * (c.MonthlySpend - 65)) + Normal(rng, 0, 0.6);
        return score < 0 ? 0 : score < 1.2 ? 1 : 2;
    }

    /// <summary>
    /// Writes the training CSV: <paramref name="rows"/> good rows, each with a Chinese mobile number and an e-mail (and
    /// now and then PII in the free-text notes), plus the bad rows returned, placed among them.
    /// </summary>
    public static IReadOnlyList<string> WriteTrainingCsv(string path, int rows, int seed)
    {
        var rng = new Random(seed);
        var bad = new List<(int At, string Line, string Why)>
        {
            (37, "C900037,13800000037,li.37@example.com,,190,12,70.5,1,stay", "age 190"),
            (88, "C900088,13900000088,zhao.88@example.cn,,-4,30,55.0,0,stay", "negative age"),
            (141, ",13700000141,wu.141@example.com,,35,8,61.2,2,at_risk", "missing customer id"),
            (205, "C000204,13600000205,chen.205@example.com,,29,40,48.9,1,stay", "duplicate customer id C000204"),
            (266, "C900266,12345,yang.266@example.com,,51,3,90.1,4,churn", "phone 12345"),
            (333, "C900333,15800000333,liu.333@example.org,,44,22,n/a,1,stay", "monthly_spend n/a"),
            (402, "C900402,15900000402,zhou.402@example.com,,38,15", "row cut short"),
            (471, "C900471,18600000471,not-an-email,,27,9,72.4,2,at_risk", "e-mail not-an-email"),
            (555, "C900555,18800000555,huang.555@example.cn,,60,66,40.0,500,stay", "500 support tickets"),
            (618, "C900618,13500000618,wang.618@example.com,,33,-3,58.3,0,stay", "negative tenure"),
            (702, "C900702,13300000702,zhang.702@example.com,,,18,64.0,1,stay", "age missing"),
            (789, "C900789,17700000789,li.789@example.org,,47,28,66.6,1,maybe", "label 'maybe'"),
        };
        var sb = new StringBuilder(rows * 96);
        sb.Append(string.Join(',', Columns)).Append('\n');
        var next = 0;
        for (var i = 1; i <= rows; i++)
        {
            while (next < bad.Count && bad[next].At == i)
            {
                sb.Append(bad[next].Line).Append('\n');
                next++;
            }

            var c = Draw(rng, i);
            var label = Classes[Label(c, rng)];
            var surname = Surnames[rng.Next(Surnames.Length)];
            var phone = string.Create(CultureInfo.InvariantCulture, $"1{rng.Next(3, 10)}{rng.Next(0, 1_000_000_000):D9}");
            var email = string.Create(CultureInfo.InvariantCulture, $"{surname}.{i}@{Domains[rng.Next(Domains.Length)]}");
            var notes = rng.Next(10) switch
            {
                0 => "prefers a call on " + phone,
                1 => "asked for invoices at " + email,
                2 => "upgraded plan",
                _ => string.Empty,
            };
            sb.Append(CultureInfo.InvariantCulture, $"C{i:D6},{phone},{email},{notes},{c.Age},{c.TenureMonths},{c.MonthlySpend:0.00},{c.SupportTickets},{label}\n");
        }

        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(false));
        return bad.Select(b => b.Why).ToArray();
    }

    /// <summary>Reads the feature columns of an admitted CSV (the gate's output: header, then one row per line).</summary>
    public static List<double[]> ReadFeatureRows(string admittedCsv)
    {
        using var reader = new StreamReader(admittedCsv, Encoding.UTF8);
        var header = (reader.ReadLine() ?? throw new InvalidDataException($"'{admittedCsv}' is empty; expected a header row.")).Split(',');
        var ordinals = Features.Select(f => Array.IndexOf(header, f)).ToArray();
        if (ordinals.Any(o => o < 0))
        {
            throw new InvalidDataException($"'{admittedCsv}' lacks a feature column; expected {string.Join(", ", Features)}, found {string.Join(", ", header)}.");
        }

        var rows = new List<double[]>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            // The generator never writes commas or quotes inside fields, so a plain split reads the gate's output.
            var fields = line.Split(',');
            rows.Add(ordinals.Select(o => double.Parse(fields[o], NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray());
        }

        return rows;
    }

    public static double Normal(Random rng, double mean, double sd)
    {
        // Box-Muller.
        var u1 = 1 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return mean + (sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    private static double Poisson(Random rng, double lambda)
    {
        var l = Math.Exp(-lambda);
        var k = 0;
        var p = 1.0;
        do
        {
            k++;
            p *= rng.NextDouble();
        }
        while (p > l);
        return k - 1;
    }
}
