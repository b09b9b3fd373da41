using System.Text.Json;
using AiOps.Registry;
using AiOps.Release.Internal;
using AiOps.Release.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AiOps.Release.Registry;

/// <summary>
/// The embedded model registry: <c>{root}/{model}/versions/{version}.json</c> per version and
/// <c>{root}/{model}/aliases.json</c>, each written atomically under a per-model lock file so several writers
/// (threads or processes) never lose an update. Model names and versions are validated by <see cref="ModelId"/> and
/// <see cref="ModelVersion"/>, whose alphabets rule out path traversal; alias names are checked here.
/// A file that cannot be used (truncated JSON, a value of the wrong form, a version file declaring another key than its
/// name) raises <see cref="ModelRegistryCorruptException"/> from the call that needs it, is skipped (and logged) by
/// <see cref="ListAsync"/>, and is reported by <see cref="ScanAsync"/> (the health check).
/// </summary>
internal sealed partial class FileModelRegistry : IModelRegistry
{
    private static readonly System.Buffers.SearchValues<char> s_lowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private readonly string _root;
    private readonly ILogger _logger;
    private readonly UnixFileMode? _fileMode;

    /// <summary>Creates the registry.</summary>
    /// <param name="root">Its folder.</param>
    /// <param name="logger">Where skipped files are reported.</param>
    /// <param name="ownerOnlyPermissions">On Unix, write its files 0600 in 0700 folders (those it creates); otherwise the umask's.</param>
    public FileModelRegistry(string root, ILogger<FileModelRegistry>? logger = null, bool ownerOnlyPermissions = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _fileMode = ownerOnlyPermissions ? AtomicFile.OwnerOnlyFile : null;
    }

    public string Root => _root;

    public async ValueTask RegisterAsync(ModelVersionInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        Validate(info);
        PrepareModelDir(info.Key.Model);
        var fileLock = await FileLock.AcquireAsync(LockPath(info.Key.Model), cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            var path = VersionPath(info.Key);
            if (File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"Model version {info.Key} is already registered; versions are immutable, register a new version instead.");
            }

            await AtomicFile.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(info, ReleaseJson.Options), _fileMode, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<ModelVersionInfo?> GetAsync(ModelKey key, CancellationToken cancellationToken = default) =>
        await ReadVersionAsync(VersionPath(key), key, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<ModelVersionInfo>> ListAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        var dir = Path.Combine(ModelDir(model), "versions");
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var list = new List<ModelVersionInfo>();
        foreach (var file in Directory.EnumerateFiles(dir, "*.json"))
        {
            try
            {
                if (ExpectedKey(model, file) is { } expected
                    && await ReadVersionAsync(file, expected, cancellationToken).ConfigureAwait(false) is { } info)
                {
                    list.Add(info);
                }
            }
            catch (ModelRegistryCorruptException ex)
            {
                // One bad file must not hide every other version of the model: skip it, say so (and the health check reports it).
                LogSkipped(_logger, ex.FilePath, ex.Message);
            }
        }

        list.Sort(static (a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : a.Key.Version.CompareTo(b.Key.Version));
        return list;
    }

    public async ValueTask SetAliasAsync(ModelId model, string aliasName, ModelVersion version, CancellationToken cancellationToken = default)
    {
        ValidateAlias(aliasName);
        PrepareModelDir(model);
        var fileLock = await FileLock.AcquireAsync(LockPath(model), cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            if (!File.Exists(VersionPath(new ModelKey(model, version))))
            {
                throw new ModelNotFoundException(
                    $"Cannot point alias '{aliasName}' of {model} at version {version}: that version is not registered.") { Key = new ModelKey(model, version) };
            }

            var aliases = await ReadAliasesAsync(model, cancellationToken).ConfigureAwait(false);
            aliases[aliasName] = version.Value;
            await WriteAliasesAsync(model, aliases, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<ModelVersion?> ResolveAliasAsync(ModelId model, string aliasName, CancellationToken cancellationToken = default)
    {
        ValidateAlias(aliasName);
        var aliases = await ReadAliasesAsync(model, cancellationToken).ConfigureAwait(false);
        return aliases.TryGetValue(aliasName, out var v) ? new ModelVersion(v) : (ModelVersion?)null;
    }

    public async ValueTask<bool> RemoveAliasAsync(ModelId model, string aliasName, CancellationToken cancellationToken = default)
    {
        ValidateAlias(aliasName);
        var fileLock = await FileLock.AcquireAsync(LockPath(model), cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            var aliases = await ReadAliasesAsync(model, cancellationToken).ConfigureAwait(false);
            if (!aliases.Remove(aliasName))
            {
                return false;
            }

            await WriteAliasesAsync(model, aliases, cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    public async ValueTask<IReadOnlyDictionary<string, ModelVersion>> GetAliasesAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        var aliases = await ReadAliasesAsync(model, cancellationToken).ConfigureAwait(false);
        return aliases.ToDictionary(p => p.Key, p => new ModelVersion(p.Value), StringComparer.Ordinal);
    }

    internal static void ValidateAlias(string aliasName)
    {
        if (!ModelId.IsValid(aliasName, out _))
        {
            throw new ArgumentException(
                $"Alias '{aliasName}' is not valid: expected 1 to 64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit (e.g. 'stable').",
                nameof(aliasName));
        }
    }

    private static void Validate(ModelVersionInfo info)
    {
        if (string.IsNullOrWhiteSpace(info.FilePath))
        {
            throw new ArgumentException($"Model version {info.Key} needs a file path.", nameof(info));
        }

        if (info.Sha256 is not { Length: 64 } || info.Sha256.AsSpan().ContainsAnyExcept(s_lowerHex))
        {
            throw new ArgumentException(
                $"Model version {info.Key} has SHA-256 '{info.Sha256}'; expected 64 lower-case hex characters.", nameof(info));
        }
    }

    /// <summary>Reads every aliases and version file of every model; returns the ones that cannot be used.</summary>
    /// <param name="cancellationToken">Cancels the scan.</param>
    public async ValueTask<IReadOnlyList<ModelRegistryCorruptException>> ScanAsync(CancellationToken cancellationToken = default)
    {
        var problems = new List<ModelRegistryCorruptException>();
        if (!Directory.Exists(_root))
        {
            return problems;
        }

        foreach (var modelDir in Directory.EnumerateDirectories(_root))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ModelId.IsValid(Path.GetFileName(modelDir), out _))
            {
                continue;
            }

            var model = new ModelId(Path.GetFileName(modelDir));
            try
            {
                await ReadAliasesAsync(model, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelRegistryCorruptException ex)
            {
                problems.Add(ex);
            }

            var versions = Path.Combine(modelDir, "versions");
            if (!Directory.Exists(versions))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(versions, "*.json"))
            {
                try
                {
                    if (ExpectedKey(model, file) is { } expected)
                    {
                        await ReadVersionAsync(file, expected, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        problems.Add(new ModelRegistryCorruptException(
                            file, $"Registry file '{file}' is not named after a valid version: expected '<version>.json', e.g. '2.1.json'."));
                    }
                }
                catch (ModelRegistryCorruptException ex)
                {
                    problems.Add(ex);
                }
            }
        }

        return problems;
    }

    /// <summary>The key a version file's name declares, or <see langword="null"/> when the name is not a version.</summary>
    private static ModelKey? ExpectedKey(ModelId model, string file)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        return ModelVersion.IsValid(name, out _) ? new ModelKey(model, new ModelVersion(name)) : null;
    }

    /// <summary>Reads a version file and checks that it declares the key its path says.</summary>
    private static async ValueTask<ModelVersionInfo?> ReadVersionAsync(string path, ModelKey expected, CancellationToken cancellationToken)
    {
        ModelVersionInfo? info;
        try
        {
            info = await ReleaseJson.ReadFileAsync<ModelVersionInfo>(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or FormatException or NotSupportedException)
        {
            throw new ModelRegistryCorruptException(
                path,
                $"Registry file '{path}' of {expected} cannot be read ({ex.Message}); expected the JSON record of a model version. Restore it from a backup or re-register the version.",
                ex);
        }

        if (info is null)
        {
            return null;
        }

        if (info.Key != expected)
        {
            throw new ModelRegistryCorruptException(
                path,
                $"Registry file '{path}' is named for {expected} but declares {info.Key}; a version file must declare the key of its name, so it is refused.");
        }

        return info;
    }

    private string ModelDir(ModelId model) => Path.Combine(_root, model.Value);

    /// <summary>Creates the model's folders before the lock file does, so they get the registry's permissions.</summary>
    private void PrepareModelDir(ModelId model) =>
        AtomicFileSystem.Default.CreateDirectory(Path.Combine(ModelDir(model), "versions"), _fileMode is { } m ? AtomicFile.DirectoryModeFor(m) : null);

    private string VersionPath(ModelKey key) => Path.Combine(ModelDir(key.Model), "versions", key.Version.Value + ".json");

    private string LockPath(ModelId model) => Path.Combine(ModelDir(model), ".lock");

    private string AliasesPath(ModelId model) => Path.Combine(ModelDir(model), "aliases.json");

    private async Task<SortedDictionary<string, string>> ReadAliasesAsync(ModelId model, CancellationToken cancellationToken)
    {
        var path = AliasesPath(model);
        SortedDictionary<string, string>? aliases;
        try
        {
            aliases = await ReleaseJson.ReadFileAsync<SortedDictionary<string, string>>(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw new ModelRegistryCorruptException(
                path,
                $"Registry file '{path}' (the aliases of {model}) cannot be read ({ex.Message}); expected a JSON object of alias to version, e.g. {{\"stable\":\"1\"}}. " +
                "Aliases cannot be read or changed until it is repaired or deleted.",
                ex);
        }

        if (aliases is null)
        {
            return new SortedDictionary<string, string>(StringComparer.Ordinal);
        }

        foreach (var (alias, version) in aliases)
        {
            if (!ModelId.IsValid(alias, out _) || !ModelVersion.IsValid(version, out _))
            {
                throw new ModelRegistryCorruptException(
                    path,
                    $"Registry file '{path}' (the aliases of {model}) maps '{alias}' to '{version}'; expected an alias name and a model version. " +
                    "Aliases cannot be read or changed until it is repaired or deleted.");
            }
        }

        return aliases;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry file '{Path}' is skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string path, string reason);

    private Task WriteAliasesAsync(ModelId model, SortedDictionary<string, string> aliases, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllBytesAsync(AliasesPath(model), JsonSerializer.SerializeToUtf8Bytes(aliases, ReleaseJson.Options), _fileMode, cancellationToken);
}
