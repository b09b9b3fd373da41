using System.Security.Cryptography;
using AiOps.Checkpoints;
using AiOps.Release.Checkpoints;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Benchmarks;

/// <summary>
/// Saving a 64 MB checkpoint through the crash-safe store (write to a temp folder, SHA-256 on a second core while
/// writing, fsync, manifest, rename, commit marker) against what a user would otherwise write: File.WriteAllBytes plus
/// SHA256.HashData (not crash safe: no fsync, no atomic rename). Each store save also deletes the checkpoint it made,
/// so the disk does not fill up.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class CheckpointBenchmarks
{
    private byte[] _data = [];
    private string _dir = string.Empty;
    private FileCheckpointStore _store = null!;
    private CheckpointContent _content = null!;

    [Params(64)]
    public int SizeMb { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[SizeMb << 20];
        new Random(42).NextBytes(_data);
        _dir = Path.Combine(Path.GetTempPath(), "aiops-ckpt-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _store = new FileCheckpointStore(
            Options.Create(new CheckpointOptions { Directory = Path.Combine(_dir, "store") }),
            TimeProvider.System,
            NullLogger<FileCheckpointStore>.Instance);
        _content = new CheckpointContent(1, new Dictionary<string, ReadOnlyMemory<byte>> { ["weights.bin"] = _data });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public byte[] WriteAllBytesThenSha256()
    {
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), _data);
        return SHA256.HashData(_data);
    }

    [Benchmark]
    public byte[] WriteAllBytesFsyncThenSha256()
    {
        using (var file = new FileStream(Path.Combine(_dir, "weights-fsync.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 0))
        {
            file.Write(_data);
            file.Flush(flushToDisk: true);
        }

        return SHA256.HashData(_data);
    }

    [Benchmark]
    public async Task<string> CheckpointStoreSave()
    {
        var info = await _store.SaveAsync(_content);
        await _store.DeleteAsync(info.Id);
        return info.Files[0].Sha256;
    }
}
