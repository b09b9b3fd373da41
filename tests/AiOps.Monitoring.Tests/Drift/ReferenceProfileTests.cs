using AiOps.Monitoring.Drift;

namespace AiOps.Monitoring.Tests.Drift;

public sealed class ReferenceProfileTests
{
    [Fact]
    public void Numeric_QuantileBins_MatchNumpyLinearInterpolation()
    {
        // np.quantile([1..10], [.25, .5, .75]) = [3.25, 5.5, 7.75] (h = 9q; x[floor h] + frac·(next - x[floor h])).
        var values = Enumerable.Range(1, 10).Select(i => (double)i).Reverse().ToArray();
        var f = ReferenceProfileBuilder.Numeric("x", values, new ReferenceProfileOptions { BinCount = 4, PerValueThreshold = 0 });
        Assert.Equal([3.25, 5.5, 7.75], f.Edges);
        Assert.Equal([3L, 2L, 2L, 3L], f.Counts); // 1-3 | 4-5 | 6-7 | 8-10
        Assert.Equal(BinningMethod.Quantile, f.Binning);
        Assert.Equal(5.5, f.Mean, 1e-12);
        Assert.Equal(Math.Sqrt(8.25), f.StandardDeviation, 1e-12); // population variance of 1..10 = (100-1)/12
        Assert.Equal(1, f.Min);
        Assert.Equal(10, f.Max);
    }

    [Fact]
    public void Numeric_DefaultSettings_TenQuantileBinsOfEqualMass()
    {
        var values = Enumerable.Range(0, 1000).Select(i => i * 0.5).ToArray();
        var f = ReferenceProfileBuilder.Numeric("x", values);
        Assert.Equal(10, f.BinCount);
        Assert.All(f.Counts, c => Assert.Equal(100, c));
    }

    [Fact]
    public void Numeric_EqualWidth_SplitsRangeEvenly()
    {
        var values = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();
        var f = ReferenceProfileBuilder.Numeric("x", values, new ReferenceProfileOptions { BinCount = 5, Binning = BinningMethod.EqualWidth, PerValueThreshold = 0 });
        Assert.Equal([2.0, 4.0, 6.0, 8.0], f.Edges);
        Assert.Equal([2L, 2L, 2L, 2L, 3L], f.Counts);
    }

    [Fact]
    public void Numeric_ConstantFeature_GetsItsOwnValueBinAndSameConstantHasNoDrift()
    {
        // Issue 16: the old quantile profile [3] put 3 and every larger value in one bin, so 3 -> 4 was invisible.
        var f = ReferenceProfileBuilder.Numeric("c", Enumerable.Repeat(3.0, 500).ToArray());
        Assert.Equal(3, f.BinCount);
        Assert.Equal(BinningMethod.PerValue, f.Binning);
        Assert.Equal([3.0, Math.BitIncrement(3.0)], f.Edges);
        Assert.Equal([0L, 500L, 0L], f.Counts);

        var same = new FeatureHistogram(f);
        same.Add(Enumerable.Repeat(3.0, 200).ToArray());
        Assert.Equal(0, DriftStatistics.Psi(f.CountArray, same.Counts), 1e-12);

        var moved = new FeatureHistogram(f);
        moved.Add(Enumerable.Repeat(2.0, 200).ToArray());
        Assert.True(DriftStatistics.Psi(f.CountArray, moved.Counts) > 0.2);
    }

    [Fact]
    public void Numeric_NaNInReference_CountedAsMissing()
    {
        var f = ReferenceProfileBuilder.Numeric("x", [1, double.NaN, 2, 3, double.NaN, 4]);
        Assert.Equal(2, f.MissingCount);
        Assert.Equal(4, f.ReferenceCount);
    }

    [Fact]
    public void Numeric_InfiniteReferenceValue_ThrowsNamingFeature()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReferenceProfileBuilder.Numeric("amount", [1, double.PositiveInfinity]));
        Assert.Contains("'amount'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected finite", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Numeric_OneBin_ThrowsNamingSetting()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceProfileBuilder.Numeric("x", [1, 2], new ReferenceProfileOptions { BinCount = 1 }));
        Assert.Contains("BinCount", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateNumeric_UnsortedEdges_Throws()
    {
        Assert.Throws<ArgumentException>(() => FeatureProfile.CreateNumeric("x", [2, 1], [1, 1, 1]));
        Assert.Throws<ArgumentException>(() => FeatureProfile.CreateNumeric("x", [1, 2], [1, 1]));
    }

    [Fact]
    public void Categorical_UnseenCategory_GoesToUnseenBucket()
    {
        var f = ReferenceProfileBuilder.Categorical("country", ["fr", "de", "fr", null, "it"]);
        Assert.Equal(["de", "fr", "it"], f.Categories);
        Assert.Equal([1L, 2L, 1L, 0L], f.Counts);
        Assert.Equal(1, f.MissingCount);

        var h = new FeatureHistogram(f);
        h.AddCategory("fr");
        h.AddCategory("es");
        h.AddCategory(null);
        Assert.Equal([0L, 1L, 0L, 1L], h.Counts.ToArray());
        Assert.Equal(1, h.NaNCount);
        Assert.Equal("(unseen)", f.BinLabel(3));
    }

    [Fact]
    public void Categorical_IntegerCodes_MapToTheirCategories()
    {
        var f = ReferenceProfileBuilder.Categorical("kind", ["1", "2", "2"]);
        var h = new FeatureHistogram(f);
        h.AddCategories([2, 2, 7]);
        Assert.Equal([0L, 2L, 1L], h.Counts.ToArray());
    }

    [Fact]
    public void FromMatrix_ReadsEachColumnAsFeature()
    {
        float[] matrix = [1, 10, 2, 20, 3, 30, 4, 40];
        var p = ReferenceProfileBuilder.FromMatrix(matrix, 2, null, "features", new ReferenceProfileOptions { BinCount = 2, PerValueThreshold = 0 });
        Assert.Equal(["features_0", "features_1"], p.Features.Select(f => f.Name));
        Assert.Equal(1, p.Features[1].Column);
        Assert.Equal("features", p.Features[1].Input);
        Assert.Equal([25.0], p.Features[1].Edges);
    }

    [Fact]
    public void FromMatrix_LengthNotMultipleOfColumns_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReferenceProfileBuilder.FromMatrix(new float[5], 2, null, "features"));
        Assert.Contains("multiple of 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_RoundTrip_GivesEqualProfile()
    {
        var numeric = ReferenceProfileBuilder.Numeric("amount", Enumerable.Range(0, 100).Select(i => Math.Sqrt(i) / 3).ToArray()) with { Input = "features", Column = 3 };
        var categorical = ReferenceProfileBuilder.Categorical("country", ["fr", "de", "fr"]) with { Input = "country", Column = 0 };
        var profile = new ReferenceProfile([numeric, categorical]);

        var back = ReferenceProfile.FromJson(profile.ToJson());

        Assert.Equal(profile.Features.Count, back.Features.Count);
        Assert.Equal(numeric, back.Features[0]);
        Assert.Equal(categorical, back.Features[1]);
    }

    [Fact]
    public void Json_MissingField_ThrowsFormatExceptionNamingIt()
    {
        var ex = Assert.Throws<FormatException>(() => ReferenceProfile.FromJson("""{"schema":1,"features":[{"name":"a","kind":"numeric","counts":[1,2]}]}"""));
        Assert.Contains("features[0]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'edges'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_WrongSchema_Throws()
    {
        var ex = Assert.Throws<FormatException>(() => ReferenceProfile.FromJson("""{"schema":9,"features":[]}"""));
        Assert.Contains("expected 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAsync_WritesAtomicallyAndLoadsBack()
    {
        var dir = Directory.CreateTempSubdirectory("aiops-profile-");
        try
        {
            var path = Path.Combine(dir.FullName, "model", "profile.json");
            var profile = new ReferenceProfile([ReferenceProfileBuilder.Numeric("x", [1, 2, 3, 4, 5])]);
            await profile.SaveAsync(path);
            await profile.SaveAsync(path); // overwrite

            var back = await ReferenceProfile.LoadAsync(path);
            Assert.Equal(profile.Features[0], back.Features[0]);
            Assert.Equal(["profile.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Constructor_DuplicateFeatureNames_Throws()
    {
        var f = ReferenceProfileBuilder.Numeric("x", [1, 2]);
        var ex = Assert.Throws<ArgumentException>(() => new ReferenceProfile([f, f]));
        Assert.Contains("'x'", ex.Message, StringComparison.Ordinal);
    }
}
