namespace AiOps;

/// <summary>One version of one model: the unit that is loaded, served, monitored and rolled out.</summary>
/// <param name="Model">The model name.</param>
/// <param name="Version">The model version.</param>
/// <remarks>Keys order by model name, then by version (see <see cref="ModelVersion.CompareTo"/>).</remarks>
public readonly record struct ModelKey(ModelId Model, ModelVersion Version) : IComparable<ModelKey>
{
    /// <summary>Formats the key as <c>model:version</c>, e.g. <c>fraud:2</c>.</summary>
    public override string ToString() => $"{Model}:{Version}";

    /// <inheritdoc />
    public int CompareTo(ModelKey other)
    {
        var byModel = Model.CompareTo(other.Model);
        return byModel != 0 ? byModel : Version.CompareTo(other.Version);
    }

    /// <summary>Compares two keys.</summary>
    public static bool operator <(ModelKey left, ModelKey right) => left.CompareTo(right) < 0;

    /// <summary>Compares two keys.</summary>
    public static bool operator >(ModelKey left, ModelKey right) => left.CompareTo(right) > 0;

    /// <summary>Compares two keys.</summary>
    public static bool operator <=(ModelKey left, ModelKey right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two keys.</summary>
    public static bool operator >=(ModelKey left, ModelKey right) => left.CompareTo(right) >= 0;
}
