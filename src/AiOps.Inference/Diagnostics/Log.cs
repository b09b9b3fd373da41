using Microsoft.Extensions.Logging;

namespace AiOps.Inference.Diagnostics;

/// <summary>Source-generated log messages of AiOps.Inference.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Execution provider {Provider} cannot be used; falling back to {Fallback}. Reason: {Reason}")]
    public static partial void ProviderFallback(ILogger logger, string provider, string fallback, string reason);

    [LoggerMessage(2, LogLevel.Debug, "{Key}: execution provider {Provider} cannot be used (already reported); running on {Fallback}.")]
    public static partial void ProviderFallbackRepeated(ILogger logger, ModelKey key, string provider, string fallback);

    [LoggerMessage(3, LogLevel.Information, "{Key} loaded from {Path} (sha256 {Sha256}) on {Provider} in {ElapsedMs:F1} ms, warmed up with {WarmUpRuns} runs.")]
    public static partial void Loaded(ILogger logger, ModelKey key, string path, string sha256, string provider, double elapsedMs, int warmUpRuns);

    [LoggerMessage(4, LogLevel.Error, "{Key} failed to load; it will not serve. {Reason}")]
    public static partial void LoadFailed(ILogger logger, Exception exception, ModelKey key, string reason);

    [LoggerMessage(5, LogLevel.Error, "{Key}: reload failed; the previous file (sha256 {Sha256}) keeps serving. {Reason}")]
    public static partial void ReloadFailed(ILogger logger, Exception exception, ModelKey key, string? sha256, string reason);

    [LoggerMessage(6, LogLevel.Information, "{Key}: swapped to {Path} (sha256 {Sha256}); the previous session is disposed once its in-flight calls finish.")]
    public static partial void Swapped(ILogger logger, ModelKey key, string path, string sha256);

    [LoggerMessage(7, LogLevel.Warning, "{Key}: batching is enabled but the model cannot be batched ({Reason}); calls run one by one.")]
    public static partial void NotBatchable(ILogger logger, ModelKey key, string reason);

    [LoggerMessage(8, LogLevel.Information, "{Key}: model file {Path} changed; reloading.")]
    public static partial void FileChanged(ILogger logger, ModelKey key, string path);

    [LoggerMessage(9, LogLevel.Error, "Batch worker of {Key} failed a batch of {Count} calls.")]
    public static partial void BatchFailed(ILogger logger, Exception exception, ModelKey key, int count);

    [LoggerMessage(10, LogLevel.Warning, "{Key}: {Reason} The model serves; give it inputs that fit its graph or set WarmUpIterations = 0.")]
    public static partial void WarmUpSkipped(ILogger logger, Exception exception, ModelKey key, string reason);
}
