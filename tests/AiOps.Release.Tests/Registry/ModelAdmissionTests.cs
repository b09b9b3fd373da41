using AiOps.Release.Registry;
using AiOps.Release.Tests.Infrastructure;

namespace AiOps.Release.Tests.Registry;

/// <summary>A version is registrable only once it loads, warms up and keeps the model's contract on the serving runtime.</summary>
public sealed class ModelAdmissionTests : IDisposable
{
    private static readonly ModelId Fraud = new("fraud");
    private static readonly DateTimeOffset T0 = new(2024, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ModelMetadata V1Signature = new(
        [new TensorSpec("x", TensorElementType.Float32, [-1, 4])],
        [new TensorSpec("probabilities", TensorElementType.Float32, [-1, 3])]);

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public ModelAdmissionTests() => Registry = new FileModelRegistry(Path.Combine(_dir.Path, "registry"));

    private FileModelRegistry Registry { get; }

    private string File(string version)
    {
        var path = Path.Combine(_dir.Path, $"model_fraud_v{version}_20240801.onnx");
        System.IO.File.WriteAllText(path, "model " + version);
        return path;
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_LoadsAndPasses_RecordsRuntimeOpsetAndProvider()
    {
        var runtime = new FakeRuntime();

        var info = await Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), File("1"), T0);

        var stored = (await Registry.GetAsync(info.Key))!;
        Assert.Equal("passed", stored.Metadata[ModelAdmissionExtensions.StatusKey]);
        Assert.Equal("onnxruntime 1.32.0", stored.Metadata[ModelAdmissionExtensions.RuntimeVersionKey]);
        Assert.Equal("CUDA", stored.Metadata[ModelAdmissionExtensions.ExecutionProviderKey]);
        Assert.Equal("17", stored.Metadata[ModelAdmissionExtensions.OpsetKey]);
        Assert.Equal("none", stored.Metadata[ModelAdmissionExtensions.ContractKey]);
        Assert.Contains("x: Float32[-1, 4]", stored.Metadata[ModelAdmissionExtensions.SignatureKey], StringComparison.Ordinal);
        Assert.Equal([Path.GetFullPath(File("1"))], runtime.Probed);
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_FailsToLoadOnRuntime_NotRegisteredAndReasonGiven()
    {
        // The field lesson: the new framework version broke the model load.
        var runtime = new FakeRuntime { Fail = "Unsupported ONNX opset 21 (this runtime supports up to 20)" };

        var ex = await Assert.ThrowsAsync<ModelAdmissionException>(
            () => Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "2"), File("2"), T0).AsTask());

        Assert.Contains("fraud:2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Unsupported ONNX opset 21", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new ModelKey(Fraud, "2"), ex.Key);
        Assert.Null(await Registry.GetAsync(new ModelKey(Fraud, "2")));
        Assert.Empty(await Registry.ListAsync(Fraud));
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_SignatureBreaksStableContract_NotRegisteredWithDifferences()
    {
        var runtime = new FakeRuntime();
        await Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), File("1"), T0);
        await Registry.SetAliasAsync(Fraud, "stable", "1");
        runtime.Signatures["2"] = new ModelMetadata(
            [new TensorSpec("features", TensorElementType.Float32, [-1, 4])],
            V1Signature.Outputs);

        var ex = await Assert.ThrowsAsync<ModelAdmissionException>(
            () => Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "2"), File("2"), T0).AsTask());

        Assert.False(ex.Compatibility!.IsCompatible);
        Assert.Contains("input 'x'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("fraud:1", ex.Message, StringComparison.Ordinal);
        Assert.Null(await Registry.GetAsync(new ModelKey(Fraud, "2")));
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_CompatibleWithStable_RegisteredNamingTheContract()
    {
        var runtime = new FakeRuntime();
        await Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), File("1"), T0);
        await Registry.SetAliasAsync(Fraud, "stable", "1");

        var info = await Registry.RegisterAdmittedFileAsync(
            runtime, new ModelKey(Fraud, "2"), File("2"), T0,
            configure: i => i with { Metadata = new Dictionary<string, string> { ["team"] = "risk", [ModelAdmissionExtensions.StatusKey] = "forged" } });

        Assert.Equal("fraud:1", info.Metadata[ModelAdmissionExtensions.ContractKey]);
        Assert.Equal("passed", info.Metadata[ModelAdmissionExtensions.StatusKey]);
        Assert.Equal("risk", info.Metadata["team"]);
        Assert.NotNull(await Registry.GetAsync(info.Key));
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_ExplicitContractBroken_Refused()
    {
        var runtime = new FakeRuntime();
        var contract = V1Signature with { Inputs = [.. V1Signature.Inputs, new TensorSpec("ids", TensorElementType.Int64, [-1])] };
        runtime.Signatures["1"] = V1Signature with { Outputs = [new TensorSpec("scores", TensorElementType.Float32, [-1, 3])] };

        var ex = await Assert.ThrowsAsync<ModelAdmissionException>(
            () => Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), File("1"), T0, contract).AsTask());

        Assert.Contains("contract", ex.Message, StringComparison.Ordinal);
        Assert.Contains("input 'ids'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("probabilities", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_FileRewrittenDuringProbe_Refused()
    {
        var path = File("1");
        var runtime = new FakeRuntime { DuringProbe = p => System.IO.File.AppendAllText(p, " changed") };

        var ex = await Assert.ThrowsAsync<ModelAdmissionException>(
            () => Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), path, T0).AsTask());

        Assert.Contains("changed during admission", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await Registry.ListAsync(Fraud));
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_Cancelled_ThrowsCancellationNotAdmissionFailure()
    {
        using var cts = new CancellationTokenSource();
        var runtime = new FakeRuntime { DuringProbe = _ => cts.Cancel() };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), File("1"), T0, cancellationToken: cts.Token).AsTask());
        Assert.Empty(await Registry.ListAsync(Fraud));
    }

    private sealed class FakeRuntime : IModelAdmissionRuntime
    {
        public string? Fail { get; init; }

        public Action<string>? DuringProbe { get; init; }

        public Dictionary<string, ModelMetadata> Signatures { get; } = [];

        public List<string> Probed { get; } = [];

        public ValueTask<ModelAdmissionProbe> ProbeAsync(ModelKey key, string filePath, CancellationToken cancellationToken = default)
        {
            Probed.Add(filePath);
            DuringProbe?.Invoke(filePath);
            cancellationToken.ThrowIfCancellationRequested();
            if (Fail is not null && key.Version.Value != "1")
            {
                throw new ModelLoadException(Fail);
            }

            var signature = Signatures.GetValueOrDefault(key.Version.Value, V1Signature);
            return ValueTask.FromResult(new ModelAdmissionProbe(signature, "onnxruntime 1.32.0", "CUDA") { Opset = 17 });
        }
    }
}
