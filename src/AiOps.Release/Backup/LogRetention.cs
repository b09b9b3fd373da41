using System.IO.Enumeration;
using System.Runtime.InteropServices;
using AiOps.Release.Checkpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace AiOps.Release.Backup;

/// <summary>
/// Deletes old <c>*.log</c> files under given folders without ever leaving them, even while someone swaps a sub-folder
/// for a symbolic link. On Linux and macOS every step is relative to an open handle of a folder that was itself opened
/// without following links (<c>openat</c> with <c>O_NOFOLLOW</c>, <c>unlinkat</c>): a path is never resolved again after
/// it was checked, so there is no window between check and delete. Elsewhere each folder is re-checked (no link in any
/// component below the root) immediately before each delete.
/// </summary>
internal static partial class LogRetention
{
    /// <summary>
    /// Deletes old logs; <paramref name="beforeStep"/> (tests) runs before a folder is entered and before each delete,
    /// with the path concerned; <paramref name="portableOnly"/> (tests) takes the path-based fallback of other platforms.
    /// </summary>
    public static List<string> DeleteOldLogs(
        IEnumerable<string> folders, DateTimeOffset cutoff, CheckpointFileSystem fileSystem, ILogger logger, Action<string>? beforeStep = null, bool portableOnly = false)
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

            if (!portableOnly && Posix.Flags is { } flags)
            {
                // The root itself is what the operator configured (it may be a link); nothing below it is followed.
                var fd = Posix.Open(root, flags.Directory);
                if (fd < 0)
                {
                    LogDeleteFailed(logger, root, new IOException($"Cannot open log folder '{root}' (errno {Marshal.GetLastPInvokeError()})."));
                    continue;
                }

                try
                {
                    DeleteUnder(fd, root, cutoff.UtcDateTime, flags, deleted, logger, beforeStep, depth: 0);
                }
                finally
                {
                    _ = Posix.Close(fd);
                }
            }
            else
            {
                DeleteByPath(root, cutoff, fileSystem, logger, beforeStep, deleted);
            }
        }

        return deleted;
    }

    private const int MaxDepth = 64;

    private static void DeleteUnder(
        int dirFd, string displayPath, DateTime cutoffUtc, Posix.OpenFlags flags, List<string> deleted, ILogger logger, Action<string>? beforeStep, int depth)
    {
        List<string> names;
        try
        {
            // On Linux list the very folder held open (/proc/self/fd), never the path, which may have been swapped since.
            // Elsewhere the names come from the path; a name from a swapped-in folder is then looked up in ours and not found.
            var listed = OperatingSystem.IsLinux() ? $"/proc/self/fd/{dirFd}" : displayPath;
            names = [.. Directory.EnumerateFileSystemEntries(listed).Select(Path.GetFileName).OfType<string>()];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(logger, displayPath, ex);
            return;
        }

        foreach (var name in names)
        {
            var path = displayPath + Path.DirectorySeparatorChar + name;
            beforeStep?.Invoke(path);

            // A folder is entered only through a handle opened without following links: a link (to anything) fails with ELOOP or ENOTDIR.
            var sub = depth < MaxDepth ? Posix.OpenAt(dirFd, name, flags.Directory) : -1;
            if (sub >= 0)
            {
                try
                {
                    DeleteUnder(sub, path, cutoffUtc, flags, deleted, logger, beforeStep, depth + 1);
                }
                finally
                {
                    _ = Posix.Close(sub);
                }

                continue;
            }

            if (!name.EndsWith(".log", StringComparison.Ordinal))
            {
                continue;
            }

            var fileFd = Posix.OpenAt(dirFd, name, flags.File);
            if (fileFd < 0)
            {
                continue; // a link, gone, or unreadable: left alone
            }

            bool old;
            using (var handle = new SafeFileHandle(fileFd, ownsHandle: true))
            {
                try
                {
                    old = (File.GetAttributes(handle) & (FileAttributes.Directory | FileAttributes.ReparsePoint)) == 0
                        && File.GetLastWriteTimeUtc(handle) < cutoffUtc;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogDeleteFailed(logger, path, ex);
                    continue;
                }
            }

            if (!old)
            {
                continue;
            }

            beforeStep?.Invoke(path);

            // unlinkat never follows the last component and, relative to our handle, no earlier one.
            if (Posix.UnlinkAt(dirFd, name, 0) == 0)
            {
                deleted.Add(path);
            }
            else
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Posix.Enoent)
                {
                    LogDeleteFailed(logger, path, new IOException($"unlinkat failed with errno {errno}."));
                }
            }
        }
    }

    /// <summary>The portable fallback: enumerate without recursing into links, and re-check every component below the root before each delete.</summary>
    private static void DeleteByPath(string root, DateTimeOffset cutoff, CheckpointFileSystem fileSystem, ILogger logger, Action<string>? beforeStep, List<string> deleted)
    {
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
            beforeStep?.Invoke(path);
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !NoLinkBelow(root, path))
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

    private static bool NoLinkBelow(string root, string path)
    {
        for (var p = path; p.Length > root.Length; p = Path.GetDirectoryName(p)!)
        {
            var info = new FileInfo(p);
            if (!info.Exists && !Directory.Exists(p))
            {
                return false;
            }

            if (info.LinkTarget is not null || (info.Attributes & FileAttributes.ReparsePoint) != 0)
            {
                return false;
            }
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log folder '{Folder}' does not exist; no logs deleted there.")]
    private static partial void LogMissingFolder(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete old log '{Path}'.")]
    private static partial void LogDeleteFailed(ILogger logger, string path, Exception exception);

    /// <summary>The few libc calls handle-relative deletion needs, with the flag values of each supported platform.</summary>
    private static class Posix
    {
        public const int Enoent = 2;

        /// <summary>The open flags for a folder and for a file, both without following a link; <see langword="null"/> where unsupported.</summary>
        public static readonly OpenFlags? Flags = Detect();

        private static OpenFlags? Detect()
        {
            if (OperatingSystem.IsLinux())
            {
                const int oNonblock = 0x800, oCloexec = 0x80000;
                var (oDirectory, oNofollow) = RuntimeInformation.ProcessArchitecture switch
                {
                    Architecture.X64 or Architecture.X86 => (0x10000, 0x20000),
                    Architecture.Arm64 or Architecture.Arm => (0x4000, 0x8000),
                    _ => (0, 0),
                };
                return oDirectory == 0 ? null : new OpenFlags(oDirectory | oNofollow | oCloexec, oNofollow | oNonblock | oCloexec, -100);
            }

            if (OperatingSystem.IsMacOS())
            {
                const int oNonblock = 0x4, oNofollow = 0x100, oDirectory = 0x100000, oCloexec = 0x1000000;
                return new OpenFlags(oDirectory | oNofollow | oCloexec, oNofollow | oNonblock | oCloexec, -2);
            }

            return null;
        }

        public static int Open(string path, int flags) => openat(Flags!.Value.AtFdCwd, path, flags, 0);

        public static int OpenAt(int dirFd, string name, int flags) => openat(dirFd, name, flags, 0);

        public static int UnlinkAt(int dirFd, string name, int flags) => unlinkat(dirFd, name, flags);

        public static int Close(int fd) => close(fd);

        internal readonly record struct OpenFlags(int Directory, int File, int AtFdCwd);

#pragma warning disable SYSLIB1054 // DllImport on purpose: LibraryImport needs unsafe code, which this package does not allow.
#pragma warning disable CA2101 // UTF-8 marshalling is explicit.
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int openat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, int mode);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int unlinkat(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int close(int fd);
#pragma warning restore CA2101
#pragma warning restore SYSLIB1054
    }
}
