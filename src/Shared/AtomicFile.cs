// Linked into several assemblies (src/Shared/Shared.props): each copy lives in its assembly's own namespace.
// Types are spelled in full (no using directives): the implicit usings differ between the projects that compile this.
#if AIOPS_SHARED_RELEASE
namespace AiOps.Release.Internal;
#elif AIOPS_SHARED_MONITORING
namespace AiOps.Monitoring.Internal;
#elif AIOPS_SHARED_DATA
namespace AiOps.Data.Internal;
#elif AIOPS_SHARED_INFERENCE
namespace AiOps.Inference.Internal;
#else
namespace AiOps.Internal;
#endif

/// <summary>
/// Writes files so that a reader, a concurrent writer or a crash sees either the old content or the new, never a mix:
/// the content goes to a uniquely named temporary file in the target's folder (<c>.&lt;name&gt;.&lt;guid&gt;.tmp</c>), is
/// flushed to the storage device, and the temporary file is renamed over the target. On failure the temporary file is
/// removed and the target is left as it was.
/// </summary>
internal static class AtomicFile
{
    /// <summary>The suffix of every temporary file (they also start with a dot).</summary>
    public const string TempSuffix = ".tmp";

    private static readonly System.Text.UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Owner-only file permissions (0600).</summary>
    public const System.IO.UnixFileMode OwnerOnlyFile = System.IO.UnixFileMode.UserRead | System.IO.UnixFileMode.UserWrite;

    /// <summary>Owner-only folder permissions (0700).</summary>
    public const System.IO.UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | System.IO.UnixFileMode.UserExecute;

    /// <summary>Starts a write of <paramref name="path"/> (creating its folder); write to <see cref="AtomicFileWriter.Stream"/>, then <see cref="AtomicFileWriter.Commit"/>.</summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="fileSystem">The file operations to go through (tests inject failures); <see cref="AtomicFileSystem.Default"/> when null.</param>
    /// <param name="expectedLength">The length the content will have, preallocated where the file system can; 0 when unknown.</param>
    /// <param name="unixFileMode">
    /// On Unix, the permissions of the new file (set before any content is written; folders this call creates get the
    /// same plus the execute bit of each read bit, e.g. 0600 files in 0700 folders); <see langword="null"/> (the default)
    /// keeps the process's umask. Ignored on Windows.
    /// </param>
    /// <returns>The writer; disposing it without a commit removes the temporary file.</returns>
    public static AtomicFileWriter Create(string path, AtomicFileSystem? fileSystem = null, long expectedLength = 0, System.IO.UnixFileMode? unixFileMode = null)
    {
        System.ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fs = fileSystem ?? AtomicFileSystem.Default;
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full)!;
        fs.CreateDirectory(directory, unixFileMode is { } m ? DirectoryModeFor(m) : null);
        var temp = TempPathFor(full);
        var stream = fs.CreateFile(temp, expectedLength);
        try
        {
            AtomicFileSystem.SetMode(temp, unixFileMode);
        }
        catch
        {
            stream.Dispose();
            fs.DeleteFile(temp);
            throw;
        }

        return new AtomicFileWriter(full, temp, fs, stream);
    }

    /// <summary>The folder permissions matching file permissions: each read bit gains its execute bit (0600 gives 0700, 0640 gives 0750).</summary>
    /// <param name="fileMode">The file permissions.</param>
    public static System.IO.UnixFileMode DirectoryModeFor(System.IO.UnixFileMode fileMode) =>
        fileMode
        | ((fileMode & System.IO.UnixFileMode.UserRead) != 0 ? System.IO.UnixFileMode.UserExecute : 0)
        | ((fileMode & System.IO.UnixFileMode.GroupRead) != 0 ? System.IO.UnixFileMode.GroupExecute : 0)
        | ((fileMode & System.IO.UnixFileMode.OtherRead) != 0 ? System.IO.UnixFileMode.OtherExecute : 0);

    /// <summary>A new unique temporary path beside <paramref name="path"/>.</summary>
    /// <param name="path">The target file.</param>
    public static string TempPathFor(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(full)!,
            "." + System.IO.Path.GetFileName(full) + "." + System.Guid.NewGuid().ToString("N") + TempSuffix);
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>, flushed to disk.</summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="content">The new content.</param>
    /// <param name="cancellationToken">Cancels the write; the target is then unchanged.</param>
    public static System.Threading.Tasks.Task WriteAllBytesAsync(string path, System.ReadOnlyMemory<byte> content, System.Threading.CancellationToken cancellationToken = default) =>
        WriteAllBytesAsync(path, content, null, cancellationToken);

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>, flushed to disk, with the given Unix permissions.</summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="content">The new content.</param>
    /// <param name="unixFileMode">On Unix, the new file's permissions (see <see cref="Create"/>); <see langword="null"/> keeps the umask.</param>
    /// <param name="cancellationToken">Cancels the write; the target is then unchanged.</param>
    public static async System.Threading.Tasks.Task WriteAllBytesAsync(
        string path, System.ReadOnlyMemory<byte> content, System.IO.UnixFileMode? unixFileMode, System.Threading.CancellationToken cancellationToken = default)
    {
        var writer = Create(path, expectedLength: content.Length, unixFileMode: unixFileMode);
        await using (writer.ConfigureAwait(false))
        {
            await writer.Stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            writer.Commit();
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> encoded as UTF-8 (no byte-order mark), flushed to disk.</summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="content">The new content.</param>
    /// <param name="cancellationToken">Cancels the write; the target is then unchanged.</param>
    public static System.Threading.Tasks.Task WriteAllTextAsync(string path, string content, System.Threading.CancellationToken cancellationToken = default) =>
        WriteAllBytesAsync(path, Utf8NoBom.GetBytes(content), cancellationToken);

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>, flushed to disk.</summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="content">The new content.</param>
    public static void WriteAllBytes(string path, System.ReadOnlySpan<byte> content)
    {
        using var writer = Create(path, expectedLength: content.Length);
        writer.Stream.Write(content);
        writer.Commit();
    }

    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> writes to the stream it is given, flushed to disk.</summary>
    /// <param name="path">The file to replace.</param>
    /// <param name="write">Writes the content; when it throws, the target is unchanged and the temporary file removed.</param>
    /// <param name="cancellationToken">Cancels the write; the target is then unchanged.</param>
    public static async System.Threading.Tasks.Task WriteAsync(
        string path,
        System.Func<System.IO.Stream, System.Threading.CancellationToken, System.Threading.Tasks.Task> write,
        System.Threading.CancellationToken cancellationToken = default)
    {
        System.ArgumentNullException.ThrowIfNull(write);
        var writer = Create(path);
        await using (writer.ConfigureAwait(false))
        {
            await write(writer.Stream, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            writer.Commit();
        }
    }
}

/// <summary>One atomic replacement of a file in progress (see <see cref="AtomicFile.Create"/>).</summary>
internal sealed class AtomicFileWriter : System.IDisposable, System.IAsyncDisposable
{
    private readonly AtomicFileSystem _fs;
    private bool _closed;
    private bool _done;

    internal AtomicFileWriter(string targetPath, string tempPath, AtomicFileSystem fs, System.IO.Stream stream)
    {
        TargetPath = targetPath;
        TempPath = tempPath;
        _fs = fs;
        Stream = stream;
    }

    /// <summary>The file this write replaces (full path).</summary>
    public string TargetPath { get; }

    /// <summary>The temporary file being written.</summary>
    public string TempPath { get; }

    /// <summary>The temporary file's stream: write the content here.</summary>
    public System.IO.Stream Stream { get; }

    /// <summary>Whether the new content is in place.</summary>
    public bool IsCommitted { get; private set; }

    /// <summary>Flushes the content to the storage device and closes the temporary file (so it can be read back before <see cref="Commit"/>); safe to call twice.</summary>
    public void Close()
    {
        if (_closed)
        {
            return;
        }

        try
        {
            Stream.Flush();
            _fs.FlushToDisk(Stream);
        }
        catch
        {
            _closed = true;
            try
            {
                Stream.Dispose();
            }
            catch (System.IO.IOException)
            {
                // The flush failed already (a full disk): report that failure, not this repeat of it.
            }

            throw;
        }

        _closed = true;
        Stream.Dispose();
    }

    /// <summary>Flushes and closes the temporary file, then renames it over <see cref="TargetPath"/>.</summary>
    public void Commit() => CommitAs(TargetPath);

    /// <summary>Flushes and closes the temporary file, then renames it over <paramref name="destination"/> (a path on the same file system, e.g. decided from the content's hash).</summary>
    /// <param name="destination">The file to replace.</param>
    public void CommitAs(string destination)
    {
        System.ObjectDisposedException.ThrowIf(_done, this);
        Close();
        _fs.MoveFile(TempPath, destination);
        IsCommitted = true;
        _done = true;
    }

    /// <summary>Removes the temporary file unless the write was committed.</summary>
    public void Dispose()
    {
        if (_done && IsCommitted)
        {
            return;
        }

        _done = true;
        if (!_closed)
        {
            _closed = true;
            try
            {
                Stream.Dispose();
            }
            catch (System.IO.IOException)
            {
                // Flushing a failed write can fail again (a full disk): the temporary file is removed below either way.
            }
        }

        try
        {
            _fs.DeleteFile(TempPath);
        }
        catch (System.IO.IOException)
        {
            // Best effort: a leftover temporary file is harmless and named so it is recognisable.
        }
        catch (System.UnauthorizedAccessException)
        {
            // Same as above.
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public System.Threading.Tasks.ValueTask DisposeAsync()
    {
        Dispose();
        return System.Threading.Tasks.ValueTask.CompletedTask;
    }
}

/// <summary>The file operations an atomic write goes through; tests derive from it to inject a full disk, a denied permission or a crash.</summary>
internal class AtomicFileSystem
{
    /// <summary>The real file system.</summary>
    public static AtomicFileSystem Default { get; } = new();

    /// <summary>Creates a new file for writing (fails when it exists); <paramref name="length"/> is preallocated where the file system can.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="length">The expected length; 0 when unknown.</param>
    public virtual System.IO.Stream CreateFile(string path, long length) => new System.IO.FileStream(path, new System.IO.FileStreamOptions
    {
        Mode = System.IO.FileMode.CreateNew,
        Access = System.IO.FileAccess.Write,
        Share = System.IO.FileShare.None,
        BufferSize = 1 << 14,
        PreallocationSize = length,
    });

    /// <summary>Forces written data to the storage device.</summary>
    /// <param name="stream">A stream from <see cref="CreateFile"/>.</param>
    public virtual void FlushToDisk(System.IO.Stream stream)
    {
        if (stream is System.IO.FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
        else
        {
            stream.Flush();
        }
    }

    /// <summary>Creates a folder (and its parents).</summary>
    /// <param name="path">The folder.</param>
    public virtual void CreateDirectory(string path) => System.IO.Directory.CreateDirectory(path);

    /// <summary>
    /// Creates a folder (and its parents) through <see cref="CreateDirectory(string)"/>; on Unix each folder this call
    /// created gets <paramref name="unixMode"/> (folders that existed are left as they are). Ignored on Windows or when null.
    /// </summary>
    /// <param name="path">The folder.</param>
    /// <param name="unixMode">The permissions of created folders, or <see langword="null"/> for the umask's.</param>
    public void CreateDirectory(string path, System.IO.UnixFileMode? unixMode)
    {
        if (unixMode is null || System.OperatingSystem.IsWindows())
        {
            CreateDirectory(path);
            return;
        }

        var missing = new System.Collections.Generic.List<string>();
        for (var p = System.IO.Path.GetFullPath(path); !string.IsNullOrEmpty(p) && !System.IO.Directory.Exists(p); p = System.IO.Path.GetDirectoryName(p))
        {
            missing.Add(p);
        }

        CreateDirectory(path);
        for (var i = missing.Count - 1; i >= 0; i--)
        {
            SetMode(missing[i], unixMode);
        }
    }

    /// <summary>Sets the Unix permissions of a file or folder; nothing on Windows or when <paramref name="unixMode"/> is null.</summary>
    /// <param name="path">The file or folder.</param>
    /// <param name="unixMode">The permissions.</param>
    public static void SetMode(string path, System.IO.UnixFileMode? unixMode)
    {
        if (unixMode is { } mode && !System.OperatingSystem.IsWindows())
        {
            System.IO.File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Renames a file, replacing the destination (atomic on a local POSIX file system and on NTFS).</summary>
    /// <param name="source">The file to rename.</param>
    /// <param name="destination">Its new name.</param>
    public virtual void MoveFile(string source, string destination) => System.IO.File.Move(source, destination, overwrite: true);

    /// <summary>Deletes a file (nothing when it does not exist).</summary>
    /// <param name="path">The file.</param>
    public virtual void DeleteFile(string path) => System.IO.File.Delete(path);
}
