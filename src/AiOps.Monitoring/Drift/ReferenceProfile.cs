using System.Collections.ObjectModel;
using System.Globalization;
using AiOps.Monitoring.Internal;

namespace AiOps.Monitoring.Drift;

/// <summary>Whether a feature is numeric (binned) or categorical (counted per category).</summary>
public enum FeatureKind
{
    /// <summary>A number, counted into the reference's bins.</summary>
    Numeric = 0,

    /// <summary>A category, counted per category with one extra bucket for categories the reference never saw.</summary>
    Categorical,
}

/// <summary>How a numeric feature's bin edges are chosen from the reference.</summary>
public enum BinningMethod
{
    /// <summary>Edges at the reference quantiles i/B (NumPy's default linear interpolation), so each bin holds about 1/B of the reference. The default.</summary>
    Quantile = 0,

    /// <summary>Edges equally spaced between the reference minimum and maximum.</summary>
    EqualWidth,

    /// <summary>
    /// One bin per distinct reference value v (the bin [v, next double after v), which holds v alone), with the bins
    /// between and outside them holding values the reference never had ("other"; 0 in the reference). Chosen
    /// automatically for a feature with at most <see cref="ReferenceProfileOptions.PerValueThreshold"/> distinct
    /// reference values (flags, codes, constants), whose quantile edges would collapse.
    /// </summary>
    PerValue,
}

/// <summary>
/// The reference distribution of one feature: for a numeric feature the inner bin edges and the reference count per bin
/// (outer bins open to −∞ and +∞, left-closed, see <see cref="BinCounter"/>); for a categorical feature the categories
/// and their counts plus a last "unseen" bucket (0 in the reference).
/// </summary>
public sealed record FeatureProfile
{
    private readonly double[] _edges;
    private readonly long[] _counts;
    private readonly string[] _categories;
    private Dictionary<string, int>? _categoryIndex;
    private Dictionary<long, int>? _codeIndex;

    private FeatureProfile(string name, FeatureKind kind, double[] edges, string[] categories, long[] counts)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Kind = kind;
        _edges = edges;
        _categories = categories;
        _counts = counts;
        foreach (var c in counts)
        {
            if (c < 0)
            {
                throw new ArgumentException($"Feature '{name}' has a negative reference count; expected counts of zero or more.", nameof(counts));
            }
        }
    }

    /// <summary>The feature name (the <c>feature</c> label of the drift metrics).</summary>
    public string Name { get; }

    /// <summary>Numeric or categorical.</summary>
    public FeatureKind Kind { get; }

    /// <summary>The model input the feature is read from; <see langword="null"/> means the request's first input of a matching element type.</summary>
    public string? Input { get; init; }

    /// <summary>
    /// The model output the feature is read from (scores, classes: prediction drift), instead of an input; the
    /// monitor counts it from each response. <see langword="null"/> (the default) reads <see cref="Input"/>.
    /// </summary>
    public string? Output { get; init; }

    /// <summary>The index of the feature in the input's last dimension (row-major: column <c>Column</c> of each row).</summary>
    public int Column { get; init; }

    /// <summary>How the edges were chosen (numeric features).</summary>
    public BinningMethod Binning { get; init; }

    /// <summary>The inner bin edges, strictly increasing (numeric features; empty for categorical ones).</summary>
    public IReadOnlyList<double> Edges => Array.AsReadOnly(_edges);

    /// <summary>The categories in bucket order (categorical features; empty for numeric ones). The unseen bucket follows them.</summary>
    public IReadOnlyList<string> Categories => _categories;

    /// <summary>The reference count per bin or bucket (<see cref="BinCount"/> entries).</summary>
    public IReadOnlyList<long> Counts => Array.AsReadOnly(_counts);

    /// <summary>The edges without a copy, for the counting hot path. Never mutated.</summary>
    internal double[] EdgeArray => _edges;

    /// <summary>The counts without a copy. Never mutated.</summary>
    internal long[] CountArray => _counts;

    /// <summary>The number of bins: edges + 1 (numeric) or categories + 1 (categorical, the last is "unseen").</summary>
    public int BinCount => _counts.Length;

    /// <summary>The non-NaN reference values counted.</summary>
    public long ReferenceCount => _counts.Sum();

    /// <summary>The NaN (missing) reference values, which are in no bin.</summary>
    public long MissingCount { get; init; }

    /// <summary>The reference mean (numeric features), for reports.</summary>
    public double Mean { get; init; }

    /// <summary>The reference population standard deviation (numeric features), for reports.</summary>
    public double StandardDeviation { get; init; }

    /// <summary>The smallest reference value (numeric features), for reports; the outer bins start here in charts.</summary>
    public double Min { get; init; }

    /// <summary>The largest reference value (numeric features), for reports.</summary>
    public double Max { get; init; }

    /// <summary>The reference proportion of each bin.</summary>
    public double[] Proportions()
    {
        var total = (double)ReferenceCount;
        var p = new double[_counts.Length];
        for (var i = 0; i < p.Length; i++)
        {
            p[i] = total == 0 ? 0 : _counts[i] / total;
        }

        return p;
    }

    /// <summary>A readable label for bin <paramref name="bin"/>, e.g. <c>[0.5, 1.2)</c> or a category.</summary>
    /// <param name="bin">The bin index.</param>
    public string BinLabel(int bin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bin, BinCount);
        if (Kind == FeatureKind.Categorical)
        {
            return bin < _categories.Length ? _categories[bin] : "(unseen)";
        }

        if (bin > 0 && bin < _edges.Length && _edges[bin] == Math.BitIncrement(_edges[bin - 1]))
        {
            return _edges[bin - 1].ToString("G6", CultureInfo.InvariantCulture);
        }

        var lo = bin == 0 ? "-inf" : _edges[bin - 1].ToString("G4", CultureInfo.InvariantCulture);
        var hi = bin == _edges.Length ? "+inf" : _edges[bin].ToString("G4", CultureInfo.InvariantCulture);
        return bin == 0 ? $"(-inf, {hi})" : $"[{lo}, {hi})";
    }

    /// <summary>The bucket of a category; the unseen bucket (last) for a category the reference does not have.</summary>
    /// <param name="category">The category.</param>
    public int BucketOf(string category)
    {
        ArgumentNullException.ThrowIfNull(category);
        _categoryIndex ??= BuildCategoryIndex();
        return _categoryIndex.TryGetValue(category, out var i) ? i : _categories.Length;
    }

    /// <summary>The bucket of an integer category code (its invariant decimal text); the unseen bucket when absent.</summary>
    /// <param name="code">The code.</param>
    public int BucketOf(long code)
    {
        _codeIndex ??= BuildCodeIndex();
        return _codeIndex.TryGetValue(code, out var i) ? i : _categories.Length;
    }

    /// <summary>Creates a numeric feature profile from edges and counts (e.g. read back from storage).</summary>
    /// <param name="name">The feature name.</param>
    /// <param name="innerEdges">The inner edges, finite and strictly increasing.</param>
    /// <param name="counts">The reference counts, one more than the edges.</param>
    /// <exception cref="ArgumentException">The edges are not finite and strictly increasing, or the counts have the wrong length.</exception>
    public static FeatureProfile CreateNumeric(string name, IEnumerable<double> innerEdges, IEnumerable<long> counts)
    {
        ArgumentNullException.ThrowIfNull(innerEdges);
        ArgumentNullException.ThrowIfNull(counts);
        var edges = innerEdges.ToArray();
        var c = counts.ToArray();
        for (var i = 0; i < edges.Length; i++)
        {
            if (!double.IsFinite(edges[i]) || (i > 0 && edges[i] <= edges[i - 1]))
            {
                throw new ArgumentException($"Feature '{name}' edge {i} is {edges[i].ToString(CultureInfo.InvariantCulture)}; expected finite, strictly increasing edges.", nameof(innerEdges));
            }
        }

        if (c.Length != edges.Length + 1)
        {
            throw new ArgumentException($"Feature '{name}' has {edges.Length} edges and {c.Length} counts; expected {edges.Length + 1} counts.", nameof(counts));
        }

        return new FeatureProfile(name, FeatureKind.Numeric, edges, [], c);
    }

    /// <summary>Creates a categorical feature profile from categories and their counts; the unseen bucket is added.</summary>
    /// <param name="name">The feature name.</param>
    /// <param name="categories">The distinct categories.</param>
    /// <param name="counts">Their counts, one per category, or one per category plus the unseen bucket.</param>
    /// <exception cref="ArgumentException">A category repeats, or the counts have the wrong length.</exception>
    public static FeatureProfile CreateCategorical(string name, IEnumerable<string> categories, IEnumerable<long> counts)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(counts);
        var cats = categories.ToArray();
        var c = counts.ToArray();
        if (cats.Distinct(StringComparer.Ordinal).Count() != cats.Length || cats.Any(x => x is null))
        {
            throw new ArgumentException($"Feature '{name}' lists a category twice or a null category; expected distinct categories.", nameof(categories));
        }

        if (c.Length == cats.Length)
        {
            c = [.. c, 0];
        }
        else if (c.Length != cats.Length + 1)
        {
            throw new ArgumentException($"Feature '{name}' has {cats.Length} categories and {c.Length} counts; expected {cats.Length} (or {cats.Length + 1} with the unseen bucket).", nameof(counts));
        }

        return new FeatureProfile(name, FeatureKind.Categorical, [], cats, c);
    }

    /// <summary>Value equality: same name, kind, input, output, column, binning, edges, categories, counts and statistics.</summary>
    /// <param name="other">The other profile.</param>
    public bool Equals(FeatureProfile? other) =>
        other is not null
        && string.Equals(Name, other.Name, StringComparison.Ordinal)
        && Kind == other.Kind
        && string.Equals(Input, other.Input, StringComparison.Ordinal)
        && string.Equals(Output, other.Output, StringComparison.Ordinal)
        && Column == other.Column
        && Binning == other.Binning
        && MissingCount == other.MissingCount
        && Mean.Equals(other.Mean)
        && StandardDeviation.Equals(other.StandardDeviation)
        && Min.Equals(other.Min)
        && Max.Equals(other.Max)
        && _edges.AsSpan().SequenceEqual(other._edges)
        && _counts.AsSpan().SequenceEqual(other._counts)
        && _categories.AsSpan().SequenceEqual(other._categories);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Kind, Input, Column, _counts.Length, ReferenceCount);

    private Dictionary<string, int> BuildCategoryIndex()
    {
        var d = new Dictionary<string, int>(_categories.Length, StringComparer.Ordinal);
        for (var i = 0; i < _categories.Length; i++)
        {
            d[_categories[i]] = i;
        }

        return d;
    }

    private Dictionary<long, int> BuildCodeIndex()
    {
        var d = new Dictionary<long, int>(_categories.Length);
        for (var i = 0; i < _categories.Length; i++)
        {
            if (long.TryParse(_categories[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
            {
                d.TryAdd(code, i);
            }
        }

        return d;
    }
}

/// <summary>
/// The reference distributions of a model version's features, built from training data
/// (<see cref="ReferenceProfileBuilder"/>) and stored as JSON next to the model so the profile travels with the version.
/// </summary>
public sealed class ReferenceProfile
{
    /// <summary>The JSON schema version written by <see cref="ToJson"/>.</summary>
    public const int SchemaVersion = 1;

    /// <summary>Creates a profile.</summary>
    /// <param name="features">The features; names must be distinct.</param>
    /// <exception cref="ArgumentException">No features, or two with the same name.</exception>
    public ReferenceProfile(IEnumerable<FeatureProfile> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var list = features.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A reference profile needs at least one feature.", nameof(features));
        }

        var duplicate = list.GroupBy(f => f.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Feature '{duplicate.Key}' appears twice; expected distinct feature names.", nameof(features));
        }

        Features = new ReadOnlyCollection<FeatureProfile>(list);
    }

    /// <summary>The features.</summary>
    public IReadOnlyList<FeatureProfile> Features { get; }

    /// <summary>The feature called <paramref name="name"/>, or <see langword="null"/>.</summary>
    /// <param name="name">The feature name.</param>
    public FeatureProfile? Find(string name) => Features.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));

    /// <summary>Serialises the profile to JSON (schema <see cref="SchemaVersion"/>).</summary>
    public string ToJson() => ReferenceProfileJson.Write(this);

    /// <summary>Reads a profile written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="FormatException">The text is not a valid profile; the message names what is wrong.</exception>
    public static ReferenceProfile FromJson(string json) => ReferenceProfileJson.Read(json);

    /// <summary>Writes the profile to <paramref name="path"/> atomically (temporary file, flush, rename).</summary>
    /// <param name="path">The file path.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task SaveAsync(string path, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, ToJson(), cancellationToken);

    /// <summary>Reads a profile from <paramref name="path"/>.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="FormatException">The file is not a valid profile.</exception>
    public static async Task<ReferenceProfile> LoadAsync(string path, CancellationToken cancellationToken = default) =>
        FromJson(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
}

/// <summary>Settings for building a reference profile.</summary>
public sealed class ReferenceProfileOptions
{
    /// <summary>The number of bins requested per numeric feature (default 10). Quantile bins collapse where the reference has ties
    /// (a constant feature gets two bins); the profile's <see cref="FeatureProfile.BinCount"/> always says how many there are.</summary>
    public int BinCount { get; set; } = 10;

    /// <summary>How edges are chosen (default <see cref="BinningMethod.Quantile"/>).</summary>
    public BinningMethod Binning { get; set; } = BinningMethod.Quantile;

    /// <summary>
    /// A numeric feature with at most this many distinct reference values gets <see cref="BinningMethod.PerValue"/> bins
    /// whatever <see cref="Binning"/> says (default 20, as Evidently; 0 turns it off). Quantile edges of a 0/1 flag or a
    /// constant collapse into bins that cannot see the feature change.
    /// </summary>
    public int PerValueThreshold { get; set; } = 20;
}

/// <summary>Builds reference profiles from training data.</summary>
public static class ReferenceProfileBuilder
{
    /// <summary>
    /// Profiles one numeric feature. NaN values are counted as missing and take no part in edges or counts. Quantile
    /// edges are the reference quantiles at i/B, i = 1…B−1 (linear interpolation, NumPy's default), with duplicates
    /// removed; equal-width edges split [min, max] into B equal parts.
    /// </summary>
    /// <param name="name">The feature name.</param>
    /// <param name="values">The reference values.</param>
    /// <param name="options">Bin settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">No non-NaN value, or an infinite value (edges must be finite).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The bin count is below 2 or above 1000.</exception>
    public static FeatureProfile Numeric(string name, ReadOnlySpan<double> values, ReferenceProfileOptions? options = null)
    {
        options ??= new ReferenceProfileOptions();
        if (options.BinCount is < 2 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BinCount, $"ReferenceProfileOptions.BinCount is {options.BinCount}; expected 2 to 1000.");
        }

        var sorted = DriftStatistics.SortedWithoutNaN(values, nameof(values));
        if (!double.IsFinite(sorted[0]) || !double.IsFinite(sorted[^1]))
        {
            throw new ArgumentException($"Feature '{name}' has an infinite reference value; expected finite values (NaN is allowed and counted as missing).", nameof(values));
        }

        if (options.PerValueThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PerValueThreshold, $"ReferenceProfileOptions.PerValueThreshold is {options.PerValueThreshold}; expected 0 (off) or more.");
        }

        var binning = options.Binning;
        var edges = new List<double>(options.BinCount - 1);
        if (binning == BinningMethod.PerValue || CountDistinct(sorted, options.PerValueThreshold + 1) <= options.PerValueThreshold)
        {
            binning = BinningMethod.PerValue;
            PerValueEdges(sorted, edges);
        }

        for (var i = 1; binning != BinningMethod.PerValue && i < options.BinCount; i++)
        {
            var q = (double)i / options.BinCount;
            var e = binning == BinningMethod.Quantile
                ? Quantile(sorted, q)
                : sorted[0] + ((sorted[^1] - sorted[0]) * q);
            if (edges.Count == 0 || e > edges[^1])
            {
                edges.Add(e);
            }
        }

        if (edges.Count == 0)
        {
            edges.Add(sorted[0]);
        }

        var counts = new long[edges.Count + 1];
        BinCounter.Count(sorted, edges.ToArray(), counts);
        return FeatureProfile.CreateNumeric(name, edges, counts) with
        {
            Binning = binning,
            MissingCount = values.Length - sorted.Length,
            Mean = Mean(sorted),
            StandardDeviation = DriftStatistics.PopulationStandardDeviation(sorted),
            Min = sorted[0],
            Max = sorted[^1],
        };
    }

    /// <summary>Profiles one categorical feature: each distinct value is a category (ordinal order), plus the unseen bucket.</summary>
    /// <param name="name">The feature name.</param>
    /// <param name="values">The reference values; nulls are counted as missing.</param>
    /// <exception cref="ArgumentException">No non-null value.</exception>
    public static FeatureProfile Categorical(string name, IEnumerable<string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long missing = 0;
        foreach (var v in values)
        {
            if (v is null)
            {
                missing++;
                continue;
            }

            counts[v] = counts.GetValueOrDefault(v) + 1;
        }

        if (counts.Count == 0)
        {
            throw new ArgumentException($"Feature '{name}' has no non-null reference value; expected at least one.", nameof(values));
        }

        return FeatureProfile.CreateCategorical(name, counts.Keys, counts.Values) with { MissingCount = missing };
    }

    /// <summary>
    /// Profiles every column of a row-major float matrix (the layout of a model input of shape [rows, columns]).
    /// Feature i reads column i of <paramref name="input"/>.
    /// </summary>
    /// <param name="matrix">The reference rows, row-major.</param>
    /// <param name="columns">The number of columns.</param>
    /// <param name="featureNames">One name per column; <see langword="null"/> names them <c>{input}_{i}</c>.</param>
    /// <param name="input">The model input name the features are read from.</param>
    /// <param name="options">Bin settings.</param>
    /// <exception cref="ArgumentException">The matrix length is not a multiple of the columns, or the names do not match the columns.</exception>
    public static ReferenceProfile FromMatrix(ReadOnlySpan<float> matrix, int columns, IReadOnlyList<string>? featureNames, string input, ReferenceProfileOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        if (matrix.Length == 0 || matrix.Length % columns != 0)
        {
            throw new ArgumentException($"The matrix has {matrix.Length} values; expected a non-zero multiple of {columns} columns.", nameof(matrix));
        }

        if (featureNames is not null && featureNames.Count != columns)
        {
            throw new ArgumentException($"{featureNames.Count} feature names were given for {columns} columns; expected one per column.", nameof(featureNames));
        }

        var rows = matrix.Length / columns;
        var column = new double[rows];
        var features = new List<FeatureProfile>(columns);
        for (var c = 0; c < columns; c++)
        {
            for (var r = 0; r < rows; r++)
            {
                column[r] = matrix[(r * columns) + c];
            }

            var name = featureNames?[c] ?? string.Create(CultureInfo.InvariantCulture, $"{input}_{c}");
            features.Add(Numeric(name, column, options) with { Input = input, Column = c });
        }

        return new ReferenceProfile(features);
    }

    /// <summary>The q-quantile of sorted values with linear interpolation (NumPy's default, Hyndman–Fan type 7).</summary>
    internal static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        var h = (sorted.Length - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }

    /// <summary>The number of distinct values of a sorted span, counting stops at <paramref name="stopAt"/>.</summary>
    private static int CountDistinct(ReadOnlySpan<double> sorted, int stopAt)
    {
        var distinct = 1;
        for (var i = 1; i < sorted.Length && distinct < stopAt; i++)
        {
            if (sorted[i] != sorted[i - 1])
            {
                distinct++;
            }
        }

        return distinct;
    }

    /// <summary>Edges v, next(v) for each distinct value v: bin [v, next(v)) holds v alone, the bins between hold "other" values.</summary>
    private static void PerValueEdges(ReadOnlySpan<double> sorted, List<double> edges)
    {
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i] == sorted[i - 1])
            {
                continue;
            }

            var v = sorted[i];
            if (edges.Count == 0 || v > edges[^1])
            {
                edges.Add(v);
            }

            var next = Math.BitIncrement(v);
            if (double.IsFinite(next))
            {
                edges.Add(next);
            }
        }
    }

    private static double Mean(ReadOnlySpan<double> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }
}
