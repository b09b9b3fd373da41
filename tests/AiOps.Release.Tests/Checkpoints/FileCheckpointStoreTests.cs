using System.Security.Cryptography;
using System.Text.Json;
using AiOps.Release.Checkpoints;
using Microsoft.Extensions.Logging;

namespace AiOps.Release.Tests.Checkpoints;

public sealed class FileCheckpointStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task SaveAsync_TwoFiles_CommitsFilesManifestWithSha256AndMarker()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var content = CheckpointHarness.Content(42, metrics: new Dictionary<string, double> { ["loss"] = 0.25 });

        var info = await store.SaveAsync(content);

        Assert.Equal(42, info.Step);
        Assert.Equal(harness.Time.GetUtcNow(), info.CreatedAt);
        Assert.Equal(0.25, info.Metrics["loss"]);
        var dir = Path.Combine(_folder.Path, info.Id);
        Assert.True(File.Exists(Path.Combine(dir, FileCheckpointStore.MarkerName)));
        using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(dir, FileCheckpointStore.ManifestName)));
        foreach (var (name, data) in content.Files)
        {
            var onDisk = await File.ReadAllBytesAsync(Path.Combine(dir, name));
            Assert.Equal(data.ToArray(), onDisk);
            var expected = Convert.ToHexStringLower(SHA256.HashData(onDisk));
            Assert.Contains(info.Files, f => f.Name == name && f.Sha256 == expected && f.Length == data.Length);
            Assert.Contains(manifest.RootElement.GetProperty("files").EnumerateArray(), f => f.GetProperty("sha256").GetString() == expected);
        }

        Assert.Equal([info.Id], Directory.GetDirectories(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task SaveAsync_LargeFileHashedInParallel_HashMatchesContent()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var big = new byte[9 << 20];
        new Random(7).NextBytes(big);

        var info = await store.SaveAsync(new AiOps.Checkpoints.CheckpointContent(1, new Dictionary<string, ReadOnlyMemory<byte>> { ["w.bin"] = big }));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), Assert.Single(info.Files).Sha256);
        Assert.Null(await store.VerifyAsync(info.Id));
    }

    [Fact]
    public async Task OpenReadAsync_CommittedFile_ReturnsSavedBytes()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var content = CheckpointHarness.Content(3);
        var info = await store.SaveAsync(content);

        await using var stream = await store.OpenReadAsync(info.Id, "weights.bin");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(content.Files["weights.bin"].ToArray(), copy.ToArray());
    }

    [Fact]
    public async Task OpenReadAsync_UnknownFile_ThrowsNotFoundListingTheFiles()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var info = await store.SaveAsync(CheckpointHarness.Content(3));

        var ex = await Assert.ThrowsAsync<CheckpointNotFoundException>(() => store.OpenReadAsync(info.Id, "nope.bin").AsTask());

        Assert.Contains("nope.bin", ex.Message, StringComparison.Ordinal);
        Assert.Contains("weights.bin", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../escape.bin")]
    [InlineData("sub/dir.bin")]
    [InlineData(".hidden")]
    [InlineData("manifest.json")]
    [InlineData("COMMITTED")]
    [InlineData("")]
    public async Task SaveAsync_BadFileName_ThrowsArgumentExceptionNamingIt(string name)
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var content = new AiOps.Checkpoints.CheckpointContent(1, new Dictionary<string, ReadOnlyMemory<byte>> { [name] = new byte[] { 1 } });

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveAsync(content).AsTask());

        Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(_folder.Path));
    }

    [Fact]
    public async Task SaveAsync_NegativeStepOrNoFiles_ThrowsNamingTheField()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();

        var negative = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveAsync(CheckpointHarness.Content(-1)).AsTask());
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveAsync(new AiOps.Checkpoints.CheckpointContent(1, new Dictionary<string, ReadOnlyMemory<byte>>())).AsTask());

        Assert.Contains("Step", negative.Message, StringComparison.Ordinal);
        Assert.Contains("Files", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAsync_SameStepTwiceAtSameTime_GetsDistinctIds()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();

        var first = await store.SaveAsync(CheckpointHarness.Content(5, seed: 1));
        var second = await store.SaveAsync(CheckpointHarness.Content(5, seed: 2));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(2, (await store.ListAsync()).Count);
    }

    [Fact]
    public async Task VerifyAsync_FlippedByteInFile_ReportsTheFile()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var info = await store.SaveAsync(CheckpointHarness.Content(1));
        var path = Path.Combine(_folder.Path, info.Id, "optimizer.bin");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[10] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        var problem = await store.VerifyAsync(info.Id);

        Assert.NotNull(problem);
        Assert.Contains("optimizer.bin", problem, StringComparison.Ordinal);
        Assert.Contains("SHA-256", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_TruncatedFile_ReportsLengthMismatch()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var info = await store.SaveAsync(CheckpointHarness.Content(1));
        var path = Path.Combine(_folder.Path, info.Id, "weights.bin");
        await using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(100);
        }

        var problem = await store.VerifyAsync(info.Id);

        Assert.Contains("weights.bin' has 100 bytes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_EditedManifest_ReportsMarkerMismatchAndListSkipsIt()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var info = await store.SaveAsync(CheckpointHarness.Content(1));
        var manifest = Path.Combine(_folder.Path, info.Id, FileCheckpointStore.ManifestName);
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("\"step\": 1", "\"step\": 2", StringComparison.Ordinal));

        Assert.Contains("commit marker", await store.VerifyAsync(info.Id), StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync());
        Assert.Contains(harness.StoreLogger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains(info.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListAsync_DirectoryWithoutMarker_IsIgnoredWithWarningNamingIt()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var good = await store.SaveAsync(CheckpointHarness.Content(1));
        const string partial = "step-000000000002-20240801T100000000Z";
        Directory.CreateDirectory(Path.Combine(_folder.Path, partial));
        await File.WriteAllBytesAsync(Path.Combine(_folder.Path, partial, "weights.bin"), [1, 2, 3]);

        var listed = await store.ListAsync();

        Assert.Equal([good.Id], listed.Select(c => c.Id));
        var warning = Assert.Single(harness.StoreLogger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Contains(partial, warning.Message, StringComparison.Ordinal);
        Assert.Contains("not committed", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteAsync_Committed_RemovesItAndLeavesNoLeftovers()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        var first = await store.SaveAsync(CheckpointHarness.Content(1));
        var second = await store.SaveAsync(CheckpointHarness.Content(2));

        await store.DeleteAsync(first.Id);

        Assert.Equal([second.Id], (await store.ListAsync()).Select(c => c.Id));
        Assert.Equal([second.Id], Directory.GetDirectories(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task SaveAsync_Cancelled_LeavesNothingBehind()
    {
        await using var harness = new CheckpointHarness(_folder.Path);
        using var store = harness.NewStore();
        using var cts = new CancellationTokenSource();
        store.StageHook = async (stage, _) =>
        {
            if (stage == CheckpointSaveStage.AfterFlush)
            {
                await cts.CancelAsync();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SaveAsync(CheckpointHarness.Content(1), cts.Token).AsTask());

        Assert.Empty(Directory.GetFileSystemEntries(_folder.Path));
    }
}
