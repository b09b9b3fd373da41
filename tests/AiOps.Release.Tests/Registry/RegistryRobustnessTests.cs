using AiOps.Registry;
using AiOps.Release.Registry;
using AiOps.Release.Tests.Infrastructure;
using AiOps.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiOps.Release.Tests.Registry;

/// <summary>A corrupt registry file degrades (a specific exception, a Degraded health naming it) instead of breaking every call.</summary>
public sealed class RegistryRobustnessTests : IDisposable
{
    private static readonly ModelId Fraud = new(ReleaseHarness.Model);
    private static readonly DateTimeOffset T0 = new(2024, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Root => Path.Combine(_dir.Path, "registry");

    private string AliasesPath => Path.Combine(Root, "fraud", "aliases.json");

    private string VersionPath(string version) => Path.Combine(Root, "fraud", "versions", version + ".json");

    private static ModelVersionInfo Info(string version) =>
        new(new ModelKey(Fraud, version), "/models/" + version + ".onnx", new string('a', 64), T0);

    private async Task<FileModelRegistry> SeededAsync(params string[] versions)
    {
        var registry = new FileModelRegistry(Root);
        foreach (var v in versions)
        {
            await registry.RegisterAsync(Info(v));
        }

        if (versions.Length > 0)
        {
            await registry.SetAliasAsync(Fraud, "stable", versions[0]);
        }

        return registry;
    }

    private static async Task Truncate(string path)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
    }

    [Fact]
    public async Task ResolveAliasAsync_TruncatedAliasesFile_ThrowsCorruptExceptionNamingTheFile()
    {
        var registry = await SeededAsync("1");
        await Truncate(AliasesPath);

        var ex = await Assert.ThrowsAsync<ModelRegistryCorruptException>(() => registry.ResolveAliasAsync(Fraud, "stable").AsTask());

        Assert.IsAssignableFrom<IOException>(ex);
        Assert.Equal(AliasesPath, ex.FilePath);
        Assert.Contains(AliasesPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected a JSON object", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ModelRegistryCorruptException>(() => registry.SetAliasAsync(Fraud, "canary", "1").AsTask());
    }

    [Fact]
    public async Task ResolveAliasAsync_AliasPointingAtInvalidVersion_ThrowsCorruptException()
    {
        var registry = await SeededAsync("1");
        await File.WriteAllTextAsync(AliasesPath, """{"stable":"../../etc"}""");

        var ex = await Assert.ThrowsAsync<ModelRegistryCorruptException>(() => registry.ResolveAliasAsync(Fraud, "stable").AsTask());

        Assert.Contains("'../../etc'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_OneCorruptAndOneMismatchedVersionFile_OthersListedAndBothReportedByScan()
    {
        var registry = await SeededAsync("1", "2", "3");
        await Truncate(VersionPath("2"));
        File.Copy(VersionPath("1"), VersionPath("4")); // named 4, declares 1

        var listed = await registry.ListAsync(Fraud);
        var problems = await registry.ScanAsync();

        Assert.Equal(["1", "3"], listed.Select(v => v.Key.Version.Value));
        Assert.Equal(
            [VersionPath("2"), VersionPath("4")],
            problems.Select(p => p.FilePath).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetAsync_FileDeclaresAnotherKey_RefusedNamingBoth()
    {
        var registry = await SeededAsync("1");
        File.Copy(VersionPath("1"), VersionPath("4"));

        var ex = await Assert.ThrowsAsync<ModelRegistryCorruptException>(() => registry.GetAsync(new ModelKey(Fraud, "4")).AsTask());

        Assert.Contains("fraud:4", ex.Message, StringComparison.Ordinal);
        Assert.Contains("fraud:1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(VersionPath("4"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_FileInAnotherModelsFolder_Refused()
    {
        var registry = await SeededAsync("1");
        var other = new FileModelRegistry(Root);
        await other.RegisterAsync(new ModelVersionInfo(new ModelKey(new ModelId("churn"), "7"), "/m.onnx", new string('b', 64), T0));
        File.Copy(Path.Combine(Root, "churn", "versions", "7.json"), VersionPath("7"));

        var ex = await Assert.ThrowsAsync<ModelRegistryCorruptException>(() => registry.GetAsync(new ModelKey(Fraud, "7")).AsTask());

        Assert.Contains("churn:7", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_TruncatedVersionFile_ThrowsCorruptExceptionNamingIt()
    {
        var registry = await SeededAsync("1");
        await Truncate(VersionPath("1"));

        var ex = await Assert.ThrowsAsync<ModelRegistryCorruptException>(() => registry.GetAsync(new ModelKey(Fraud, "1")).AsTask());

        Assert.Equal(VersionPath("1"), ex.FilePath);
    }

    [Fact]
    public async Task HealthCheck_CorruptAliasesFile_DegradedNamingItThenHealthyWhenRepaired()
    {
        await using var h = new ReleaseHarness(Path.Combine(_dir.Path, "state"), builder: b => b.UseFileRegistry(Root));
        await SeededAsync("1", "2");
        var health = h.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Name == ModelRegistryHealthCheck.Name)).Status);
        var good = await File.ReadAllBytesAsync(AliasesPath);
        await Truncate(AliasesPath);

        var degraded = (await health.CheckHealthAsync(r => r.Name == ModelRegistryHealthCheck.Name)).Entries[ModelRegistryHealthCheck.Name];
        await File.WriteAllBytesAsync(AliasesPath, good);
        var repaired = (await health.CheckHealthAsync(r => r.Name == ModelRegistryHealthCheck.Name)).Entries[ModelRegistryHealthCheck.Name];

        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains(AliasesPath, degraded.Description, StringComparison.Ordinal);
        Assert.Contains("registry", degraded.Tags);
        Assert.Equal(HealthStatus.Healthy, repaired.Status);
    }

    [Fact]
    public async Task InferAsync_NoStableConfiguredAndAliasesTruncated_FallsBackToHighestLoadedVersion()
    {
        await SeededAsync("1", "2");
        await File.WriteAllTextAsync(AliasesPath, """{"stable":"1","can""");
        await using var h = new ReleaseHarness(Path.Combine(_dir.Path, "state"), model: o => o.StableVersion = null, builder: b => b.UseFileRegistry(Root));

        var response = await h.Client.InferAsync(ReleaseHarness.Request("user-1"));

        Assert.Equal(new ModelVersion("2"), response.Key.Version);
    }

    [Fact]
    public async Task StartAndRollback_AliasesTruncated_CommitTheStateWithoutThrowing()
    {
        await SeededAsync("1", "2");
        await Truncate(AliasesPath);
        await using var h = new ReleaseHarness(Path.Combine(_dir.Path, "state"), builder: b => b.UseFileRegistry(Root));

        var started = await h.Manager.StartAsync(Fraud, "2");
        var rolledBack = await h.Manager.RollbackAsync(Fraud, "operator");

        Assert.Equal(RolloutPhase.Progressing, started.Phase);
        Assert.Equal(RolloutPhase.RolledBack, rolledBack!.Phase);
        Assert.Equal(RolloutPhase.RolledBack, (await h.Manager.GetStateAsync(Fraud))!.Phase);
    }
}
