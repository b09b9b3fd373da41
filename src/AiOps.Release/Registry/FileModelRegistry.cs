using System.Text.Json;
using AiOps.Registry;
using AiOps.Release.Internal;
using AiOps.Release.State;

namespace AiOps.Release.Registry;

/// <summary>
/// The embedded model registry: <c>{root}/{model}/versions/{version}.json</c> per version and
/// <c>{root}/{model}/aliases.json</c>, each written atomically under a per-model lock file so several writers
/// (threads or processes) never lose an update. Model names and versions are validated by <see cref="ModelId"/> and
/// <see cref="ModelVersion"/>, whose alphabets rule out path traversal; alias names are checked here.
/// </summary>
internal sealed class FileModelRegistry : IModelRegistry
{
    private static readonly System.Buffers.SearchValues<char> s_lowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private readonly string _root;

    public FileModelRegistry(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
    }

    public string Root => _root;

    public async ValueTask RegisterAsync(ModelVersionInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        Validate(info);
        var fileLock = await FileLock.AcquireAsync(LockPath(info.Key.Model), cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            var path = VersionPath(info.Key);
            if (File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"Model version {info.Key} is already registered; versions are immutable, register a new version instead.");
            }

            await AtomicFile.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(info, ReleaseJson.Options), cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<ModelVersionInfo?> GetAsync(ModelKey key, CancellationToken cancellationToken = default) =>
        await ReleaseJson.ReadFileAsync<ModelVersionInfo>(VersionPath(key), cancellationToken).ConfigureAwait(false);

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
            if (await ReleaseJson.ReadFileAsync<ModelVersionInfo>(file, cancellationToken).ConfigureAwait(false) is { } info)
            {
                list.Add(info);
            }
        }

        list.Sort(static (a, b) => a.CreatedAt != b.CreatedAt ? a.CreatedAt.CompareTo(b.CreatedAt) : a.Key.Version.CompareTo(b.Key.Version));
        return list;
    }

    public async ValueTask SetAliasAsync(ModelId model, string aliasName, ModelVersion version, CancellationToken cancellationToken = default)
    {
        ValidateAlias(aliasName);
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

    private string ModelDir(ModelId model) => Path.Combine(_root, model.Value);

    private string VersionPath(ModelKey key) => Path.Combine(ModelDir(key.Model), "versions", key.Version.Value + ".json");

    private string LockPath(ModelId model) => Path.Combine(ModelDir(model), ".lock");

    private string AliasesPath(ModelId model) => Path.Combine(ModelDir(model), "aliases.json");

    private async Task<SortedDictionary<string, string>> ReadAliasesAsync(ModelId model, CancellationToken cancellationToken) =>
        await ReleaseJson.ReadFileAsync<SortedDictionary<string, string>>(AliasesPath(model), cancellationToken).ConfigureAwait(false)
        ?? new SortedDictionary<string, string>(StringComparer.Ordinal);

    private Task WriteAliasesAsync(ModelId model, SortedDictionary<string, string> aliases, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllBytesAsync(AliasesPath(model), JsonSerializer.SerializeToUtf8Bytes(aliases, ReleaseJson.Options), cancellationToken);
}
