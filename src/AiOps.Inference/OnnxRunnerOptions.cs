namespace AiOps.Inference;

/// <summary>An execution provider AiOps can put a model on, in order of preference.</summary>
public enum OnnxExecutionProvider
{
    /// <summary>The CPU provider: always available.</summary>
    Cpu = 0,

    /// <summary>The CUDA provider (NVIDIA GPU); needs the GPU build of ONNX Runtime, the CUDA libraries and a device.</summary>
    Cuda = 1,

    /// <summary>
    /// The TensorRT provider (NVIDIA GPU, engines built per shape; nodes it does not take run on CUDA in the same
    /// session); needs the GPU build of ONNX Runtime, the TensorRT libraries besides CUDA's, and a device. Never in the
    /// default list: add it before <see cref="Cuda"/>. When it cannot be used the next listed provider is tried, as for CUDA.
    /// </summary>
    TensorRt = 2,
}

/// <summary>How much ONNX Runtime rewrites the graph before running it.</summary>
public enum OnnxGraphOptimizationLevel
{
    /// <summary>No graph optimisation.</summary>
    Disabled = 0,

    /// <summary>Semantics-preserving rewrites such as constant folding and redundant-node removal.</summary>
    Basic = 1,

    /// <summary>Basic plus complex node fusions.</summary>
    Extended = 2,

    /// <summary>Everything, including layout optimisations (the default).</summary>
    All = 3,
}

/// <summary>How the CUDA memory arena grows.</summary>
public enum CudaArenaExtendStrategy
{
    /// <summary>Grow by powers of two (ONNX Runtime's default: fewer, larger allocations).</summary>
    NextPowerOfTwo = 0,

    /// <summary>Grow by exactly what is requested (tighter memory use).</summary>
    SameAsRequested = 1,
}

/// <summary>How cuDNN picks convolution algorithms.</summary>
public enum CudnnConvAlgorithmSearch
{
    /// <summary>Benchmark every algorithm once per shape and keep the fastest (ONNX Runtime's default).</summary>
    Exhaustive = 0,

    /// <summary>Use cuDNN's heuristics (faster start, maybe slower runs).</summary>
    Heuristic = 1,

    /// <summary>Always use the default algorithm (deterministic, no search).</summary>
    Default = 2,
}

/// <summary>Settings of the CUDA execution provider.</summary>
public sealed class OnnxCudaOptions
{
    /// <summary>The CUDA device ordinal. Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>The most GPU memory the arena may take, in bytes; <see langword="null"/> for no limit.</summary>
    public long? GpuMemoryLimitBytes { get; set; }

    /// <summary>How the memory arena grows. Default <see cref="CudaArenaExtendStrategy.NextPowerOfTwo"/>.</summary>
    public CudaArenaExtendStrategy ArenaExtendStrategy { get; set; }

    /// <summary>How cuDNN picks convolution algorithms. Default <see cref="CudnnConvAlgorithmSearch.Exhaustive"/>.</summary>
    public CudnnConvAlgorithmSearch ConvAlgorithmSearch { get; set; }
}

/// <summary>What a call does when <see cref="OnnxRunnerOptions.MaxQueueLength"/> calls are already queued or running.</summary>
public enum QueueFullMode
{
    /// <summary>Fail at once with <see cref="ModelRejectedException"/> (the default: the host answers 429/503 and the client retries).</summary>
    Reject = 0,

    /// <summary>
    /// Wait for room, in arrival order, at most <see cref="OnnxRunnerOptions.MaxQueueTime"/> (then
    /// <see cref="ModelRejectedException"/>), the <see cref="OnnxRunnerOptions.CallTimeout"/> or the caller's cancellation.
    /// </summary>
    Wait = 1,
}

/// <summary>
/// Micro-batching: concurrent calls are stacked along the first (dynamic) dimension into one run and the outputs
/// are split back. Only models whose inputs and outputs all have a dynamic first dimension can be batched; for other
/// models the setting is ignored (with a warning) and calls run one by one.
/// </summary>
/// <remarks>
/// The delay is adaptive, so batching is never slower than running calls one by one: a call that arrives while the
/// batch worker is idle runs at once, and the calls that queued while a batch ran go together into the next run. Only
/// while the runner is under load (a batch ran within <see cref="MaxQueueDelay"/> before the forming batch's first call)
/// does a forming batch wait, for at most <see cref="MaxQueueDelay"/>, until it has as many rows as the previous run (or
/// <see cref="MaxBatchSize"/>, or one of <see cref="PreferredBatchSizes"/>).
/// </remarks>
public sealed class OnnxBatchingOptions
{
    /// <summary>Whether to batch. Default <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The most rows (sum of the callers' first dimensions) in one run. Default 64.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>
    /// Under load, how long the first call of a forming batch may wait for the callers of the previous run to come back
    /// before the batch runs anyway. Default 1 ms. A call that finds the worker idle never waits;
    /// <see cref="TimeSpan.Zero"/> never waits at all (whatever is queued runs at once).
    /// </summary>
    public TimeSpan MaxQueueDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// How many batches of this model may run at once (Triton's instance group count): each has its own queue and
    /// worker over the one session, and a call joins the idle one, else the one with the fewest rows queued. Default 1.
    /// More pays where one run leaves hardware idle: a model run with <see cref="OnnxRunnerOptions.IntraOpNumThreads"/>
    /// 1 on a machine with cores to spare, or a GPU that overlaps concurrent runs; with ONNX Runtime's default thread
    /// pool a CPU run already uses every core. Between 1 and 64. Bound from
    /// <c>AiOps:Models:&lt;name&gt;:Batching:MaxConcurrentBatches</c>.
    /// </summary>
    public int MaxConcurrentBatches { get; set; } = 1;

    /// <summary>
    /// Row counts at which a forming batch runs at once, without waiting for more (Triton's <c>preferred_batch_size</c>):
    /// useful where some sizes run faster than others, such as engines built for fixed shapes. Each between 1 and
    /// <see cref="MaxBatchSize"/>. Empty by default.
    /// </summary>
    public IList<int> PreferredBatchSizes { get; } = new List<int>();

    /// <summary>
    /// Treat the dynamic first dimension of every input and output as the batch, whatever its symbol. Exporters such as
    /// tf2onnx name the batch of each tensor differently (<c>unk__314</c> on the input, <c>unk__315</c> on the output),
    /// which otherwise makes the model unbatchable; with this set, the first dimensions of all inputs must also agree in
    /// every call. Default <see langword="false"/> (the batch is recognised only by a shared symbol).
    /// </summary>
    public bool AssumeFirstDimensionIsBatch { get; set; }

    /// <summary>
    /// The batch axis of inputs and outputs by name, for exports whose batch dimension the runner cannot recognise by a
    /// shared symbol (tf2onnx's <c>unk__314</c> / <c>unk__315</c>): <c>0</c> (the first dimension, which must be free)
    /// or <see cref="OnnxBatchAxis.None"/> (<c>none</c> in configuration) for a tensor that is not batched, such as a
    /// shared scalar. Calls whose unbatched inputs differ (shape or values) go into different batches; every caller
    /// of a batch receives the whole of an unbatched output (declare an output <c>none</c> only when it does not
    /// depend on the rows, e.g. an echo of an unbatched input). Tensors not named take their free first dimension as
    /// the batch. A name that is not an input or output, an axis out of range or on a fixed dimension fails the load
    /// with a <see cref="ModelLoadException"/> naming the tensor. Bound from <c>AiOps:Models:&lt;name&gt;:Batching:BatchAxes:&lt;tensor&gt;</c>.
    /// Empty by default (the batch is recognised by symbol, or by <see cref="AssumeFirstDimensionIsBatch"/>).
    /// </summary>
    public IDictionary<string, OnnxBatchAxis> BatchAxes { get; } = new Dictionary<string, OnnxBatchAxis>(StringComparer.Ordinal);
}

/// <summary>
/// Stateful models (Triton's sequence batcher with implicit state): state inputs fed, call after call of one sequence,
/// from the state outputs of its previous call. Calls name their sequence with <see cref="ModelRequest.SequenceId"/>
/// (its first call sets <see cref="ModelRequest.SequenceStart"/>, its last may set <see cref="ModelRequest.SequenceEnd"/>)
/// and leave the state inputs out. The calls of one sequence run one at a time in arrival order; different sequences run
/// concurrently. A stateful model runs unbatched (each sequence has its own state).
/// </summary>
public sealed class OnnxSequenceOptions
{
    /// <summary>
    /// The state pairs: state input name to the output that carries its next value (<c>h_in = h_out</c>,
    /// <c>c_in = c_out</c>), of the same element type and shape. A sequence starts from zeros: fixed dimensions as
    /// declared, a free dimension sized like the non-state input dimension of the same symbol in the first call (else 1).
    /// Empty (the default): the model is stateless. Bound from <c>AiOps:Models:&lt;name&gt;:Sequences:States:&lt;input&gt;</c>.
    /// </summary>
    public IDictionary<string, string> States { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How long a sequence may stay without calls before its state is dropped (its next call must then start it again). Default 1 minute.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most sequences held at once; a call that would start one more fails with <see cref="ModelRejectedException"/>
    /// (counted in <c>aiops.inference.sequences</c> with <c>event = rejected</c>) until one ends or expires. Default 1024.
    /// </summary>
    public int MaxSequences { get; set; } = 1024;

    /// <summary>Whether responses include the state outputs (do not modify them: the runner feeds them to the next call). Default <see langword="false"/>.</summary>
    public bool ReturnStates { get; set; }
}

/// <summary>
/// One input of a declared warm-up sample: its shape and either values (inline) or a file of raw elements.
/// </summary>
public sealed class OnnxWarmUpTensor
{
    /// <summary>The shape, e.g. <c>[1, 16000]</c>; empty for a scalar.</summary>
    public IList<long> Shape { get; } = new List<long>();

    /// <summary>
    /// The values, row-major, converted to the input's element type: one value fills the tensor, otherwise one per
    /// element. Empty with no <see cref="File"/>: zeros.
    /// </summary>
    public IList<double> Values { get; } = new List<double>();

    /// <summary>
    /// A file of the tensor's raw little-endian elements (e.g. numpy's <c>array.astype("float32").tofile(path)</c>),
    /// instead of <see cref="Values"/>. A relative path is taken against the model file's folder.
    /// </summary>
    public string? File { get; set; }
}

/// <summary>A declared warm-up sample: a value for every input of the model.</summary>
public sealed class OnnxWarmUpSample
{
    /// <summary>The inputs by name; every input of the model must be given.</summary>
    public IDictionary<string, OnnxWarmUpTensor> Inputs { get; } = new Dictionary<string, OnnxWarmUpTensor>(StringComparer.Ordinal);
}

/// <summary>
/// What warm-up feeds the model (Triton's <c>model_warmup</c>). With <see cref="Samples"/> declared they are run (each
/// <see cref="OnnxRunnerOptions.WarmUpIterations"/> times) and one that fails fails the load. Otherwise inputs are
/// generated: zeros (or <see cref="InputValues"/>) with every free dimension 1 (or as in <see cref="DimensionSizes"/>),
/// and a generated warm-up the graph refuses leaves the model serving with the reason in its status.
/// </summary>
public sealed class OnnxWarmUpOptions
{
    /// <summary>Declared samples, e.g. several shapes of real inputs. Empty by default (generated warm-up).</summary>
    public IList<OnnxWarmUpSample> Samples { get; } = new List<OnnxWarmUpSample>();

    /// <summary>
    /// Sizes of free dimensions for generated warm-up, by symbol (<c>sequence = 16000</c> for an audio model whose Conv
    /// needs a minimum length). The batch dimension, when batching, still takes 1 and <c>MaxBatchSize</c>.
    /// </summary>
    public IDictionary<string, long> DimensionSizes { get; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>
    /// The value every element of a generated input takes, by input name (<c>sample_rate = 16000</c> for an int64 scalar
    /// that must not be 0); other inputs are zeros.
    /// </summary>
    public IDictionary<string, double> InputValues { get; } = new Dictionary<string, double>(StringComparer.Ordinal);
}

/// <summary>
/// How one model version is run: execution providers, ONNX Runtime session settings, input validation, batching,
/// queue bound, timeout, warm-up and reload behaviour. Read when the model is loaded (and on each reload).
/// </summary>
public class OnnxRunnerOptions
{
    /// <summary>
    /// The execution providers in order of preference. Empty (the default) means CUDA, then CPU. When a provider
    /// cannot be used the next one is tried, the reason is logged once and the runner reports itself
    /// <see cref="ModelReadiness.Degraded"/>. List only <see cref="OnnxExecutionProvider.Cpu"/> for a CPU-only service
    /// that is plainly ready.
    /// </summary>
    public IList<OnnxExecutionProvider> ExecutionProviders { get; } = new List<OnnxExecutionProvider>();

    /// <summary>
    /// When <see langword="true"/>, a GPU provider (CUDA or TensorRT, whichever listed) is mandatory: if none can be used the load fails with
    /// <see cref="ExecutionProviderUnavailableException"/> (and the host does not start) instead of falling back.
    /// </summary>
    public bool RequireGpu { get; set; }

    /// <summary>CUDA provider settings.</summary>
    public OnnxCudaOptions Cuda { get; set; } = new();

    /// <summary>Threads used inside one operator; 0 (the default) lets ONNX Runtime choose.</summary>
    public int IntraOpNumThreads { get; set; }

    /// <summary>Threads used to run independent operators in parallel; 0 (the default) lets ONNX Runtime choose.</summary>
    public int InterOpNumThreads { get; set; }

    /// <summary>Graph optimisation level. Default <see cref="OnnxGraphOptimizationLevel.All"/>.</summary>
    public OnnxGraphOptimizationLevel GraphOptimizationLevel { get; set; } = OnnxGraphOptimizationLevel.All;

    /// <summary>Where ONNX Runtime writes the optimised model (to inspect it or load it faster next time); optional.</summary>
    public string? OptimizedModelFilePath { get; set; }

    /// <summary>
    /// Asks for reproducible results where ONNX Runtime allows it: operators run sequentially and cuDNN uses its
    /// default convolution algorithm instead of a timing-based search. Costs speed. Default <see langword="false"/>.
    /// </summary>
    public bool DeterministicCompute { get; set; }

    /// <summary>Whether float inputs may contain NaN or Infinity. Default <see langword="false"/>: such calls fail with <see cref="ModelInputException"/>.</summary>
    public bool AllowNonFiniteInputs { get; set; }

    /// <summary>Micro-batching settings.</summary>
    public OnnxBatchingOptions Batching { get; set; } = new();

    /// <summary>Stateful sequences: state inputs carried between the calls of one sequence (<see cref="ModelRequest.SequenceId"/>).</summary>
    public OnnxSequenceOptions Sequences { get; set; } = new();

    /// <summary>
    /// The most calls that may be queued or running at once; further calls fail at once with
    /// <see cref="ModelRejectedException"/> instead of growing memory (or wait for room: <see cref="QueueFullMode"/>).
    /// Default 1024.
    /// </summary>
    public int MaxQueueLength { get; set; } = 1024;

    /// <summary>What a call does when <see cref="MaxQueueLength"/> calls are queued or running. Default <see cref="QueueFullMode.Reject"/>.</summary>
    public QueueFullMode QueueFullMode { get; set; }

    /// <summary>
    /// The most calls of this runner that run in ONNX Runtime at once when calls are not batched; further calls wait
    /// in a first-come first-served queue (bounded by <see cref="MaxQueueLength"/>) instead of taking more threads.
    /// 0 (the default) means the number of processors.
    /// </summary>
    public int MaxConcurrentRuns { get; set; }

    /// <summary>
    /// The longest a call may wait for room, a run slot or its batch; a call that waited longer fails with
    /// <see cref="ModelRejectedException"/> instead of running late (load shedding: the client has likely given up).
    /// <see langword="null"/> (the default) for no limit. Unlike <see cref="CallTimeout"/> it never stops a run.
    /// </summary>
    public TimeSpan? MaxQueueTime { get; set; }

    /// <summary>
    /// The most rows (first-dimension size) one call may carry; a larger call fails with
    /// <see cref="ModelInputException"/> before any native work, so one request cannot take the process's memory
    /// (a 16,384-row call of a mid-sized model went past 21 GB). Default 8192.
    /// </summary>
    public int MaxRowsPerCall { get; set; } = 8192;

    /// <summary>The longest a call may take, queueing included; <see langword="null"/> (the default) for no limit. A run in flight is terminated.</summary>
    public TimeSpan? CallTimeout { get; set; }

    /// <summary>Runs of each warm-up input set after a load and before the model reports ready. Default 2; 0 disables warm-up.</summary>
    public int WarmUpIterations { get; set; } = 2;

    /// <summary>What warm-up feeds the model: declared samples, or generated inputs with dimension sizes and values.</summary>
    public OnnxWarmUpOptions WarmUp { get; set; } = new();

    /// <summary>
    /// The SHA-256 (hex) the model file must have; a file with another hash is refused (a reload keeps the previous
    /// file serving). Optional. For a model with external data (initializers in files next to it) the pin covers the
    /// model and every external file: it is the SHA-256 of their <c>sha256sum</c> manifest, the model file first under
    /// its file name, then each external location in ordinal order (<c>(sha256sum model.onnx; sha256sum weights.bin) |
    /// sha256sum</c> in the model's folder); <see cref="OnnxModelRunner.Sha256"/> reports it. For <see cref="OnnxModelOptions"/> this pins the <see cref="OnnxModelOptions.Path"/>
    /// shortcut's file; entries of <see cref="OnnxModelOptions.Versions"/> carry their own.
    /// </summary>
    public string? ExpectedSha256 { get; set; }

    /// <summary>Whether to reload the model when its file changes (write the new file next to it and rename it over the old one). Default <see langword="false"/>.</summary>
    public bool WatchFile { get; set; }

    /// <summary>How long the file must stay unchanged before a watched file is reloaded. Default 1 second.</summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Copies every setting from <paramref name="source"/>.</summary>
    /// <param name="source">The options to copy.</param>
    internal void CopyFrom(OnnxRunnerOptions source)
    {
        ExecutionProviders.Clear();
        foreach (var p in source.ExecutionProviders)
        {
            ExecutionProviders.Add(p);
        }

        RequireGpu = source.RequireGpu;
        Cuda = new OnnxCudaOptions
        {
            DeviceId = source.Cuda.DeviceId,
            GpuMemoryLimitBytes = source.Cuda.GpuMemoryLimitBytes,
            ArenaExtendStrategy = source.Cuda.ArenaExtendStrategy,
            ConvAlgorithmSearch = source.Cuda.ConvAlgorithmSearch,
        };
        IntraOpNumThreads = source.IntraOpNumThreads;
        InterOpNumThreads = source.InterOpNumThreads;
        GraphOptimizationLevel = source.GraphOptimizationLevel;
        OptimizedModelFilePath = source.OptimizedModelFilePath;
        DeterministicCompute = source.DeterministicCompute;
        AllowNonFiniteInputs = source.AllowNonFiniteInputs;
        Batching = new OnnxBatchingOptions
        {
            Enabled = source.Batching.Enabled,
            MaxBatchSize = source.Batching.MaxBatchSize,
            MaxQueueDelay = source.Batching.MaxQueueDelay,
            MaxConcurrentBatches = source.Batching.MaxConcurrentBatches,
            AssumeFirstDimensionIsBatch = source.Batching.AssumeFirstDimensionIsBatch,
        };
        foreach (var size in source.Batching.PreferredBatchSizes)
        {
            Batching.PreferredBatchSizes.Add(size);
        }

        foreach (var (tensor, axis) in source.Batching.BatchAxes)
        {
            Batching.BatchAxes[tensor] = axis;
        }

        Sequences = new OnnxSequenceOptions
        {
            IdleTimeout = source.Sequences.IdleTimeout,
            MaxSequences = source.Sequences.MaxSequences,
            ReturnStates = source.Sequences.ReturnStates,
        };
        foreach (var (input, output) in source.Sequences.States)
        {
            Sequences.States[input] = output;
        }

        MaxQueueLength = source.MaxQueueLength;
        QueueFullMode = source.QueueFullMode;
        MaxConcurrentRuns = source.MaxConcurrentRuns;
        MaxQueueTime = source.MaxQueueTime;
        MaxRowsPerCall = source.MaxRowsPerCall;
        CallTimeout = source.CallTimeout;
        WarmUpIterations = source.WarmUpIterations;
        WarmUp = new OnnxWarmUpOptions();
        foreach (var sample in source.WarmUp.Samples)
        {
            WarmUp.Samples.Add(sample);
        }

        foreach (var (symbol, size) in source.WarmUp.DimensionSizes)
        {
            WarmUp.DimensionSizes[symbol] = size;
        }

        foreach (var (input, value) in source.WarmUp.InputValues)
        {
            WarmUp.InputValues[input] = value;
        }
        ExpectedSha256 = source.ExpectedSha256;
        WatchFile = source.WatchFile;
        ReloadDebounce = source.ReloadDebounce;
    }
}

/// <summary>One version of a model: which file to load and, optionally, the SHA-256 it must have.</summary>
public sealed class OnnxModelVersionOptions
{
    /// <summary>The version, e.g. <c>1</c> or <c>2.1</c>.</summary>
    public string? Version { get; set; }

    /// <summary>The path of the <c>.onnx</c> file.</summary>
    public string? Path { get; set; }

    /// <summary>The SHA-256 (hex) the file must have; a mismatch refuses to load it. Optional.</summary>
    public string? ExpectedSha256 { get; set; }
}

/// <summary>
/// A named model served through DI: one or more versions (each loaded side by side, so a canary can run stable and
/// candidate at once) sharing the runner settings inherited from <see cref="OnnxRunnerOptions"/>. Bound from
/// configuration section <c>AiOps:Models:&lt;name&gt;</c> by every overload of <c>AddOnnxModel</c> (configuration first,
/// then code); relative paths are taken against the host's content root.
/// </summary>
/// <example>
/// <code>
/// services.AddAiOpsInference().AddOnnxModel("fraud", o =>
/// {
///     o.Versions.Add(new OnnxModelVersionOptions { Version = "1", Path = "models/fraud-1.onnx" });
///     o.Versions.Add(new OnnxModelVersionOptions { Version = "2", Path = "models/fraud-2.onnx" });
///     o.DefaultVersion = "1";
/// });
/// </code>
/// For a single version, <c>o.Path = "models/fraud.onnx"</c> (version <c>1</c>, or <see cref="Version"/>) is enough.
/// </example>
public sealed class OnnxModelOptions : OnnxRunnerOptions
{
    /// <summary>
    /// The configuration section prefix of the models bound by <c>AddOnnxModel</c>: <c>AiOps:Models</c>, followed by the
    /// model name (<c>AiOps:Models:fraud</c>).
    /// </summary>
    public const string SectionPrefix = "AiOps:Models";

    /// <summary>Shortcut for a single version: its file. Combined with <see cref="Version"/> (default <c>1</c>).</summary>
    public string? Path { get; set; }

    /// <summary>Shortcut for a single version: its version (default <c>1</c>). Used only with <see cref="Path"/>.</summary>
    public string? Version { get; set; }

    /// <summary>The versions to load side by side.</summary>
    public IList<OnnxModelVersionOptions> Versions { get; } = new List<OnnxModelVersionOptions>();

    /// <summary>
    /// The version resolved for the keyed <see cref="IModelRunner"/> of this model; <see langword="null"/> (the default)
    /// means the newest version.
    /// </summary>
    public string? DefaultVersion { get; set; }

    /// <summary>Every declared version: <see cref="Versions"/> plus the <see cref="Path"/> shortcut.</summary>
    internal IReadOnlyList<OnnxModelVersionOptions> AllVersions()
    {
        var all = new List<OnnxModelVersionOptions>(Versions.Count + 1);
        if (!string.IsNullOrWhiteSpace(Path))
        {
            all.Add(new OnnxModelVersionOptions { Version = string.IsNullOrWhiteSpace(Version) ? "1" : Version, Path = Path, ExpectedSha256 = ExpectedSha256 });
        }

        all.AddRange(Versions);
        return all;
    }
}
