using AiOps.Monitoring.Drift;

namespace AiOps.Monitoring.Tests.Drift;

public sealed class HistogramMergeTests
{
    private static readonly ReferenceProfile s_profile = new(
    [
        ReferenceProfileBuilder.Numeric("a", Enumerable.Range(0, 200).Select(i => i / 10.0).ToArray()),
        ReferenceProfileBuilder.Categorical("b", ["x", "y", "z"]),
    ]);

    private static ProfileHistogram Window(int seed, int n)
    {
        var rng = new Random(seed);
        var h = new ProfileHistogram(s_profile);
        var values = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 25 - 2).ToArray();
        values[0] = double.NaN;
        h["a"].Add(values);
        foreach (var c in new[] { "x", "q", "z" }.Take(n % 3 + 1))
        {
            h["b"].AddCategory(c);
        }

        h.Rows = n;
        return h;
    }

    [Fact]
    public void Merge_IsAssociativeAndCommutative()
    {
        var a = Window(1, 100);
        var b = Window(2, 257);
        var c = Window(3, 31);

        var left = ProfileHistogram.Merge(ProfileHistogram.Merge(a, b), c);
        var right = ProfileHistogram.Merge(a, ProfileHistogram.Merge(b, c));
        var swapped = ProfileHistogram.Merge(c, ProfileHistogram.Merge(b, a));

        foreach (var name in new[] { "a", "b" })
        {
            Assert.Equal(left[name].Counts.ToArray(), right[name].Counts.ToArray());
            Assert.Equal(left[name].Counts.ToArray(), swapped[name].Counts.ToArray());
            Assert.Equal(left[name].NaNCount, right[name].NaNCount);
        }

        Assert.Equal(388, left.Rows);
    }

    [Fact]
    public void Merge_EqualsCountingAllValuesTogether()
    {
        var rng = new Random(7);
        var values = Enumerable.Range(0, 1000).Select(_ => rng.NextDouble() * 30 - 5).ToArray();
        var whole = new FeatureHistogram(s_profile.Features[0]);
        whole.Add(values);

        var first = new FeatureHistogram(s_profile.Features[0]);
        first.Add(values.AsSpan(0, 333));
        var second = new FeatureHistogram(s_profile.Features[0]);
        second.Add(values.AsSpan(333));
        first.MergeFrom(second);

        Assert.Equal(whole.Counts.ToArray(), first.Counts.ToArray());
        Assert.Equal(1000, first.Count);
    }

    [Fact]
    public void MergeFrom_DifferentBins_Throws()
    {
        var other = ReferenceProfileBuilder.Numeric("a", [1, 2, 3, 4, 5, 6]);
        var ex = Assert.Throws<ArgumentException>(() => new FeatureHistogram(s_profile.Features[0]).MergeFrom(new FeatureHistogram(other)));
        Assert.Contains("same profile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_NumericValuesToCategoricalFeature_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new FeatureHistogram(s_profile.Features[1]).Add([1.0]));
        Assert.Contains("Categorical", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetCounts_FromScrapedCounters_AllowsFleetWidePsi()
    {
        // Two replicas' per-bin counters summed give the same PSI as one process that saw everything.
        var replica1 = Window(11, 500);
        var replica2 = Window(12, 700);
        var fleet = new FeatureHistogram(s_profile.Features[0]);
        var summed = new long[fleet.Feature.BinCount];
        for (var i = 0; i < summed.Length; i++)
        {
            summed[i] = replica1["a"].Counts[i] + replica2["a"].Counts[i];
        }

        fleet.SetCounts(summed);
        var merged = ProfileHistogram.Merge(replica1, replica2)["a"];
        Assert.Equal(
            DriftStatistics.Psi(fleet.Feature.CountArray, merged.Counts),
            DriftStatistics.Psi(fleet.Feature.CountArray, fleet.Counts),
            1e-15);
    }
}
