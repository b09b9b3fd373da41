using AiOps.Release.State;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.State;

public sealed class FileRolloutStateStoreTests : IDisposable
{
    private static readonly ModelId Fraud = new("fraud");
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 8, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private RolloutState State(double weight) => new(Fraud, "1", "2", RolloutPhase.Progressing, 0, weight, _time.GetUtcNow())
    {
        History =
        [
            new RolloutDecision(_time.GetUtcNow(), RolloutAction.Start, 0, weight, ["start: x"]) { Figures = new Dictionary<string, double> { ["mw_p"] = 0.25, ["nan"] = double.NaN } },
        ],
    };

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Writes_OnUnix_StateLeaseAndLockFilesOwnerOnlyUnlessTurnedOff()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permissions only
        }

        const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var folder = Path.Combine(_dir.Path, "state");
        var store = new FileRolloutStateStore(folder, _time);
        Assert.True(await store.TrySaveAsync(State(10), 0));
        Assert.True(await store.TryAcquireLeaseAsync(Fraud, "replica-a", TimeSpan.FromMinutes(1)));
        Assert.True(await store.TrySaveAsync(State(50), 1)); // a replacement keeps the mode

        var files = Directory.GetFiles(folder);
        Assert.Equal(3, files.Length); // state, lease, lock
        Assert.All(files, f => Assert.Equal(File0600, File.GetUnixFileMode(f)));
        Assert.Equal(File0600 | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));

        // Turned off (processes of several users share the folder): the umask decides, as for any file.
        var shared = Path.Combine(_dir.Path, "shared");
        var probe = Path.Combine(_dir.Path, "probe");
        await File.WriteAllTextAsync(probe, "x");
        Assert.True(await new FileRolloutStateStore(shared, _time, ownerOnlyPermissions: false).TrySaveAsync(State(10), 0));
        Assert.All(Directory.GetFiles(shared), f => Assert.Equal(File.GetUnixFileMode(probe), File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task TrySaveAsync_RoundTrip_KeepsEveryFieldAndIncrementsRevision()
    {
        var store = new FileRolloutStateStore(_dir.Path, _time);
        Assert.True(await store.TrySaveAsync(State(10), 0));

        var read = (await new FileRolloutStateStore(_dir.Path, _time).GetAsync(Fraud))!;

        Assert.Equal(1, read.Revision);
        Assert.Equal((new ModelVersion("1"), (ModelVersion?)new ModelVersion("2"), 10.0), (read.Stable, read.Canary, read.CanaryWeightPercent));
        var d = Assert.Single(read.History);
        Assert.Equal(0.25, d.Figures["mw_p"]);
        Assert.True(double.IsNaN(d.Figures["nan"]));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public async Task TrySaveAsync_StaleRevision_RejectedAndStoredStateKept()
    {
        var a = new FileRolloutStateStore(_dir.Path, _time);
        var b = new FileRolloutStateStore(_dir.Path, _time);
        Assert.True(await a.TrySaveAsync(State(10), 0));
        Assert.True(await a.TrySaveAsync(State(50), 1));

        Assert.False(await b.TrySaveAsync(State(0), 1));
        Assert.Equal(50, (await b.GetAsync(Fraud))!.CanaryWeightPercent);
    }

    [Fact]
    public async Task TrySaveAsync_ConcurrentWritersSameRevision_ExactlyOneWins()
    {
        var stores = Enumerable.Range(0, 8).Select(_ => new FileRolloutStateStore(_dir.Path, _time)).ToArray();
        var results = await Task.WhenAll(stores.Select((s, i) => Task.Run(() => s.TrySaveAsync(State(i + 1), 0).AsTask())));
        Assert.Single(results, r => r);
        Assert.Equal(1, (await stores[0].GetAsync(Fraud))!.Revision);
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_OtherOwner_ExcludedUntilExpiry()
    {
        var store = new FileRolloutStateStore(_dir.Path, _time);
        Assert.True(await store.TryAcquireLeaseAsync(Fraud, "a", TimeSpan.FromMinutes(3)));
        Assert.True(await store.TryAcquireLeaseAsync(Fraud, "a", TimeSpan.FromMinutes(3)));
        Assert.False(await store.TryAcquireLeaseAsync(Fraud, "b", TimeSpan.FromMinutes(3)));

        _time.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(1));
        Assert.True(await store.TryAcquireLeaseAsync(Fraud, "b", TimeSpan.FromMinutes(3)));
        Assert.False(await store.TryAcquireLeaseAsync(Fraud, "a", TimeSpan.FromMinutes(3)));
    }

    [Fact]
    public async Task TrySaveAsync_RaisesChanged()
    {
        var store = new FileRolloutStateStore(_dir.Path, _time);
        ModelId? changed = null;
        store.Changed += (_, m) => changed = m;
        await store.TrySaveAsync(State(10), 0);
        Assert.Equal(Fraud, changed);
    }

    [Fact]
    public async Task GetAsync_NothingWritten_Null() =>
        Assert.Null(await new FileRolloutStateStore(Path.Combine(_dir.Path, "missing"), _time).GetAsync(Fraud));
}
