using System.Security.Cryptography;
using AiOps.Registry;

namespace AiOps.Release.Registry;

/// <summary>Helpers over <see cref="IModelRegistry"/>: register a model file with its hash, verify a file against the registry.</summary>
public static class ModelRegistryExtensions
{
    /// <summary>Computes the SHA-256 of a file as lower-case hex.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    internal static async ValueTask<string> ComputeSha256Async(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(hash);
        }
    }

    /// <summary>Registers a model file: computes its SHA-256 and records the version with the given creation time.</summary>
    /// <param name="registry">The registry.</param>
    /// <param name="key">The model version.</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="createdAt">When the version is registered (take it from the application's <see cref="TimeProvider"/>).</param>
    /// <param name="configure">Adds metrics, tags, dataset and metadata to the record.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The registered version.</returns>
    public static async ValueTask<ModelVersionInfo> RegisterFileAsync(
        this IModelRegistry registry,
        ModelKey key,
        string filePath,
        DateTimeOffset createdAt,
        Func<ModelVersionInfo, ModelVersionInfo>? configure = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var full = Path.GetFullPath(filePath);
        var sha = await ComputeSha256Async(full, cancellationToken).ConfigureAwait(false);
        var info = new ModelVersionInfo(key, full, sha, createdAt);
        if (configure is not null)
        {
            info = configure(info);
        }

        await registry.RegisterAsync(info, cancellationToken).ConfigureAwait(false);
        return info;
    }

    /// <summary>Checks that a registered version's file still has the recorded SHA-256.</summary>
    /// <param name="registry">The registry.</param>
    /// <param name="key">The model version.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns><see langword="null"/> when the file matches; otherwise why not.</returns>
    /// <exception cref="ModelNotFoundException">The version is not registered.</exception>
    public static async ValueTask<string?> VerifyFileAsync(this IModelRegistry registry, ModelKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var info = await registry.GetAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new ModelNotFoundException($"Model version {key} is not registered.") { Key = key };
        if (!File.Exists(info.FilePath))
        {
            return $"The file of {key} is missing: expected '{info.FilePath}'.";
        }

        var actual = await ComputeSha256Async(info.FilePath, cancellationToken).ConfigureAwait(false);
        return string.Equals(actual, info.Sha256, StringComparison.Ordinal)
            ? null
            : $"The file of {key} ('{info.FilePath}') has SHA-256 {actual}; the registry recorded {info.Sha256}.";
    }
}
