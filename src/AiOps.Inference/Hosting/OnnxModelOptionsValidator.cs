using Microsoft.Extensions.Options;

namespace AiOps.Inference.Hosting;

/// <summary>A model registered with <c>AddOnnxModel</c>.</summary>
internal sealed class OnnxModelRegistration(string name)
{
    public string Name { get; } = name;
}

/// <summary>Validates <see cref="OnnxModelOptions"/> of registered models at start-up, naming the bad setting.</summary>
internal sealed class OnnxModelOptionsValidator(IEnumerable<OnnxModelRegistration> registrations) : IValidateOptions<OnnxModelOptions>
{
    private readonly HashSet<string> _models = new(registrations.Select(r => r.Name), StringComparer.Ordinal);

    public ValidateOptionsResult Validate(string? name, OnnxModelOptions options)
    {
        if (name is null || !_models.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }

        var prefix = $"{OnnxModelOptions.SectionPrefix}:{name}:";
        var errors = Validate(options, prefix);
        var declared = new List<(OnnxModelVersionOptions Version, string At)>();
        if (!string.IsNullOrWhiteSpace(options.Path))
        {
            declared.Add((options.AllVersions()[0], prefix));
        }

        for (var i = 0; i < options.Versions.Count; i++)
        {
            declared.Add((options.Versions[i], $"{prefix}Versions:{i}:"));
        }

        if (declared.Count == 0)
        {
            errors.Add($"{prefix}Versions is empty; expected at least one version with a Path (or set {prefix}Path).");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (v, at) in declared)
        {
            if (v is null)
            {
                errors.Add($"{at.TrimEnd(':')} is null; expected a version with a Version and a Path.");
                continue;
            }

            if (!ModelVersion.IsValid(v.Version, out _))
            {
                var shown = string.IsNullOrWhiteSpace(v.Version) ? "empty" : $"'{v.Version}'";
                errors.Add($"{at}Version is {shown}; expected a version of 1 to 32 letters, digits, '.', '-' or '_', not starting with '.' and without '..' (e.g. '2.1').");
            }
            else if (!seen.Add(v.Version!))
            {
                errors.Add($"{at}Version is '{v.Version}', which is declared twice; expected each version once.");
            }

            if (string.IsNullOrWhiteSpace(v.Path))
            {
                errors.Add($"{at}Path is empty; expected the path of the version's .onnx file.");
            }

            if (v.ExpectedSha256 is not null && !IsSha256(v.ExpectedSha256) && !ReferenceEquals(at, prefix))
            {
                errors.Add($"{at}ExpectedSha256 is '{v.ExpectedSha256}'; expected 64 hexadecimal characters.");
            }
        }

        if (options.DefaultVersion is { } defaultVersion && !seen.Contains(defaultVersion))
        {
            errors.Add($"{prefix}DefaultVersion is '{defaultVersion}'; expected one of the declared versions ({string.Join(", ", seen)}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Checks the runner settings; each message names the setting, the value and what is expected.</summary>
    public static List<string> Validate(OnnxRunnerOptions options, string prefix = "")
    {
        var errors = new List<string>();
        if (options.ExecutionProviders.Distinct().Count() != options.ExecutionProviders.Count)
        {
            errors.Add($"{prefix}ExecutionProviders is [{string.Join(", ", options.ExecutionProviders)}]; expected each provider at most once.");
        }

        if (options.RequireGpu && options.ExecutionProviders.Count > 0
            && !options.ExecutionProviders.Contains(OnnxExecutionProvider.Cuda) && !options.ExecutionProviders.Contains(OnnxExecutionProvider.TensorRt))
        {
            errors.Add($"{prefix}ExecutionProviders is [{string.Join(", ", options.ExecutionProviders)}]; expected Cuda or TensorRt in the list because {prefix}RequireGpu is true.");
        }

        if (options.ExecutionProviders.Any(p => !Enum.IsDefined(p)))
        {
            errors.Add($"{prefix}ExecutionProviders is [{string.Join(", ", options.ExecutionProviders)}]; expected Cpu, Cuda or TensorRt.");
        }

        if (options.Cuda is null)
        {
            errors.Add($"{prefix}Cuda is null; expected CUDA settings (leave it unset for the defaults).");
        }
        else
        {
            if (options.Cuda.DeviceId < 0)
            {
                errors.Add($"{prefix}Cuda:DeviceId is {options.Cuda.DeviceId}; expected 0 or more.");
            }

            if (options.Cuda.GpuMemoryLimitBytes is <= 0)
            {
                errors.Add($"{prefix}Cuda:GpuMemoryLimitBytes is {options.Cuda.GpuMemoryLimitBytes}; expected a positive number of bytes or no limit.");
            }
        }

        if (options.IntraOpNumThreads < 0)
        {
            errors.Add($"{prefix}IntraOpNumThreads is {options.IntraOpNumThreads}; expected 0 (ONNX Runtime decides) or more.");
        }

        if (options.InterOpNumThreads < 0)
        {
            errors.Add($"{prefix}InterOpNumThreads is {options.InterOpNumThreads}; expected 0 (ONNX Runtime decides) or more.");
        }

        if (options.Batching is null)
        {
            errors.Add($"{prefix}Batching is null; expected batching settings (leave it unset for the defaults).");
        }
        else
        {
            if (options.Batching.MaxBatchSize < 1)
            {
                errors.Add($"{prefix}Batching:MaxBatchSize is {options.Batching.MaxBatchSize}; expected 1 or more.");
            }

            if (options.Batching.MaxQueueDelay < TimeSpan.Zero || options.Batching.MaxQueueDelay > TimeSpan.FromSeconds(10))
            {
                errors.Add($"{prefix}Batching:MaxQueueDelay is {options.Batching.MaxQueueDelay}; expected between 0 and 10 seconds.");
            }

            if (options.Batching.MaxConcurrentBatches is < 1 or > 64)
            {
                errors.Add($"{prefix}Batching:MaxConcurrentBatches is {options.Batching.MaxConcurrentBatches}; expected between 1 and 64.");
            }

            for (var i = 0; i < options.Batching.PreferredBatchSizes.Count; i++)
            {
                var size = options.Batching.PreferredBatchSizes[i];
                if (size < 1 || size > options.Batching.MaxBatchSize)
                {
                    errors.Add($"{prefix}Batching:PreferredBatchSizes:{i} is {size}; expected between 1 and {prefix}Batching:MaxBatchSize ({options.Batching.MaxBatchSize}).");
                }
            }
        }

        if (options.Sequences is null)
        {
            errors.Add($"{prefix}Sequences is null; expected sequence settings (leave it unset for a stateless model).");
        }
        else if (options.Sequences.States.Count > 0)
        {
            foreach (var (input, output) in options.Sequences.States)
            {
                if (string.IsNullOrWhiteSpace(input) || string.IsNullOrWhiteSpace(output))
                {
                    errors.Add($"{prefix}Sequences:States:{input} is '{output}'; expected a state input name mapped to the output that carries its next value.");
                }
            }

            if (options.Sequences.States.Values.Distinct(StringComparer.Ordinal).Count() != options.Sequences.States.Count)
            {
                errors.Add($"{prefix}Sequences:States maps two inputs to one output ({string.Join(", ", options.Sequences.States.Select(p => $"{p.Key} = {p.Value}"))}); expected one output per state input.");
            }

            if (options.Sequences.IdleTimeout <= TimeSpan.Zero)
            {
                errors.Add($"{prefix}Sequences:IdleTimeout is {options.Sequences.IdleTimeout}; expected a positive duration.");
            }

            if (options.Sequences.MaxSequences < 1)
            {
                errors.Add($"{prefix}Sequences:MaxSequences is {options.Sequences.MaxSequences}; expected 1 or more.");
            }

            if (options.Batching is { Enabled: true })
            {
                errors.Add($"{prefix}Batching:Enabled is true with {prefix}Sequences:States set; expected batching off: a stateful model runs unbatched (each sequence has its own state).");
            }
        }

        if (options.MaxRowsPerCall < 1)
        {
            errors.Add($"{prefix}MaxRowsPerCall is {options.MaxRowsPerCall}; expected 1 or more.");
        }

        if (options.MaxQueueLength < 1)
        {
            errors.Add($"{prefix}MaxQueueLength is {options.MaxQueueLength}; expected 1 or more.");
        }

        if (!Enum.IsDefined(options.QueueFullMode))
        {
            errors.Add($"{prefix}QueueFullMode is {options.QueueFullMode}; expected Reject or Wait.");
        }

        if (options.MaxConcurrentRuns < 0)
        {
            errors.Add($"{prefix}MaxConcurrentRuns is {options.MaxConcurrentRuns}; expected 0 (the number of processors) or more.");
        }

        if (options.MaxQueueTime is { } queueTime && queueTime <= TimeSpan.Zero)
        {
            errors.Add($"{prefix}MaxQueueTime is {queueTime}; expected a positive duration or no limit.");
        }

        if (options.CallTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            errors.Add($"{prefix}CallTimeout is {timeout}; expected a positive duration or no timeout.");
        }

        if (options.WarmUpIterations < 0)
        {
            errors.Add($"{prefix}WarmUpIterations is {options.WarmUpIterations}; expected 0 (no warm-up) or more.");
        }

        if (options.WarmUp is null)
        {
            errors.Add($"{prefix}WarmUp is null; expected warm-up settings (leave it unset for the defaults).");
        }
        else
        {
            foreach (var (symbol, size) in options.WarmUp.DimensionSizes)
            {
                if (size < 1)
                {
                    errors.Add($"{prefix}WarmUp:DimensionSizes:{symbol} is {size}; expected 1 or more.");
                }
            }

            for (var i = 0; i < options.WarmUp.Samples.Count; i++)
            {
                var sample = options.WarmUp.Samples[i];
                if (sample is null || sample.Inputs.Count == 0)
                {
                    errors.Add($"{prefix}WarmUp:Samples:{i}:Inputs is empty; expected a value for every input of the model.");
                    continue;
                }

                foreach (var (input, tensor) in sample.Inputs)
                {
                    var at = $"{prefix}WarmUp:Samples:{i}:Inputs:{input}";
                    if (tensor is null)
                    {
                        errors.Add($"{at} is null; expected a Shape and Values or a File.");
                        continue;
                    }

                    if (tensor.Shape.Any(d => d < 0))
                    {
                        errors.Add($"{at}:Shape is [{string.Join(", ", tensor.Shape)}]; expected sizes of 0 or more.");
                        continue;
                    }

                    long count = 1;
                    foreach (var d in tensor.Shape)
                    {
                        count *= d;
                    }

                    if (tensor.File is not null && tensor.Values.Count > 0)
                    {
                        errors.Add($"{at} has both Values and File; expected one of them.");
                    }
                    else if (tensor.Values.Count > 1 && tensor.Values.Count != count)
                    {
                        errors.Add($"{at}:Values has {tensor.Values.Count} values; expected 1 (fills the tensor) or {count} (the shape's element count).");
                    }
                }
            }
        }

        if (options.ReloadDebounce < TimeSpan.Zero)
        {
            errors.Add($"{prefix}ReloadDebounce is {options.ReloadDebounce}; expected 0 or more.");
        }

        if (options.ExpectedSha256 is not null && !IsSha256(options.ExpectedSha256))
        {
            errors.Add($"{prefix}ExpectedSha256 is '{options.ExpectedSha256}'; expected 64 hexadecimal characters.");
        }

        return errors;
    }

    private static bool IsSha256(string value)
    {
        var trimmed = value.Trim();
        return trimmed.Length == 64 && trimmed.All(char.IsAsciiHexDigit);
    }
}
