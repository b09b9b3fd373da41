using System.Globalization;
using AiOps.Registry;

namespace AiOps.Release.Registry;

/// <summary>
/// The serving runtime's side of registry admission: loads a model file exactly as it would be served (same runtime,
/// same execution providers), runs its warm-up, and reports what it ran on. AiOps.Release does not reference a runtime;
/// the host implements this over the one it serves with (for AiOps.Inference: <c>OnnxModelRunner.CreateAsync</c>, then
/// its <c>Metadata</c>, <c>ExecutionProvider</c> and <c>Status</c>, and <c>OrtEnv.Instance().GetVersionString()</c>).
/// </summary>
public interface IModelAdmissionRuntime
{
    /// <summary>Loads <paramref name="filePath"/> on the serving runtime, warms it up and unloads it again.</summary>
    /// <param name="key">The version being admitted.</param>
    /// <param name="filePath">The model file (full path).</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>What the model declares and what it ran on.</returns>
    /// <exception cref="Exception">Any failure to load or warm up: the version is then not admitted, with this message as the reason.</exception>
    ValueTask<ModelAdmissionProbe> ProbeAsync(ModelKey key, string filePath, CancellationToken cancellationToken = default);
}

/// <summary>What a model version showed when loaded and warmed up on the serving runtime.</summary>
/// <param name="Metadata">Its signature (inputs and outputs) as the runtime loaded it.</param>
/// <param name="RuntimeVersion">The runtime and version it was loaded on, e.g. <c>onnxruntime 1.32.0</c>.</param>
/// <param name="ExecutionProvider">The execution provider its warm-up ran on, e.g. <c>CUDA</c> or <c>CPU</c>.</param>
public sealed record ModelAdmissionProbe(ModelMetadata Metadata, string RuntimeVersion, string ExecutionProvider)
{
    /// <summary>The model's operator-set version (the default ONNX domain), when the runtime reports it.</summary>
    public long? Opset { get; init; }
}

/// <summary>A model version failed admission and was not registered: it did not load or warm up on the serving runtime, or its signature breaks the model's contract.</summary>
public sealed class ModelAdmissionException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which version, on what, and why it was refused.</param>
    /// <param name="innerException">The runtime's error, if any.</param>
    public ModelAdmissionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>The signature comparison, when the version loaded but its signature is not compatible with the contract.</summary>
    public SignatureCompatibility? Compatibility { get; init; }
}

/// <summary>Registers model versions only once they load, warm up and keep the model's contract on the serving runtime.</summary>
public static class ModelAdmissionExtensions
{
    /// <summary>Metadata key: <c>passed</c> on every admitted version.</summary>
    public const string StatusKey = "admission.status";

    /// <summary>Metadata key: the runtime and version the version passed on.</summary>
    public const string RuntimeVersionKey = "admission.runtime_version";

    /// <summary>Metadata key: the execution provider its warm-up ran on.</summary>
    public const string ExecutionProviderKey = "admission.execution_provider";

    /// <summary>Metadata key: its operator-set version, when known.</summary>
    public const string OpsetKey = "admission.opset";

    /// <summary>Metadata key: what its signature was checked against (<c>fraud:1</c> for the stable version, <c>contract</c> for a given one, <c>none</c> for a first version).</summary>
    public const string ContractKey = "admission.contract";

    /// <summary>Metadata key: its signature, as inputs and outputs.</summary>
    public const string SignatureKey = "admission.signature";

    /// <summary>
    /// Admits and registers a model file: hashes it, loads it on the serving runtime and runs its warm-up
    /// (<paramref name="runtime"/>), checks its signature against the model's contract with
    /// <see cref="ModelMetadata.CheckReplacement(ModelMetadata)"/>, then registers it with the runtime version,
    /// operator set and execution provider it passed on (metadata keys of this class). A version that fails any step is
    /// not registered.
    /// </summary>
    /// <param name="registry">The registry.</param>
    /// <param name="runtime">The serving runtime.</param>
    /// <param name="key">The model version.</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="createdAt">When the version is registered (take it from the application's <see cref="TimeProvider"/>).</param>
    /// <param name="contract">
    /// The signature the version must be able to replace; when <see langword="null"/>, that of the version the
    /// <c>stable</c> alias points at, loaded on the same runtime (no check for a model's first version).
    /// </param>
    /// <param name="configure">Adds metrics, tags, dataset and metadata to the record.</param>
    /// <param name="cancellationToken">Cancels the work; nothing is registered.</param>
    /// <returns>The registered version.</returns>
    /// <exception cref="ModelAdmissionException">The version did not load or warm up, its file changed during admission, or its signature breaks the contract.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static async ValueTask<ModelVersionInfo> RegisterAdmittedFileAsync(
        this IModelRegistry registry,
        IModelAdmissionRuntime runtime,
        ModelKey key,
        string filePath,
        DateTimeOffset createdAt,
        ModelMetadata? contract = null,
        Func<ModelVersionInfo, ModelVersionInfo>? configure = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        var full = Path.GetFullPath(filePath);
        var sha = await ModelRegistryExtensions.ComputeSha256Async(full, cancellationToken).ConfigureAwait(false);
        var probe = await ProbeAsync(runtime, key, full, "", cancellationToken).ConfigureAwait(false);

        string checkedAgainst;
        if (contract is not null)
        {
            checkedAgainst = "contract";
        }
        else if (await StableAsync(registry, key, cancellationToken).ConfigureAwait(false) is { } stable)
        {
            checkedAgainst = stable.Key.ToString();
            contract = (await ProbeAsync(runtime, stable.Key, stable.FilePath, $" (the stable version, whose signature is {key}'s contract)", cancellationToken)
                .ConfigureAwait(false)).Metadata;
        }
        else
        {
            checkedAgainst = "none";
        }

        if (contract is not null)
        {
            var compatibility = contract.CheckReplacement(probe.Metadata);
            if (!compatibility.IsCompatible)
            {
                throw new ModelAdmissionException(
                    $"Model version {key} ('{full}') was not registered: its signature cannot replace {checkedAgainst}'s: {compatibility}.")
                {
                    Key = key,
                    Compatibility = compatibility,
                };
            }
        }

        // The hash recorded must be that of the file that passed.
        var after = await ModelRegistryExtensions.ComputeSha256Async(full, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(after, sha, StringComparison.Ordinal))
        {
            throw new ModelAdmissionException(
                $"Model version {key} ('{full}') was not registered: the file changed during admission (SHA-256 {sha} before, {after} after); register it again once it is written.")
            { Key = key };
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [StatusKey] = "passed",
            [RuntimeVersionKey] = probe.RuntimeVersion,
            [ExecutionProviderKey] = probe.ExecutionProvider,
            [ContractKey] = checkedAgainst,
            [SignatureKey] = $"inputs [{string.Join(", ", probe.Metadata.Inputs)}] outputs [{string.Join(", ", probe.Metadata.Outputs)}]",
        };
        if (probe.Opset is { } opset)
        {
            metadata[OpsetKey] = opset.ToString(CultureInfo.InvariantCulture);
        }

        var info = new ModelVersionInfo(key, full, sha, createdAt) { Metadata = metadata };
        if (configure is not null)
        {
            var configured = configure(info);
            var merged = new Dictionary<string, string>(configured.Metadata, StringComparer.Ordinal);
            foreach (var (k, v) in metadata)
            {
                merged[k] = v; // what admission observed is not the caller's to overwrite
            }

            info = configured with { Key = key, FilePath = full, Sha256 = sha, Metadata = merged };
        }

        await registry.RegisterAsync(info, cancellationToken).ConfigureAwait(false);
        return info;
    }

    private static async ValueTask<ModelAdmissionProbe> ProbeAsync(IModelAdmissionRuntime runtime, ModelKey key, string path, string role, CancellationToken cancellationToken)
    {
        try
        {
            return await runtime.ProbeAsync(key, path, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("the runtime returned no probe");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ModelAdmissionException(
                $"Model version {key}{role} ('{path}') failed to load or warm up on the serving runtime, so it was not admitted: {ex.Message}", ex)
            { Key = key };
        }
    }

    private static async ValueTask<ModelVersionInfo?> StableAsync(IModelRegistry registry, ModelKey key, CancellationToken cancellationToken)
    {
        ModelVersion? stable;
        try
        {
            stable = await registry.ResolveAliasAsync(key.Model, "stable", cancellationToken).ConfigureAwait(false);
        }
        catch (ModelRegistryCorruptException ex)
        {
            throw new ModelAdmissionException(
                $"Model version {key} was not registered: its contract (the stable version's signature) cannot be found because {ex.Message} Pass the contract explicitly.", ex)
            { Key = key };
        }

        if (stable is not { } version || version == key.Version)
        {
            return null;
        }

        return await registry.GetAsync(new ModelKey(key.Model, version), cancellationToken).ConfigureAwait(false)
            ?? throw new ModelAdmissionException(
                $"Model version {key} was not registered: the stable alias points at {key.Model}:{version}, which is not registered, so its contract cannot be checked. Pass the contract explicitly.")
            { Key = key };
    }
}
