using System.IO.Enumeration;
using AiOps.Release.Checkpoints;
using Microsoft.Extensions.Logging;

namespace AiOps.Release.Backup;

/// <summary>Deletes old <c>*.log</c> files under given folders without ever following a link out of them.</summary>
internal static partial class LogRetention
{
    public static List<string> DeleteOldLogs(IEnumerable<string> folders, DateTimeOffset cutoff, CheckpointFileSystem fileSystem, ILogger logger)
    {
        var deleted = new List<string>();
        foreach (var folder in folders)
        {
            var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
            if (!Directory.Exists(root))
            {
                LogMissingFolder(logger, root);
                continue;
            }

            // A symbolic link (to a file or a folder) carries ReparsePoint on every OS: never descend into or delete one.
            var candidates = new FileSystemEnumerable<string>(
                root,
                (ref FileSystemEntry entry) => entry.ToFullPath(),
                new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
            {
                ShouldRecursePredicate = (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
                ShouldIncludePredicate = (ref FileSystemEntry entry) =>
                    !entry.IsDirectory
                    && (entry.Attributes & FileAttributes.ReparsePoint) == 0
                    && entry.FileName.EndsWith(".log", StringComparison.Ordinal)
                    && entry.LastWriteTimeUtc < cutoff,
            };

            foreach (var path in candidates.ToList())
            {
                // Belt and braces: the path must still be a plain file under the root when we delete it.
                if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || new FileInfo(path).LinkTarget is not null)
                {
                    continue;
                }

                try
                {
                    fileSystem.DeleteFile(path);
                    deleted.Add(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogDeleteFailed(logger, path, ex);
                }
            }
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log folder '{Folder}' does not exist; no logs deleted there.")]
    private static partial void LogMissingFolder(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete old log '{Path}'.")]
    private static partial void LogDeleteFailed(ILogger logger, string path, Exception exception);
}
