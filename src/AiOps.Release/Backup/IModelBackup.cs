namespace AiOps.Release.Backup;

/// <summary>
/// Copies model files to the backup folder (hash-verified, written under a temporary name then renamed), applies
/// backup and log retention. The hosted job calls it on a schedule; call it yourself for a backup now.
/// </summary>
/// <example>
/// <code>
/// var report = await host.Services.GetRequiredService&lt;IModelBackup&gt;().RunOnceAsync();
/// Console.WriteLine(report.Succeeded ? $"backed up to {report.Files[0].Destination}" : report.Files[0].Error);
/// </code>
/// </example>
public interface IModelBackup
{
    /// <summary>Backs up every configured model file, then applies retention. A failed file does not stop the others.</summary>
    /// <param name="cancellationToken">Cancels the run; a copy in progress is removed.</param>
    /// <returns>What was copied, deleted and what failed.</returns>
    ValueTask<ModelBackupReport> RunOnceAsync(CancellationToken cancellationToken = default);
}

/// <summary>The backup of one model file in a run.</summary>
/// <param name="Source">The model file.</param>
/// <param name="Destination">The verified backup, or <see langword="null"/> when it failed.</param>
/// <param name="Sha256">The SHA-256 of the source and the backup (lower-case hex), or <see langword="null"/> when it failed.</param>
/// <param name="Length">The bytes copied.</param>
/// <param name="Error">Why it failed (names the path), or <see langword="null"/>.</param>
public sealed record ModelBackupFileResult(string Source, string? Destination, string? Sha256, long Length, string? Error);

/// <summary>The result of one backup run.</summary>
/// <param name="StartedAt">When the run started.</param>
/// <param name="Files">One entry per configured model file.</param>
/// <param name="DeletedBackups">Old backups removed by <see cref="ModelBackupOptions.KeepPerFile"/>.</param>
/// <param name="DeletedLogs">Old <c>*.log</c> files removed by <see cref="ModelBackupOptions.LogRetentionDays"/>.</param>
public sealed record ModelBackupReport(
    DateTimeOffset StartedAt,
    IReadOnlyList<ModelBackupFileResult> Files,
    IReadOnlyList<string> DeletedBackups,
    IReadOnlyList<string> DeletedLogs)
{
    /// <summary>Whether every model file was backed up and verified.</summary>
    public bool Succeeded => Files.All(f => f.Error is null);
}
