using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AiOps.Inference.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace AiOps.Inference.Sessions;

/// <summary>Logs each distinct execution-provider failure once (per reporter; the DI container holds one, direct runners share a static one).</summary>
internal sealed class ExecutionProviderReporter
{
    public static readonly ExecutionProviderReporter Shared = new();

    private readonly ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);

    public void Report(ILogger logger, ModelKey key, string provider, string fallback, string reason)
    {
        if (_reported.TryAdd(provider + "\n" + reason, 0))
        {
            Log.ProviderFallback(logger, provider, fallback, reason);
        }
        else
        {
            Log.ProviderFallbackRepeated(logger, key, provider, fallback);
        }
    }
}

/// <summary>Reads, verifies, loads and warms up a model file.</summary>
internal static class SessionLoader
{
    /// <summary>What identifies a file's version cheaply: size, last write and creation (birth) time.</summary>
    private readonly record struct FileStamp(long Length, DateTime LastWriteUtc, DateTime CreatedUtc)
    {
        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new FileNotFoundException($"'{path}' does not exist.", path);
            }

            return new FileStamp(info.Length, info.LastWriteTimeUtc, info.CreationTimeUtc);
        }
    }

    public const string Cuda = "CUDA";
    public const string TensorRt = "TensorRT";
    public const string Cpu = "CPU";

    /// <summary>Loads <paramref name="path"/> as <paramref name="key"/>; blocking (call it off the request path).</summary>
    /// <exception cref="ModelLoadException">Missing, unreadable, corrupt or hash-mismatched file, unsupported signature, or warm-up failure.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA is mandatory and cannot be used.</exception>
    public static LoadedSession Load(
        ModelKey key,
        string path,
        string? expectedSha256,
        OnnxRunnerOptions options,
        ExecutionProviderReporter reporter,
        ILogger logger,
        TimeProvider timeProvider,
        CancellationToken cancellationToken,
        Action? beforeCreateSession = null)
    {
        var started = timeProvider.GetTimestamp();

        // The model is hashed from its file and then loaded by ONNX Runtime from its path (never read into a byte[]: no
        // 2 GB array limit, no second copy in managed memory, external data resolved against the model's own folder).
        // A file that changes between the hash and ONNX Runtime's read is caught by its stamp (size, write and
        // creation time) taken before the hash and compared after the session is created.
        string sha256;
        IReadOnlyList<string> locations;
        FileStamp modelStamp;
        try
        {
            modelStamp = FileStamp.Of(path);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
            stream.Position = 0;
            locations = ExternalData.Locations(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"Model file '{path}' for {key} could not be read: {e.Message}", e) { Key = key };
        }

        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var externalFiles = new List<string>();
        var stamps = new List<(string Path, FileStamp Stamp)> { (path, modelStamp) };
        if (locations.Count > 0)
        {
            // External data is resolved against the model's folder (not the process's), and pinned with the model:
            // the hash is then that of the manifest of the model file and every external file.
            var hashed = new List<(string, string)>(locations.Count);
            foreach (var location in locations)
            {
                var full = ExternalData.Resolve(folder, location)
                    ?? throw new ModelLoadException($"Model file '{path}' for {key} keeps initializers in '{location}'; expected a relative path inside the model's folder '{folder}'.") { Key = key };
                try
                {
                    stamps.Add((full, FileStamp.Of(full)));
                    hashed.Add((location, ExternalData.HashFile(full)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new ModelLoadException($"External data file '{full}' of model '{path}' for {key} could not be read: {e.Message}", e) { Key = key };
                }

                externalFiles.Add(full);
            }

            sha256 = ExternalData.ManifestSha256(System.IO.Path.GetFileName(path), sha256, hashed);
        }

        if (expectedSha256 is not null && !string.Equals(sha256, expectedSha256.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelLoadException(
                $"Model file '{path}'{(externalFiles.Count > 0 ? $" with its {externalFiles.Count} external data file(s)" : "")} for {key} has SHA-256 {sha256}{(externalFiles.Count > 0 ? " (manifest hash)" : "")}; expected {expectedSha256.Trim().ToLowerInvariant()} (ExpectedSha256). The file was not loaded.")
            { Key = key };
        }

        cancellationToken.ThrowIfCancellationRequested();
        beforeCreateSession?.Invoke();
        var (session, provider, fallbackReason) = CreateSession(key, path, options, reporter, logger);
        LoadedSession? loaded = null;
        try
        {
            foreach (var (file, stamp) in stamps)
            {
                if (!File.Exists(file) || FileStamp.Of(file) != stamp)
                {
                    throw new ModelLoadException(
                        $"Model file '{path}' for {key} changed while it was loaded: '{file}' is not the file that was hashed (sha256 {sha256}); the load was abandoned. Expected files that stay put during a load: write a new version next to them and rename it over (WatchFile then reloads it).") { Key = key };
                }
            }

            loaded = Bind(key, path, sha256, session, provider, fallbackReason, timeProvider, options.Batching);
            loaded.ExternalFiles = externalFiles;
            loaded.States = ResolveStates(key, loaded, options.Sequences);
            var runs = WarmUp(key, loaded, options, logger, cancellationToken);
            Log.Loaded(logger, key, path, sha256, provider, timeProvider.GetElapsedTime(started).TotalMilliseconds, runs);
            return loaded;
        }
        catch
        {
            if (loaded is null)
            {
                session.Dispose();
            }
            else
            {
                loaded.Release();
            }

            throw;
        }
    }

    private static (InferenceSession Session, string Provider, string? FallbackReason) CreateSession(
        ModelKey key, string path, OnnxRunnerOptions options, ExecutionProviderReporter reporter, ILogger logger)
    {
        IReadOnlyList<OnnxExecutionProvider> preferences = options.ExecutionProviders.Count == 0
            ? [OnnxExecutionProvider.Cuda, OnnxExecutionProvider.Cpu]
            : [.. options.ExecutionProviders];
        string? fallbackReason = null;
        foreach (var preference in preferences)
        {
            if (preference == OnnxExecutionProvider.Cpu)
            {
                return (CreateCpuSession(key, path, options), Cpu, fallbackReason);
            }

            var tensorRt = preference == OnnxExecutionProvider.TensorRt;
            var name = tensorRt ? TensorRt : Cuda;
            var gpuSession = TryCreateCudaSession(key, path, options, tensorRt, out var reason, out var failure);
            if (gpuSession is not null)
            {
                return (gpuSession, name, fallbackReason);
            }

            fallbackReason = fallbackReason is null ? reason : $"{fallbackReason}; {reason}";
            var rest = preferences.SkipWhile(p => p != preference).Skip(1).ToList();
            if (options.RequireGpu && !rest.Exists(p => p is OnnxExecutionProvider.Cuda or OnnxExecutionProvider.TensorRt))
            {
                throw new ExecutionProviderUnavailableException(name, $"{key} requires the GPU (RequireGpu) but {fallbackReason}", failure) { Key = key };
            }

            if (rest.Count > 0 && rest[0] == OnnxExecutionProvider.Cpu)
            {
                reporter.Report(logger, key, name, Cpu, fallbackReason);
            }
        }

        throw new ExecutionProviderUnavailableException(Cuda, $"{key}: no listed execution provider can be used; {fallbackReason}") { Key = key };
    }

    private static InferenceSession? TryCreateCudaSession(ModelKey key, string path, OnnxRunnerOptions options, bool tensorRt, out string reason, out Exception? failure)
    {
        var sessionOptions = CreateSessionOptions(key, path, options);
        var name = tensorRt ? TensorRt : Cuda;
        try
        {
            try
            {
                if (tensorRt)
                {
                    // TensorRT first; the CUDA provider behind it runs the nodes TensorRT does not take.
                    sessionOptions.AppendExecutionProvider_Tensorrt(options.Cuda.DeviceId);
                }

                AppendCuda(sessionOptions, options);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or OnnxRuntimeException or BadImageFormatException)
            {
                // The CPU build of ONNX Runtime lacks the GPU entry points, or the provider library (or CUDA/cuDNN/TensorRT) is missing.
                reason = $"the {name} execution provider cannot be used: {e.GetType().Name}: {e.Message}";
                failure = e;
                return null;
            }

            try
            {
                reason = string.Empty;
                failure = null;
                return new InferenceSession(path, sessionOptions);
            }
            catch (OnnxRuntimeException e)
            {
                // Either CUDA failed (no device, driver mismatch, out of memory) or the model itself is bad: a CPU
                // session tells them apart. A bad model throws here as a load error, never as a provider failure.
                CreateCpuSession(key, path, options).Dispose();
                reason = $"creating a {name} session on device {options.Cuda.DeviceId} failed: {e.Message}";
                failure = e;
                return null;
            }
        }
        finally
        {
            // ONNX Runtime copies the options into the session; they are not needed afterwards.
            sessionOptions.Dispose();
        }
    }

    private static InferenceSession CreateCpuSession(ModelKey key, string path, OnnxRunnerOptions options)
    {
        using var sessionOptions = CreateSessionOptions(key, path, options);
        try
        {
            return new InferenceSession(path, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelLoadException($"Model file '{path}' for {key} could not be loaded by ONNX Runtime (expected a valid ONNX model): {e.Message}", e) { Key = key };
        }
    }

    private static SessionOptions CreateSessionOptions(ModelKey key, string path, OnnxRunnerOptions options)
    {
        var so = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel switch
            {
                OnnxGraphOptimizationLevel.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                OnnxGraphOptimizationLevel.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                OnnxGraphOptimizationLevel.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (options.IntraOpNumThreads > 0)
        {
            so.IntraOpNumThreads = options.IntraOpNumThreads;
        }

        if (options.InterOpNumThreads > 0)
        {
            so.InterOpNumThreads = options.InterOpNumThreads;
            if (!options.DeterministicCompute)
            {
                // Inter-op threads only matter when independent operators may run in parallel.
                so.ExecutionMode = ExecutionMode.ORT_PARALLEL;
            }
        }

        if (!string.IsNullOrWhiteSpace(options.OptimizedModelFilePath))
        {
            // ONNX Runtime reports a missing folder for the optimised copy as a failure to load the model itself.
            var folder = Path.GetDirectoryName(Path.GetFullPath(options.OptimizedModelFilePath));
            try
            {
                if (!string.IsNullOrEmpty(folder))
                {
                    Directory.CreateDirectory(folder);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                so.Dispose();
                throw new ModelLoadException(
                    $"OptimizedModelFilePath '{options.OptimizedModelFilePath}' of {key} cannot be written: its folder '{folder}' could not be created ({e.Message}); expected a writable folder, or leave the setting unset.",
                    e) { Key = key };
            }

            so.OptimizedModelFilePath = options.OptimizedModelFilePath;
        }

        // Loaded from its path, the model's external data files are looked up by ONNX Runtime in the model's own folder.
        return so;
    }

    private static void AppendCuda(SessionOptions sessionOptions, OnnxRunnerOptions options)
    {
        var cuda = options.Cuda;
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = cuda.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = cuda.ArenaExtendStrategy == CudaArenaExtendStrategy.SameAsRequested ? "kSameAsRequested" : "kNextPowerOfTwo",
            ["cudnn_conv_algo_search"] = (options.DeterministicCompute ? CudnnConvAlgorithmSearch.Default : cuda.ConvAlgorithmSearch) switch
            {
                CudnnConvAlgorithmSearch.Heuristic => "HEURISTIC",
                CudnnConvAlgorithmSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
        };
        if (cuda.GpuMemoryLimitBytes is { } limit)
        {
            settings["gpu_mem_limit"] = limit.ToString(CultureInfo.InvariantCulture);
        }

        using var providerOptions = new OrtCUDAProviderOptions();
        providerOptions.UpdateOptions(settings);
        sessionOptions.AppendExecutionProvider_CUDA(providerOptions);
    }

    private static LoadedSession Bind(ModelKey key, string path, string sha256, InferenceSession session, string provider, string? fallbackReason, TimeProvider timeProvider, OnnxBatchingOptions batching)
    {
        var inputs = Bindings(key, session.InputMetadata, "Input");
        var outputs = Bindings(key, session.OutputMetadata, "Output");
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        var modelMetadata = session.ModelMetadata;
        properties["producer"] = modelMetadata.ProducerName;
        properties["graph"] = modelMetadata.GraphName;
        if (!string.IsNullOrEmpty(modelMetadata.Description))
        {
            properties["description"] = modelMetadata.Description;
        }

        foreach (var (k, v) in modelMetadata.CustomMetadataMap)
        {
            properties[k] = v;
        }

        var metadata = new ModelMetadata(Array.ConvertAll(inputs, Spec), Array.ConvertAll(outputs, Spec)) { Properties = properties };
        var batch = BatchLayout.Resolve(key, inputs, outputs, batching);
        return new LoadedSession(session, inputs, outputs, metadata, provider, fallbackReason, path, sha256, timeProvider.GetUtcNow(), batch);
    }

    /// <summary>Checks the declared state pairs against the model: names, element types and shapes.</summary>
    private static (int Input, int Output)[] ResolveStates(ModelKey key, LoadedSession session, OnnxSequenceOptions sequences)
    {
        var pairs = new List<(int, int)>(sequences.States.Count);
        foreach (var (inputName, outputName) in sequences.States)
        {
            var at = $"Sequences:States:{inputName} = {outputName} of {key}";
            var input = Array.FindIndex(session.Inputs, i => i.Name == inputName);
            var output = Array.FindIndex(session.Outputs, o => o.Name == outputName);
            if (input < 0)
            {
                throw new ModelLoadException($"{at} names input '{inputName}', which the model does not have; expected one of its inputs {session.DescribeInputs()}.") { Key = key };
            }

            if (output < 0)
            {
                throw new ModelLoadException($"{at} names output '{outputName}', which the model does not have; expected one of its outputs {session.DescribeOutputs()}.") { Key = key };
            }

            var i = session.Inputs[input];
            var o = session.Outputs[output];
            var sameShape = i.ElementType == o.ElementType && i.Dims.Length == o.Dims.Length;
            for (var d = 0; sameShape && d < i.Dims.Length; d++)
            {
                sameShape = i.Dims[d] < 0 || o.Dims[d] < 0 || i.Dims[d] == o.Dims[d];
            }

            if (!sameShape)
            {
                throw new ModelLoadException($"{at}: input {inputName}: {i.Describe()} and output {outputName}: {o.Describe()} differ; expected a state output of the state input's element type and shape.") { Key = key };
            }

            pairs.Add((input, output));
        }

        if (pairs.Count == session.Inputs.Length && pairs.Count > 0)
        {
            throw new ModelLoadException($"Sequences:States of {key} declares every input a state ({session.DescribeInputs()}); expected at least one input the caller gives.") { Key = key };
        }

        return [.. pairs];
    }

    private static TensorSpec Spec(TensorBinding b) => new(b.Name, b.ElementType, b.Dims) { SymbolicDimensions = b.Symbols, MapKeyType = b.Ops.MapKeyType, MapValueType = b.Ops.MapValueType };

    private static TensorBinding[] Bindings(ModelKey key, IReadOnlyDictionary<string, NodeMetadata> nodes, string kind)
    {
        var result = new List<TensorBinding>(nodes.Count);
        foreach (var (name, node) in nodes)
        {
            var ops = ElementOps.ForNode(node, kind == "Input", out var what) ?? throw new ModelLoadException(
                $"{kind} '{name}' of {key} is {what}; expected {ElementOps.Supported}.")
            { Key = key };
            if (ops.ElementType == TensorElementType.SequenceOfMaps)
            {
                // One map per row (ZipMap): a sequence of unknown length, batchable only where the batch axis is declared.
                result.Add(new TensorBinding(name, ops, [-1], [null]));
                continue;
            }

            var dims = Array.ConvertAll(node.Dimensions, d => d < 0 ? -1L : d);
            var symbols = new string?[dims.Length];
            for (var i = 0; i < dims.Length; i++)
            {
                symbols[i] = i < node.SymbolicDimensions.Length && !string.IsNullOrEmpty(node.SymbolicDimensions[i]) ? node.SymbolicDimensions[i] : null;
                if (dims[i] == 0 && symbols[i] is not null)
                {
                    dims[i] = -1;
                }
            }

            result.Add(new TensorBinding(name, ops, dims, symbols));
        }

        return [.. result];
    }

    private static int WarmUp(ModelKey key, LoadedSession session, OnnxRunnerOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        if (options.WarmUpIterations <= 0)
        {
            return 0;
        }

        using var runOptions = new RunOptions();
        if (options.WarmUp.Samples.Count > 0)
        {
            return WarmUpDeclared(key, session, options, runOptions, cancellationToken);
        }

        // Warm the shapes calls will use: one row, and a full batch when batching.
        List<long> rows = [1];
        if (options.Batching.Enabled && session.IsBatchable && options.Batching.MaxBatchSize > 1)
        {
            rows.Add(options.Batching.MaxBatchSize);
        }

        var runs = 0;
        foreach (var r in rows)
        {
            var inputs = session.WarmUpInputs(r, options.WarmUp.DimensionSizes, options.WarmUp.InputValues);
            for (var i = 0; i < options.WarmUpIterations; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    session.Run(inputs, runOptions);
                }
                catch (OnnxRuntimeException e)
                {
                    // Generated inputs (zeros, free dimensions 1) say nothing about real traffic: a model whose graph
                    // refuses them (a minimum length, a zero step) still serves; the skipped warm-up is reported.
                    var reason = $"Warm-up skipped: generated inputs ({Describe(inputs)}) failed: {e.Message} Declare WarmUp:Samples, or WarmUp:DimensionSizes / WarmUp:InputValues for the generated inputs.";
                    session.WarmUpSkipped = reason;
                    Log.WarmUpSkipped(logger, e, key, reason);
                    return runs;
                }

                runs++;
            }
        }

        Debug.Assert(runs > 0, "At least one warm-up run.");
        return runs;
    }

    /// <summary>Runs the declared samples; any that does not fit the model or fails in it fails the load.</summary>
    private static int WarmUpDeclared(ModelKey key, LoadedSession session, OnnxRunnerOptions options, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(session.Path)) ?? ".";
        var runs = 0;
        for (var s = 0; s < options.WarmUp.Samples.Count; s++)
        {
            var sample = options.WarmUp.Samples[s];
            var what = $"Declared warm-up sample {s} (WarmUp:Samples:{s}) of {key}";
            ModelTensor[] inputs;
            try
            {
                var tensors = new List<ModelTensor>(sample.Inputs.Count);
                foreach (var (name, declared) in sample.Inputs)
                {
                    var binding = Array.Find(session.Inputs, i => string.Equals(i.Name, name, StringComparison.Ordinal))
                        ?? throw new ModelLoadException($"{what} gives input '{name}', which the model does not have; expected inputs {session.DescribeInputs()}.") { Key = key };
                    var shape = declared.Shape.ToArray();
                    tensors.Add(declared.File is { } file
                        ? binding.Ops.FromBytes(name, shape, File.ReadAllBytes(System.IO.Path.IsPathRooted(file) ? file : System.IO.Path.Combine(folder, file)))
                        : declared.Values.Count == 0
                            ? binding.Ops.Zeros(name, shape)
                            : binding.Ops.FromValues(name, shape, declared.Values.ToArray()));
                }

                inputs = session.Bind(new ModelRequest(tensors), key, allowNonFinite: true);
            }
            catch (Exception e) when (e is ModelInputException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                throw new ModelLoadException($"{what} does not fit the model: {e.Message}", e) { Key = key };
            }

            for (var i = 0; i < options.WarmUpIterations; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    session.Run(inputs, runOptions);
                }
                catch (OnnxRuntimeException e)
                {
                    // Declared inputs stand for real traffic: a model that fails on them must not serve.
                    throw new ModelLoadException($"{what} ({Describe(inputs)}) failed in ONNX Runtime: {e.Message}", e) { Key = key };
                }

                runs++;
            }
        }

        return runs;
    }

    private static string Describe(ModelTensor[] inputs) => string.Join(", ", inputs.Select(i => $"{i.Name}{i.FormatShape()}"));
}
