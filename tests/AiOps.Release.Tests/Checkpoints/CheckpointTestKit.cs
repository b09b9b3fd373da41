using System.Diagnostics.Metrics;
using AiOps.Checkpoints;
using AiOps.Release.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Release.Tests.Checkpoints;

/// <summary>A unique temporary folder, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "aiops-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Thrown by a stage hook: the process "dies" here.</summary>
public sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// A file system that can fail like a real one (ENOSPC after N bytes, EACCES on create) and, once crashed, stops
/// touching the disk at all, as a dead process would (no clean-up runs).
/// </summary>
internal sealed class FaultyFileSystem : CheckpointFileSystem
{
    public const int Enospc = 28;

    public bool Crashed { get; set; }

    /// <summary>Total bytes the "disk" accepts across all files written through this instance; null = unlimited.</summary>
    public long? FreeBytes { get; set; }

    public Func<string, Exception?>? OnCreateFile { get; set; }

    public Func<string, Exception?>? OnCreateDirectory { get; set; }

    /// <summary>Flips the first byte written to files whose name ends like this (silent corruption).</summary>
    public string? CorruptFilesEndingWith { get; set; }

    public static IOException DiskFull(string path) => new($"No space left on device : '{path}'", Enospc);

    public override Stream CreateFile(string path, long length)
    {
        if (OnCreateFile?.Invoke(path) is { } error)
        {
            throw error;
        }

        var inner = base.CreateFile(path, 0);
        return new FaultyStream(this, inner, path, CorruptFilesEndingWith is { } end && path.EndsWith(end, StringComparison.Ordinal));
    }

    public override void CreateDirectory(string path)
    {
        if (OnCreateDirectory?.Invoke(path) is { } error)
        {
            throw error;
        }

        base.CreateDirectory(path);
    }

    public override void DeleteDirectory(string path)
    {
        if (!Crashed)
        {
            base.DeleteDirectory(path);
        }
    }

    public override void DeleteFile(string path)
    {
        if (!Crashed)
        {
            base.DeleteFile(path);
        }
    }

    private sealed class FaultyStream(FaultyFileSystem owner, Stream inner, string path, bool corrupt) : Stream
    {
        private bool _corrupted;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (owner.FreeBytes is { } free)
            {
                if (buffer.Length > free)
                {
                    inner.Write(buffer[..(int)free]);
                    owner.FreeBytes = 0;
                    throw DiskFull(path);
                }

                owner.FreeBytes = free - buffer.Length;
            }

            if (corrupt && !_corrupted && buffer.Length > 0)
            {
                var copy = buffer.ToArray();
                copy[0] ^= 0xFF;
                _corrupted = true;
                inner.Write(copy);
                return;
            }

            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>Builds stores and managers over a folder with fake time, a fake logger and a real meter factory.</summary>
internal sealed class CheckpointHarness : IAsyncDisposable
{
    private readonly ServiceProvider _metricsProvider;
    private readonly List<CheckpointManager> _managers = [];

    public CheckpointHarness(string directory, Action<CheckpointOptions>? configure = null, FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2024, 8, 1, 10, 0, 0, TimeSpan.Zero));
        Options = new CheckpointOptions { Directory = directory };
        configure?.Invoke(Options);
        _metricsProvider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _metricsProvider.GetRequiredService<IMeterFactory>();
    }

    public FakeTimeProvider Time { get; }

    public CheckpointOptions Options { get; }

    public IMeterFactory MeterFactory { get; }

    public FakeLogger<FileCheckpointStore> StoreLogger { get; } = new();

    public FakeLogger<CheckpointManager> ManagerLogger { get; } = new();

    public FileCheckpointStore NewStore() => new(Microsoft.Extensions.Options.Options.Create(Options), Time, StoreLogger);

    public CheckpointManager NewManager(ICheckpointStore? store = null)
    {
        var manager = new CheckpointManager(store ?? NewStore(), Microsoft.Extensions.Options.Options.Create(Options), Time, ManagerLogger, MeterFactory);
        _managers.Add(manager);
        return manager;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var manager in _managers)
        {
            await manager.DisposeAsync();
        }

        await _metricsProvider.DisposeAsync();
    }

    public static CheckpointContent Content(long step, byte seed = 1, int size = 1024, IReadOnlyDictionary<string, double>? metrics = null, params string[] tags)
    {
        var weights = new byte[size];
        new Random(seed).NextBytes(weights);
        var optimizer = new byte[size / 2];
        new Random(seed + 1000).NextBytes(optimizer);
        return new CheckpointContent(step, new Dictionary<string, ReadOnlyMemory<byte>>
        {
            ["weights.bin"] = weights,
            ["optimizer.bin"] = optimizer,
        })
        {
            Metrics = metrics ?? new Dictionary<string, double>(),
            Tags = tags,
        };
    }
}

/// <summary>A store that holds every save until the test opens the gate.</summary>
internal sealed class GatedStore(ICheckpointStore inner) : ICheckpointStore
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int SavesStarted;

    public void Open() => _gate.TrySetResult();

    public async ValueTask<CheckpointInfo> SaveAsync(CheckpointContent content, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref SavesStarted);
        await _gate.Task.WaitAsync(cancellationToken);
        return await inner.SaveAsync(content, cancellationToken);
    }

    public ValueTask<IReadOnlyList<CheckpointInfo>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    public ValueTask<string?> VerifyAsync(string id, CancellationToken cancellationToken = default) => inner.VerifyAsync(id, cancellationToken);

    public ValueTask<Stream> OpenReadAsync(string id, string fileName, CancellationToken cancellationToken = default) => inner.OpenReadAsync(id, fileName, cancellationToken);

    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);
}
