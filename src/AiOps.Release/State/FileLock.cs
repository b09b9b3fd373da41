using System.Collections.Concurrent;
using AiOps.Release.Internal;

namespace AiOps.Release.State;

/// <summary>
/// An exclusive lock on a file path that holds across threads of this process (a semaphore per path) and across
/// processes (the lock file opened with <see cref="FileShare.None"/>).
/// </summary>
internal sealed class FileLock : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> s_gates = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_waitLimit = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _gate;
    private readonly FileStream _stream;

    private FileLock(SemaphoreSlim gate, FileStream stream)
    {
        _gate = gate;
        _stream = stream;
    }

    public static Task<FileLock> AcquireAsync(string lockPath, CancellationToken cancellationToken) =>
        AcquireAsync(lockPath, null, cancellationToken);

    /// <summary>Takes the lock; on Unix a <paramref name="fileMode"/> sets the lock file's mode and its new folder's.</summary>
    public static async Task<FileLock> AcquireAsync(string lockPath, UnixFileMode? fileMode, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(lockPath);
        var gate = s_gates.GetOrAdd(full, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (fileMode is { } mode && !OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!, AtomicFile.DirectoryModeFor(mode));
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            }

            var started = Environment.TickCount64;
            while (true)
            {
                try
                {
                    var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 };
                    if (fileMode is { } created && !OperatingSystem.IsWindows())
                    {
                        options.UnixCreateMode = created;
                    }

                    var stream = new FileStream(full, options);
                    return new FileLock(gate, stream);
                }
                catch (IOException) when (Environment.TickCount64 - started < s_waitLimit.TotalMilliseconds)
                {
                    // Another process holds the lock file. This wait is between processes only (threads of this process
                    // queue on the semaphore above), so real time is the right clock here, not the injected one.
                    await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _gate.Release();
    }
}
