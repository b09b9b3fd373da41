using AiOps.Inference;
using AiOps.Release.Registry;
using AiOps.Release.Tests.Infrastructure;
using Models = AiOps.TestModels.TestModels;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Release.Tests.Registry;

/// <summary>Admission over the real ONNX runner, through the adapter a host writes (Release itself never references Inference).</summary>
public sealed class OnnxAdmissionTests : IDisposable
{
    private static readonly ModelId Fraud = new("fraud");
    private static readonly DateTimeOffset T0 = new(2024, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] model)
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllBytes(path, model);
        return path;
    }

    [Fact]
    public async Task RegisterAdmittedFileAsync_RealOnnxModels_GoodAdmittedCorruptAndIncompatibleRefused()
    {
        var registry = new FileModelRegistry(Path.Combine(_dir.Path, "registry"));
        var runtime = new OnnxAdmissionRuntime();

        var v1 = await registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "1"), Write("v1.onnx", Models.Classifier(1).ToOnnx()), T0);
        await registry.SetAliasAsync(Fraud, "stable", "1");
        var v2 = await registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "2"), Write("v2.onnx", Models.Classifier(2).ToOnnx()), T0);
        var corrupt = await Assert.ThrowsAsync<ModelAdmissionException>(
            () => registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "3"), Write("v3.onnx", Models.Corrupt()), T0).AsTask());
        var incompatible = await Assert.ThrowsAsync<ModelAdmissionException>(
            () => registry.RegisterAdmittedFileAsync(runtime, new ModelKey(Fraud, "4"), Write("v4.onnx", Models.Classifier(1, inputSize: 6).ToOnnx()), T0).AsTask());

        Assert.Equal("CPU", v1.Metadata[ModelAdmissionExtensions.ExecutionProviderKey]);
        Assert.StartsWith("onnxruntime ", v1.Metadata[ModelAdmissionExtensions.RuntimeVersionKey], StringComparison.Ordinal);
        Assert.Equal("13", v1.Metadata[ModelAdmissionExtensions.OpsetKey]);
        Assert.Equal("fraud:1", v2.Metadata[ModelAdmissionExtensions.ContractKey]);
        Assert.Contains("fraud:3", corrupt.Message, StringComparison.Ordinal);
        Assert.NotNull(incompatible.Compatibility);
        Assert.Contains("dimension 1", incompatible.Message, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], (await registry.ListAsync(Fraud)).Select(v => v.Key.Version.Value));
    }

    /// <summary>The adapter a host writes over AiOps.Inference: load on the serving providers, warm up, report, unload.</summary>
    private sealed class OnnxAdmissionRuntime : IModelAdmissionRuntime
    {
        public async ValueTask<ModelAdmissionProbe> ProbeAsync(ModelKey key, string filePath, CancellationToken cancellationToken = default)
        {
            var options = new OnnxRunnerOptions { WarmUpIterations = 2 };
            options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
            await using var runner = await OnnxModelRunner.CreateAsync(key, filePath, options, cancellationToken: cancellationToken);
            if (!runner.Status.IsServing || runner.Status.Reason is { } reason && runner.Status.Readiness == ModelReadiness.Ready)
            {
                throw new ModelLoadException($"{key} loaded but did not warm up: {runner.Status.Reason ?? runner.Status.Readiness.ToString()}");
            }

            return new ModelAdmissionProbe(runner.Metadata, "onnxruntime " + OrtEnv.Instance().GetVersionString(), runner.ExecutionProvider ?? "unknown")
            {
                Opset = DefaultOpset(await File.ReadAllBytesAsync(filePath, cancellationToken)),
            };
        }

        /// <summary>The default-domain version in a ModelProto's opset_import (field 8: domain = 1, version = 2).</summary>
        private static long? DefaultOpset(ReadOnlySpan<byte> model)
        {
            long? found = null;
            var i = 0;
            while (i < model.Length)
            {
                var tag = Varint(model, ref i);
                var (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
                if (wire == 0)
                {
                    Varint(model, ref i);
                }
                else if (wire == 2)
                {
                    var length = (int)Varint(model, ref i);
                    if (field == 8)
                    {
                        var inner = model.Slice(i, length);
                        var (domain, version, j) = (string.Empty, 0L, 0);
                        while (j < inner.Length)
                        {
                            var t = Varint(inner, ref j);
                            if ((t & 7) == 0)
                            {
                                var v = Varint(inner, ref j);
                                version = (t >> 3) == 2 ? (long)v : version;
                            }
                            else
                            {
                                var l = (int)Varint(inner, ref j);
                                domain = (t >> 3) == 1 ? System.Text.Encoding.UTF8.GetString(inner.Slice(j, l)) : domain;
                                j += l;
                            }
                        }

                        found = domain is "" or "ai.onnx" ? version : found;
                    }

                    i += length;
                }
                else
                {
                    return found; // fixed-width fields do not occur at the top level of a ModelProto
                }
            }

            return found;
        }

        private static ulong Varint(ReadOnlySpan<byte> data, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; i < data.Length; shift += 7)
            {
                var b = data[i++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    break;
                }
            }

            return value;
        }
    }
}
