using AiOps.Release.Internal;

namespace AiOps.Release.Checkpoints;

/// <summary>
/// The few file-system operations checkpoint and backup writes go through (the atomic file writer's, plus folders).
/// Tests derive from it to inject a full disk, a denied permission or a crash; production uses <see cref="Default"/>.
/// </summary>
internal class CheckpointFileSystem : AtomicFileSystem
{
    /// <summary>The real file system.</summary>
    public static new CheckpointFileSystem Default { get; } = new();

    private const int CorEIo = unchecked((int)0x80131620);

    /// <summary>Creates a new file for writing; <paramref name="length"/> is preallocated where the file system can.</summary>
    public override Stream CreateFile(string path, long length)
    {
        try
        {
            return Open(path, length);
        }
        catch (IOException ex) when (length > 0 && ex.HResult == CorEIo)
        {
            // A failed preallocation (no space for 'length' bytes) is reported without its errno; open without it so the
            // write fails with the real error (ENOSPC, EDQUOT) that names the cause.
            return Open(path, 0);
        }
    }

    private static FileStream Open(string path, long preallocationSize) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.Write,
        Share = FileShare.None,
        BufferSize = 0,
        PreallocationSize = preallocationSize,
    });

    /// <summary>Renames a folder (atomic on a local POSIX file system).</summary>
    public virtual void MoveDirectory(string source, string destination) => Directory.Move(source, destination);

    /// <summary>Deletes a folder and everything in it.</summary>
    public virtual void DeleteDirectory(string path) => Directory.Delete(path, recursive: true);
}

/// <summary>Classifies I/O errors portably (errno on Unix, Win32 codes on Windows).</summary>
internal static class IoErrors
{
    private const int Enospc = 28;
    private const int Erofs = 30;
    private const int EdquotLinux = 122;
    private const int EdquotMac = 69;
    private const int ErrorHandleDiskFull = 39;
    private const int ErrorDiskFull = 112;

    /// <summary>Maps an exception to a failure kind, or <see langword="null"/> when it is not an I/O error.</summary>
    public static CheckpointStorageFailure? Classify(Exception exception)
    {
        switch (exception)
        {
            case UnauthorizedAccessException:
                return CheckpointStorageFailure.PermissionDenied;
            case IOException io:
                var code = io.HResult;
                if (OperatingSystem.IsWindows())
                {
                    var win32 = code & 0xFFFF;
                    return win32 is ErrorDiskFull or ErrorHandleDiskFull ? CheckpointStorageFailure.DiskFull : CheckpointStorageFailure.IoError;
                }

                if (code == Enospc || (OperatingSystem.IsLinux() && code == EdquotLinux) || (OperatingSystem.IsMacOS() && code == EdquotMac))
                {
                    return CheckpointStorageFailure.DiskFull;
                }

                return code == Erofs ? CheckpointStorageFailure.ReadOnlyFileSystem : CheckpointStorageFailure.IoError;
            default:
                return null;
        }
    }

    /// <summary>Words for a failure kind, for messages.</summary>
    public static string Describe(CheckpointStorageFailure failure, Exception exception) => failure switch
    {
        CheckpointStorageFailure.DiskFull => "the disk is full (ENOSPC)",
        CheckpointStorageFailure.PermissionDenied => "permission was denied (EACCES)",
        CheckpointStorageFailure.ReadOnlyFileSystem => "the file system is read-only (EROFS)",
        _ => $"an I/O error occurred ({exception.Message})",
    };
}
