using System.Text.Json;
using AiOps.Release.Internal;
using AiOps.State;

namespace AiOps.Release.State;

/// <summary>
/// The embedded rollout state store: one JSON file per model (<c>{model}.rollout.json</c>), written atomically under
/// a lock file, with the lease in <c>{model}.lease.json</c>. Several processes on one machine (or one shared volume)
/// may use the same folder; routers in other processes see changes through polling.
/// </summary>
internal sealed class FileRolloutStateStore : IRolloutStateStore
{
    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly UnixFileMode? _fileMode;

    /// <param name="directory">The store's folder.</param>
    /// <param name="time">The clock of leases.</param>
    /// <param name="ownerOnlyPermissions">On Unix, state, lease and lock files 0600 and the folder 0700.</param>
    public FileRolloutStateStore(string directory, TimeProvider time, bool ownerOnlyPermissions = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _directory = Path.GetFullPath(directory);
        _time = time;
        _fileMode = ownerOnlyPermissions && !OperatingSystem.IsWindows() ? AtomicFile.OwnerOnlyFile : null;
    }

    public event EventHandler<ModelId>? Changed;

    public string Directory => _directory;

    public async ValueTask<RolloutState?> GetAsync(ModelId model, CancellationToken cancellationToken = default) =>
        await ReleaseJson.ReadFileAsync<RolloutState>(StatePath(model), cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> TrySaveAsync(RolloutState state, long expectedRevision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        var fileLock = await FileLock.AcquireAsync(LockPath(state.Model), _fileMode, cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            var current = await ReleaseJson.ReadFileAsync<RolloutState>(StatePath(state.Model), cancellationToken).ConfigureAwait(false);
            if ((current?.Revision ?? 0) != expectedRevision)
            {
                return false;
            }

            var stored = state with { Revision = expectedRevision + 1 };
            await AtomicFile.WriteAllBytesAsync(StatePath(state.Model), JsonSerializer.SerializeToUtf8Bytes(stored, ReleaseJson.Options), _fileMode, cancellationToken)
                .ConfigureAwait(false);
        }

        Changed?.Invoke(this, state.Model);
        return true;
    }

    public async ValueTask<bool> TryAcquireLeaseAsync(ModelId model, string owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var fileLock = await FileLock.AcquireAsync(LockPath(model), _fileMode, cancellationToken).ConfigureAwait(false);
        await using (fileLock.ConfigureAwait(false))
        {
            var now = _time.GetUtcNow();
            var lease = await ReleaseJson.ReadFileAsync<Lease>(LeasePath(model), cancellationToken).ConfigureAwait(false);
            if (lease is not null && lease.ExpiresAt > now && !string.Equals(lease.Owner, owner, StringComparison.Ordinal))
            {
                return false;
            }

            var renewed = new Lease(owner, now + duration);
            await AtomicFile.WriteAllBytesAsync(LeasePath(model), JsonSerializer.SerializeToUtf8Bytes(renewed, ReleaseJson.Options), _fileMode, cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
    }

    private string StatePath(ModelId model) => Path.Combine(_directory, model.Value + ".rollout.json");

    private string LeasePath(ModelId model) => Path.Combine(_directory, model.Value + ".lease.json");

    private string LockPath(ModelId model) => Path.Combine(_directory, model.Value + ".lock");

    private sealed record Lease(string Owner, DateTimeOffset ExpiresAt);
}
