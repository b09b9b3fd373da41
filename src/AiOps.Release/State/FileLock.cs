using System.Collections.Concurrent;

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

    public static async Task<FileLock> AcquireAsync(string lockPath, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(lockPath);
        var gate = s_gates.GetOrAdd(full, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var started = Environment.TickCount64;
            while (true)
            {
                try
                {
                    var stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
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
