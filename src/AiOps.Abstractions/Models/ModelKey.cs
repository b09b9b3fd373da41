namespace AiOps;

/// <summary>One version of one model: the unit that is loaded, served, monitored and rolled out.</summary>
/// <param name="Model">The model name.</param>
/// <param name="Version">The model version.</param>
public readonly record struct ModelKey(ModelId Model, ModelVersion Version)
{
    /// <summary>Formats the key as <c>model:version</c>, e.g. <c>fraud:2</c>.</summary>
    public override string ToString() => $"{Model}:{Version}";
}
