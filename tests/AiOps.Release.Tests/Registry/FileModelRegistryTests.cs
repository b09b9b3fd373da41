using System.Security.Cryptography;
using AiOps.Registry;
using AiOps.Release.Registry;
using AiOps.Release.Tests.Infrastructure;
using AiOps.Validation;

namespace AiOps.Release.Tests.Registry;

public sealed class FileModelRegistryTests : IDisposable
{
    private static readonly ModelId Resnet = new("resnet18");
    private static readonly DateTimeOffset T0 = new(2024, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private FileModelRegistry NewRegistry() => new(Path.Combine(_dir.Path, "registry"));

    private static ModelVersionInfo Info(string version, int minutes = 0) =>
        new(new ModelKey(Resnet, version), "/models/" + version + ".onnx", new string('a', 64), T0.AddMinutes(minutes));

    [Fact]
    public async Task RegisterAsync_FullRecord_ReadBackWithEveryField()
    {
        var registry = NewRegistry();
        var info = Info("2.1") with
        {
            Metrics = new Dictionary<string, double> { ["accuracy"] = 0.981 },
            Tags = ["challenger"],
            Dataset = new DatasetVersionRef("transactions", new string('b', 64), "data_v1.0"),
            Metadata = new Dictionary<string, string> { ["framework"] = "onnx" },
        };
        await registry.RegisterAsync(info);

        var read = (await NewRegistry().GetAsync(info.Key))!;

        Assert.Equal((info.Key, info.FilePath, info.Sha256, info.CreatedAt), (read.Key, read.FilePath, read.Sha256, read.CreatedAt));
        Assert.Equal(0.981, read.Metrics["accuracy"]);
        Assert.Equal(["challenger"], read.Tags);
        Assert.Equal(info.Dataset, read.Dataset);
        Assert.Equal("onnx", read.Metadata["framework"]);
    }

    [Fact]
    public async Task RegisterAsync_ExistingVersion_RejectedAsImmutable()
    {
        var registry = NewRegistry();
        await registry.RegisterAsync(Info("1"));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => registry.RegisterAsync(Info("1")).AsTask());
        Assert.Contains("already registered", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterAsync_BadHash_RejectedNamingTheFormat()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => NewRegistry().RegisterAsync(Info("1") with { Sha256 = "ABC" }).AsTask());
        Assert.Contains("64 lower-case hex", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_VersionsOldestFirst()
    {
        var registry = NewRegistry();
        await registry.RegisterAsync(Info("10", 2));
        await registry.RegisterAsync(Info("9", 1));
        await registry.RegisterAsync(Info("2", 3));

        Assert.Equal(["9", "10", "2"], (await registry.ListAsync(Resnet)).Select(v => v.Key.Version.Value));
        Assert.Empty(await registry.ListAsync(new ModelId("unknown")));
    }

    [Fact]
    public async Task Aliases_SetResolveRemove()
    {
        var registry = NewRegistry();
        await registry.RegisterAsync(Info("1"));
        await registry.RegisterAsync(Info("2"));
        await registry.SetAliasAsync(Resnet, "stable", "1");
        await registry.SetAliasAsync(Resnet, "champion", "2");

        Assert.Equal(new ModelVersion("1"), await registry.ResolveAliasAsync(Resnet, "stable"));
        Assert.Equal(2, (await registry.GetAliasesAsync(Resnet)).Count);
        Assert.True(await registry.RemoveAliasAsync(Resnet, "champion"));
        Assert.False(await registry.RemoveAliasAsync(Resnet, "champion"));
        Assert.Null(await registry.ResolveAliasAsync(Resnet, "champion"));
    }

    [Fact]
    public async Task SetAliasAsync_UnregisteredVersion_ThrowsModelNotFound()
    {
        var ex = await Assert.ThrowsAsync<ModelNotFoundException>(() => NewRegistry().SetAliasAsync(Resnet, "stable", "7").AsTask());
        Assert.Contains("not registered", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../stable")]
    [InlineData("a/b")]
    [InlineData("Stable")]
    public async Task SetAliasAsync_UnsafeAliasName_Rejected(string alias)
    {
        var registry = NewRegistry();
        await registry.RegisterAsync(Info("1"));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => registry.SetAliasAsync(Resnet, alias, "1").AsTask());
        Assert.Contains("expected 1 to 64 characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelNamesAndVersions_PathTraversal_RejectedBeforeReachingTheStore()
    {
        Assert.Throws<ArgumentException>(() => new ModelId("../../etc"));
        Assert.Throws<ArgumentException>(() => new ModelVersion("../1"));
        Assert.Throws<ArgumentException>(() => new ModelVersion("1/2"));
    }

    [Fact]
    public async Task ConcurrentWriters_SeveralRegistryInstances_NoUpdateLost()
    {
        var writers = Enumerable.Range(0, 4).Select(_ => NewRegistry()).ToArray();
        await Task.WhenAll(writers.Select((w, wi) => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                var version = $"{wi}.{i}";
                await w.RegisterAsync(Info(version, i));
                await w.SetAliasAsync(Resnet, $"writer-{wi}-{i}", version);
            }
        })));

        var reader = NewRegistry();
        Assert.Equal(40, (await reader.ListAsync(Resnet)).Count);
        var aliases = await reader.GetAliasesAsync(Resnet);
        Assert.Equal(40, aliases.Count);
        Assert.Equal(new ModelVersion("3.9"), aliases["writer-3-9"]);
    }

    [Fact]
    public async Task RegisterFileAsync_ComputesSha256AndVerifyDetectsChanges()
    {
        var registry = NewRegistry();
        var file = Path.Combine(_dir.Path, "model_resnet18_v2.1_20240801.onnx");
        await File.WriteAllBytesAsync(file, [1, 2, 3, 4]);

        var info = await registry.RegisterFileAsync(ModelFileName.Parse(file).Key, file, T0);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3, 4 })), info.Sha256);
        Assert.Null(await registry.VerifyFileAsync(info.Key));
        await File.WriteAllBytesAsync(file, [1, 2, 3, 5]);
        Assert.Contains("the registry recorded", await registry.VerifyFileAsync(info.Key), StringComparison.Ordinal);
        File.Delete(file);
        Assert.Contains("missing", await registry.VerifyFileAsync(info.Key), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model_resnet18_v2.1_20240801", "resnet18", "2.1", 2024, 8, 1)]
    [InlineData("/models/model_resnet18_v2.1_20240801.onnx", "resnet18", "2.1", 2024, 8, 1)]
    [InlineData("model_fraud_detector_v10_20231231.onnx", "fraud_detector", "10", 2023, 12, 31)]
    [InlineData("model_bert-base_v1.0.0-rc1_20240115", "bert-base", "1.0.0-rc1", 2024, 1, 15)]
    public void ModelFileName_Parse_SplitsNameVersionDateAndFormatsBack(string fileName, string model, string version, int y, int m, int d)
    {
        var parsed = ModelFileName.Parse(fileName);
        Assert.Equal(new ModelFileName(new ModelId(model), new ModelVersion(version), new DateOnly(y, m, d)), parsed);
        Assert.Equal(Path.GetFileNameWithoutExtension(fileName).StartsWith("model_", StringComparison.Ordinal) && fileName.EndsWith(".onnx", StringComparison.Ordinal)
            ? Path.GetFileNameWithoutExtension(fileName)
            : Path.GetFileName(fileName), parsed.ToString());
    }

    [Theory]
    [InlineData("resnet18_v2.1_20240801", "does not start with 'model_'")]
    [InlineData("model_resnet18_v2.1_2024081", "does not end with a date")]
    [InlineData("model_resnet18_v2.1_20241301", "does not end with a date")]
    [InlineData("model_resnet18_2.1_20240801", "no '_v{version}' part")]
    [InlineData("model_ResNet_v2_20240801", "must start with a lower-case letter")]
    public void ModelFileName_Parse_BadName_FormatExceptionSaysWhichPart(string fileName, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => ModelFileName.Parse(fileName));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.False(ModelFileName.TryParse(fileName, out _));
    }
}
