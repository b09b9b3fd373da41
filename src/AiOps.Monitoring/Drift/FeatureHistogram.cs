namespace AiOps.Monitoring.Drift;

/// <summary>
/// Counts of one feature's production values in the bins of its <see cref="FeatureProfile"/>: O(bins) memory however
/// many values are added. Two histograms of the same feature merge by adding counts, so windows of many replicas
/// combine exactly (merging is associative and commutative). Not thread-safe.
/// </summary>
public sealed class FeatureHistogram
{
    private readonly long[] _counts;

    /// <summary>Creates an empty histogram for <paramref name="feature"/>.</summary>
    /// <param name="feature">The feature's reference profile.</param>
    public FeatureHistogram(FeatureProfile feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        Feature = feature;
        _counts = new long[feature.BinCount];
    }

    /// <summary>The feature's reference profile.</summary>
    public FeatureProfile Feature { get; }

    /// <summary>The count per bin (same order as <see cref="FeatureProfile.Counts"/>).</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>The non-NaN values counted.</summary>
    public long Count { get; private set; }

    /// <summary>The NaN (missing) values seen; they are in no bin and take no part in the statistics.</summary>
    public long NaNCount { get; private set; }

    /// <summary>Counts numeric values (vectorised, see <see cref="BinCounter"/>).</summary>
    /// <param name="values">The values.</param>
    /// <exception cref="InvalidOperationException">The feature is categorical.</exception>
    public void Add(ReadOnlySpan<double> values)
    {
        RequireKind(FeatureKind.Numeric);
        var nan = BinCounter.Count(values, Feature.EdgeArray, _counts);
        NaNCount += nan;
        Count += values.Length - nan;
    }

    /// <summary>Counts numeric values given in single precision.</summary>
    /// <param name="values">The values.</param>
    /// <exception cref="InvalidOperationException">The feature is categorical.</exception>
    public void Add(ReadOnlySpan<float> values)
    {
        RequireKind(FeatureKind.Numeric);
        var nan = BinCounter.Count(values, Feature.EdgeArray, _counts);
        NaNCount += nan;
        Count += values.Length - nan;
    }

    /// <summary>Counts one category (the unseen bucket when the reference does not have it); <see langword="null"/> counts as missing.</summary>
    /// <param name="category">The category.</param>
    /// <exception cref="InvalidOperationException">The feature is numeric.</exception>
    public void AddCategory(string? category)
    {
        RequireKind(FeatureKind.Categorical);
        if (category is null)
        {
            NaNCount++;
            return;
        }

        _counts[Feature.BucketOf(category)]++;
        Count++;
    }

    /// <summary>Counts integer category codes.</summary>
    /// <param name="codes">The codes.</param>
    /// <exception cref="InvalidOperationException">The feature is numeric.</exception>
    public void AddCategories(ReadOnlySpan<long> codes)
    {
        RequireKind(FeatureKind.Categorical);
        foreach (var c in codes)
        {
            _counts[Feature.BucketOf(c)]++;
        }

        Count += codes.Length;
    }

    /// <summary>Adds the counts of <paramref name="other"/> (same feature and bins) to this histogram.</summary>
    /// <param name="other">The histogram to add.</param>
    /// <exception cref="ArgumentException">The histograms are of different bins.</exception>
    public void MergeFrom(FeatureHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if ((!ReferenceEquals(other.Feature, Feature) && !other.Feature.EdgeArray.AsSpan().SequenceEqual(Feature.EdgeArray))
            || other._counts.Length != _counts.Length
            || !string.Equals(other.Feature.Name, Feature.Name, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Cannot merge feature '{other.Feature.Name}' ({other._counts.Length} bins) into '{Feature.Name}' ({_counts.Length} bins); expected histograms of the same profile.",
                nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        NaNCount += other.NaNCount;
    }

    /// <summary>Sets counts read back from elsewhere (e.g. scraped per-bin counters), replacing the current ones.</summary>
    /// <param name="counts">One count per bin.</param>
    /// <param name="nanCount">The missing values.</param>
    /// <exception cref="ArgumentException">Wrong number of bins or a negative count.</exception>
    public void SetCounts(ReadOnlySpan<long> counts, long nanCount = 0)
    {
        if (counts.Length != _counts.Length)
        {
            throw new ArgumentException($"{counts.Length} counts were given for feature '{Feature.Name}'; expected {_counts.Length}.", nameof(counts));
        }

        long total = 0;
        foreach (var c in counts)
        {
            if (c < 0)
            {
                throw new ArgumentException($"A count for feature '{Feature.Name}' is negative; expected zero or more.", nameof(counts));
            }

            total += c;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(nanCount);
        counts.CopyTo(_counts);
        Count = total;
        NaNCount = nanCount;
    }

    /// <summary>Returns a copy.</summary>
    public FeatureHistogram Clone()
    {
        var copy = new FeatureHistogram(Feature);
        copy.MergeFrom(this);
        return copy;
    }

    /// <summary>Empties the histogram.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        NaNCount = 0;
    }

    private void RequireKind(FeatureKind kind)
    {
        if (Feature.Kind != kind)
        {
            throw new InvalidOperationException($"Feature '{Feature.Name}' is {Feature.Kind}; expected a {kind} feature for this call.");
        }
    }
}

/// <summary>One <see cref="FeatureHistogram"/> per feature of a <see cref="ReferenceProfile"/>: a window of production data. Not thread-safe.</summary>
public sealed class ProfileHistogram
{
    private readonly FeatureHistogram[] _features;

    /// <summary>Creates empty histograms for every feature of <paramref name="profile"/>.</summary>
    /// <param name="profile">The reference profile.</param>
    public ProfileHistogram(ReferenceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Profile = profile;
        _features = profile.Features.Select(f => new FeatureHistogram(f)).ToArray();
    }

    /// <summary>The reference profile.</summary>
    public ReferenceProfile Profile { get; }

    /// <summary>The histograms, in the profile's feature order.</summary>
    public IReadOnlyList<FeatureHistogram> Features => _features;

    /// <summary>The rows (requests' batch rows) counted.</summary>
    public long Rows { get; set; }

    /// <summary>The histogram of the feature called <paramref name="name"/>.</summary>
    /// <param name="name">The feature name.</param>
    /// <exception cref="KeyNotFoundException">The profile has no such feature.</exception>
    public FeatureHistogram this[string name] =>
        _features.FirstOrDefault(f => string.Equals(f.Feature.Name, name, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"The profile has no feature '{name}'; expected one of {string.Join(", ", _features.Select(f => f.Feature.Name))}.");

    /// <summary>Adds every feature's counts of <paramref name="other"/> (a histogram of the same profile) to this one.</summary>
    /// <param name="other">The histogram to add.</param>
    /// <exception cref="ArgumentException">The histograms are of different profiles.</exception>
    public void MergeFrom(ProfileHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._features.Length != _features.Length)
        {
            throw new ArgumentException($"Cannot merge a histogram of {other._features.Length} features into one of {_features.Length}; expected the same profile.", nameof(other));
        }

        for (var i = 0; i < _features.Length; i++)
        {
            _features[i].MergeFrom(other._features[i]);
        }

        Rows += other.Rows;
    }

    /// <summary>Returns a new histogram holding the sum of <paramref name="left"/> and <paramref name="right"/>.</summary>
    /// <param name="left">A histogram.</param>
    /// <param name="right">A histogram of the same profile.</param>
    public static ProfileHistogram Merge(ProfileHistogram left, ProfileHistogram right)
    {
        ArgumentNullException.ThrowIfNull(left);
        var sum = new ProfileHistogram(left.Profile);
        sum.MergeFrom(left);
        sum.MergeFrom(right);
        return sum;
    }
}
