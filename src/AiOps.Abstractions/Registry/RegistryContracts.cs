namespace AiOps.Registry;

/// <summary>A registered model version: the file, its hash, and what is known about how it was made.</summary>
/// <param name="Key">The model version.</param>
/// <param name="FilePath">Where the model file is.</param>
/// <param name="Sha256">The file's SHA-256, lower-case hex.</param>
/// <param name="CreatedAt">When the version was registered.</param>
public sealed record ModelVersionInfo(ModelKey Key, string FilePath, string Sha256, DateTimeOffset CreatedAt)
{
    /// <summary>Offline metrics (accuracy, AUC, …) recorded at registration.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Tags such as <c>champion</c> or <c>fraud-team</c>.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The dataset version the model was trained on, if known.</summary>
    public Validation.DatasetVersionRef? Dataset { get; init; }

    /// <summary>Free-form metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>Versions of models with aliases (<c>stable</c>, <c>canary</c>, <c>previous</c>, any name).</summary>
public interface IModelRegistry
{
    /// <summary>Registers a version. Fails when the version already exists.</summary>
    /// <param name="info">The version to register.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    ValueTask RegisterAsync(ModelVersionInfo info, CancellationToken cancellationToken = default);

    /// <summary>Returns a version, or <see langword="null"/> when it is not registered.</summary>
    /// <param name="key">The model version.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<ModelVersionInfo?> GetAsync(ModelKey key, CancellationToken cancellationToken = default);

    /// <summary>Lists the versions of a model, oldest first.</summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<ModelVersionInfo>> ListAsync(ModelId model, CancellationToken cancellationToken = default);

    /// <summary>Points an alias at a version.</summary>
    /// <param name="model">The model.</param>
    /// <param name="aliasName">The alias, e.g. <c>stable</c>.</param>
    /// <param name="version">The version; it must be registered.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    ValueTask SetAliasAsync(ModelId model, string aliasName, ModelVersion version, CancellationToken cancellationToken = default);

    /// <summary>Resolves an alias, or returns <see langword="null"/> when it is not set.</summary>
    /// <param name="model">The model.</param>
    /// <param name="aliasName">The alias.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<ModelVersion?> ResolveAliasAsync(ModelId model, string aliasName, CancellationToken cancellationToken = default);

    /// <summary>Removes an alias (e.g. <c>canary</c> after a rollback).</summary>
    /// <param name="model">The model.</param>
    /// <param name="aliasName">The alias.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether the alias was set.</returns>
    ValueTask<bool> RemoveAliasAsync(ModelId model, string aliasName, CancellationToken cancellationToken = default);

    /// <summary>Returns every alias of a model and the version it points at.</summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyDictionary<string, ModelVersion>> GetAliasesAsync(ModelId model, CancellationToken cancellationToken = default);
}
