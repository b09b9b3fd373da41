using System.Text;
using System.Text.Json;
using AiOps.Registry;
using AiOps.Release.Registry;
using AiOps.Release.State;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using AiOps.Validation;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.State;

/// <summary>
/// The formats AiOps.Release persists (rollout state files, leases, registry files, Redis payloads) stay byte for byte what
/// they were. The fixtures under State/Fixtures were written by the code before the ModelId/ModelVersion JSON converters
/// moved from AiOps.Release onto the types themselves (commit "fixtures written by the old converters").
/// </summary>
public sealed class SerializedFormatTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2024, 8, 1, 12, 30, 15, 250, TimeSpan.Zero);
    private static readonly ModelId Fraud = new("fraud");
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(At);

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "State", "Fixtures", name);

    /// <summary>A state with every field set (a canary, history with figures incl. NaN).</summary>
    internal static RolloutState Progressing() => new(Fraud, new ModelVersion("1"), new ModelVersion("2.1.0-rc1"), RolloutPhase.Progressing, 1, 50, At)
    {
        Revision = 6,
        History =
        [
            new RolloutDecision(At.AddMinutes(-10), RolloutAction.Start, 0, 10, ["start: canary 2.1.0-rc1 at 10 %"]),
            new RolloutDecision(At, RolloutAction.Promote, 1, 50, ["latency: canary p95 120 ms <= 500 ms", "errors: 0.1 % <= 1 %"])
            {
                Figures = new Dictionary<string, double> { ["canary_p95_ms"] = 120.5, ["mw_p"] = 0.25, ["nan"] = double.NaN },
            },
        ],
    };

    /// <summary>A state without a canary (the nullable version is null).</summary>
    internal static RolloutState Stable() => new(Fraud, new ModelVersion("3"), null, RolloutPhase.Promoted, -1, 0, At) { Revision = 2 };

    internal static ModelVersionInfo Registered() => new(new ModelKey(Fraud, new ModelVersion("2.1.0-rc1")), "/models/fraud-2.onnx", new string('a', 64), At)
    {
        Metrics = new Dictionary<string, double> { ["auc"] = 0.91 },
        Tags = ["candidate"],
        Dataset = new DatasetVersionRef("transactions", "0123456789abcdef", "2024-08"),
        Metadata = new Dictionary<string, string> { ["owner"] = "risk" },
    };

    /// <summary>Writes the fixtures with the code under test (run with AIOPS_WRITE_FIXTURES=folder to regenerate).</summary>
    [Fact]
    public async Task WriteFixtures_WhenAsked()
    {
        var target = Environment.GetEnvironmentVariable("AIOPS_WRITE_FIXTURES");
        if (string.IsNullOrEmpty(target))
        {
            return;
        }

        Directory.CreateDirectory(target);
        foreach (var (name, bytes) in await WriteAllAsync())
        {
            await File.WriteAllBytesAsync(Path.Combine(target, name), bytes);
        }
    }

    [Fact]
    public async Task EveryFormat_WrittenNow_IsByteForByteTheOldOne()
    {
        foreach (var (name, bytes) in await WriteAllAsync())
        {
            var old = await File.ReadAllBytesAsync(Fixture(name));
            Assert.True(old.AsSpan().SequenceEqual(bytes), $"{name} differs from the fixture:\n{Encoding.UTF8.GetString(bytes)}");
        }
    }

    [Fact]
    public async Task StateFile_WrittenByOldCode_ReadsBackEveryField()
    {
        File.Copy(Fixture("fraud.rollout.json"), Path.Combine(_dir.Path, "fraud.rollout.json"));

        var state = (await new FileRolloutStateStore(_dir.Path, _time).GetAsync(Fraud))!;

        var expected = Progressing();
        Assert.Equal((expected.Model, expected.Stable, expected.Canary, expected.Phase, expected.StepIndex, expected.CanaryWeightPercent, expected.StepStartedAt), (state.Model, state.Stable, state.Canary, state.Phase, state.StepIndex, state.CanaryWeightPercent, state.StepStartedAt));
        Assert.Equal(1, state.Revision); // the store numbers what it writes: expected revision 0 + 1
        Assert.Equal(2, state.History.Count);
        Assert.Equal(120.5, state.History[1].Figures["canary_p95_ms"]);
        Assert.True(double.IsNaN(state.History[1].Figures["nan"]));
    }

    [Fact]
    public async Task RegistryFiles_WrittenByOldCode_ReadBack()
    {
        var root = Path.Combine(_dir.Path, "registry");
        Directory.CreateDirectory(Path.Combine(root, "fraud", "versions"));
        File.Copy(Fixture("registry.version.json"), Path.Combine(root, "fraud", "versions", "2.1.0-rc1.json"));
        File.Copy(Fixture("registry.aliases.json"), Path.Combine(root, "fraud", "aliases.json"));
        var registry = new FileModelRegistry(root);

        var info = (await registry.GetAsync(Registered().Key))!;

        Assert.Equal(Registered().Key, info.Key);
        Assert.Equal(Registered().Dataset, info.Dataset);
        Assert.Equal(new ModelVersion("2.1.0-rc1"), await registry.ResolveAliasAsync(Fraud, "canary"));
    }

    [Fact]
    public void RedisPayload_WrittenByOldCode_ReadsBack()
    {
        var json = File.ReadAllText(Fixture("redis.state.json"));

        var state = JsonSerializer.Deserialize<RolloutState>(json, ReleaseJson.Options)!;

        Assert.Equal((Fraud, new ModelVersion("3"), (ModelVersion?)null), (state.Model, state.Stable, state.Canary));
    }

    /// <summary>Every persisted format, written through the production code paths.</summary>
    private async Task<List<(string Name, byte[] Bytes)>> WriteAllAsync()
    {
        var result = new List<(string, byte[])>();
        var states = Path.Combine(_dir.Path, "out-states");
        var store = new FileRolloutStateStore(states, _time);
        var progressing = Progressing();
        Assert.True(await store.TrySaveAsync(progressing, 0));
        result.Add(("fraud.rollout.json", await File.ReadAllBytesAsync(Path.Combine(states, "fraud.rollout.json"))));
        Assert.True(await store.TryAcquireLeaseAsync(Fraud, "replica-a", TimeSpan.FromSeconds(30)));
        result.Add(("fraud.lease.json", await File.ReadAllBytesAsync(Path.Combine(states, "fraud.lease.json"))));

        var root = Path.Combine(_dir.Path, "out-registry");
        var registry = new FileModelRegistry(root);
        await registry.RegisterAsync(Registered());
        await registry.RegisterAsync(Registered() with { Key = new ModelKey(Fraud, new ModelVersion("1")), Dataset = null });
        await registry.SetAliasAsync(Fraud, "canary", new ModelVersion("2.1.0-rc1"));
        await registry.SetAliasAsync(Fraud, "stable", new ModelVersion("1"));
        result.Add(("registry.version.json", await File.ReadAllBytesAsync(Path.Combine(root, "fraud", "versions", "2.1.0-rc1.json"))));
        result.Add(("registry.aliases.json", await File.ReadAllBytesAsync(Path.Combine(root, "fraud", "aliases.json"))));

        // The Redis store writes JsonSerializer.Serialize(state with { Revision = expected + 1 }, ReleaseJson.Options).
        result.Add(("redis.state.json", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Stable() with { Revision = 3 }, ReleaseJson.Options))));
        result.Add(("redis.progressing.json", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(progressing, ReleaseJson.Options))));
        return result;
    }
}
