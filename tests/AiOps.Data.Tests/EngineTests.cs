using System.Globalization;
using System.Text;
using AiOps.Data.Internal;
using AiOps.Data.Quality;

namespace AiOps.Data.Tests;

public sealed class EngineTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("-12.5")]
    [InlineData("+3")]
    [InlineData(".25")]
    [InlineData("123456789012345")]
    [InlineData("1234567890.12345")]
    [InlineData("12345678901234567890")]
    [InlineData("1e-3")]
    [InlineData("0.1")]
    [InlineData("2.675")]
    public void NumberParser_MatchesDoubleParse(string text)
    {
        Assert.True(NumberParser.TryParse(text, out var v, out _));
        Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), v);
    }

    [Fact]
    public void NumberParser_RandomDecimals_BitExactWithDoubleParse()
    {
        var rng = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var text = (rng.NextDouble() * Math.Pow(10, rng.Next(-3, 9))).ToString("F" + rng.Next(0, 7), CultureInfo.InvariantCulture);
            Assert.True(NumberParser.TryParse(text, out var v, out _));
            Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), v);
        }
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("12a")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void NumberParser_NonNumbers_Rejected(string text) => Assert.False(NumberParser.TryParse(text, out _, out _));

    [Fact]
    public void HyperLogLog_EstimatesWithinTwoPercent()
    {
        var hll = new HyperLogLog();
        for (var i = 0; i < 300_000; i++)
        {
            hll.Add(("user-" + i.ToString(CultureInfo.InvariantCulture)).AsSpan());
        }

        Assert.InRange(hll.Estimate(), 294_000, 306_000);
    }
}

[CollectionDefinition(nameof(MemorySensitive), DisableParallelization = true)]
public sealed class MemorySensitive;

[Collection(nameof(MemorySensitive))]
public sealed class StreamingTests : IDisposable
{
    private readonly DataHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void Validate_200kRows_LiveMemoryDoesNotGrowWithRows()
    {
        // ~16 MB of CSV; if rows were retained the live heap would grow by far more than the bound below.
        var path = Path.Combine(_h.Root, "big.csv");
        using (var w = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            w.Write("id,age,income,score,category,email,country,date,flag,name\n");
            for (var i = 0; i < 200_000; i++)
            {
                w.Write(string.Create(CultureInfo.InvariantCulture,
                    $"{i},{i % 90},{(i % 1000) * 37.5},{(i % 100) / 100.0},cat{i % 5},user{i}@example.com,CN,2024-0{(i % 9) + 1}-1{i % 9},{i % 2},name{i}\n"));
            }
        }

        var samples = new List<long>();
        var rules = RuleSet.Create("big")
            .Column("age", c => c.Between(0, 120))
            .Column("category", c => c.InSet(["cat0", "cat1", "cat2", "cat3", "cat4"]))
            .Row("probe", row =>
            {
                if (row.Row % 50_000 == 0)
                {
                    samples.Add(GC.GetTotalMemory(forceFullCollection: true));
                }

                return true;
            })
            .Build();

        var report = Validate.Run(DataSource.FromCsv(path), rules);

        Assert.True(report.Passed);
        Assert.Equal(200_000, report.RowsChecked);
        Assert.Equal(4, samples.Count);
        Assert.True(samples[^1] - samples[0] < 4_000_000, $"live heap grew {samples[^1] - samples[0]:N0} bytes between row 50k and 200k");
    }
}
