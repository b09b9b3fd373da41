using System.Diagnostics;
using System.Globalization;
using AiOps.Checkpoints;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Data.Versions;
using AiOps.Inference;
using AiOps.Release.Checkpoints;
using AiOps.TestModels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiOps.Benchmarks;

/// <summary>
/// Stated measurements for targets BenchmarkDotNet cannot express: file-scale work timed against coreutils on the same
/// file, per-call latency percentiles under concurrency, and peak memory of one validation run. Each prints one
/// "RESULT" line per figure so the output can be pasted into bench/RESULTS.md.
/// </summary>
internal static class Measurements
{
    private const int Rounds = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "hash":
                await HashAsync(SizeMb(args, 1), Dir(args, 2));
                return 0;
            case "checkpoint":
                await CheckpointAsync(SizeMb(args, 1), Dir(args, 2));
                return 0;
            case "data-gen":
                DataValidationBenchmarks.WriteCsv(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
                return 0;
            case "data-profile":
                DataProfile.Run(args[1]);
                return 0;
            case "data-memory":
                DataMemory(args[1]);
                return 0;
            case "data-side":
                DataSide(args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "aiops-side-1m.csv"), args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5);
                return 0;
            case "data-unique":
                DataUniqueProfile.Run(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5);
                return 0;
            case "data-time":
                DataTime(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10);
                return 0;
            case "batching":
                await BatchingAsync(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5, args.Length > 2 ? args[2] : "both",
                    args.Length > 3 && args[3] != "default" ? int.Parse(args[3], CultureInfo.InvariantCulture) : null,
                    args.Length > 4 && args[4] != "default" ? double.Parse(args[4], CultureInfo.InvariantCulture) : null,
                    args.Length > 5 ? [.. args[5].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))] : [1, 8, 64],
                    args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 1);
                return 0;
            case "batching-cnn":
                await BatchingCnnAsync(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5,
                    args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4000,
                    args.Length > 3 ? [.. args[3].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))] : [1, 8, 64],
                    args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1);
                return 0;
            case "overhead":
                await OverheadAsync(args.Length > 1 ? args[1] : "1ms", args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5000);
                return 0;
            case "timeout":
                await TimeoutOverrunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024,
                    args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10,
                    args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 15);
                return 0;
            case "leak":
                await LeakAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000);
                return 0;
            case "serve-load":
                return await ServingLoad.RunAsync(
                    args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10,
                    args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5,
                    args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 32);
            default:
                Console.Error.WriteLine("Expected: measure hash|checkpoint|data-gen|data-memory|batching|overhead|leak|serve-load ... (see Program.cs).");
                return 2;
        }
    }

    private static int SizeMb(string[] args, int i) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : 1024;

    private static string Dir(string[] args, int i) => args.Length > i ? args[i] : Path.GetTempPath();

    /// <summary>Dataset-version hashing (<see cref="ContentHasher.Sha256FileAsync"/>) against <c>sha256sum</c>, same file, warm page cache, alternating rounds.</summary>
    private static async Task HashAsync(int sizeMb, string dir)
    {
        var file = Path.Combine(dir, $"aiops-hash-{sizeMb}mb.bin");
        try
        {
            WriteRandomFile(file, sizeMb);
            _ = await ContentHasher.Sha256FileAsync(file); // warm the page cache
            var ours = new List<double>();
            var coreutils = new List<double>();
            var openssl = new List<double>();
            string? oursHash = null, theirHash = null;
            for (var r = 0; r < Rounds; r++)
            {
                var sw = Stopwatch.StartNew();
                theirHash = Shell($"sha256sum '{file}'").Split(' ')[0];
                coreutils.Add(sw.Elapsed.TotalSeconds);
                sw.Restart();
                Shell($"openssl dgst -sha256 '{file}'");
                openssl.Add(sw.Elapsed.TotalSeconds);
                sw.Restart();
                oursHash = await ContentHasher.Sha256FileAsync(file);
                ours.Add(sw.Elapsed.TotalSeconds);
            }

            if (oursHash != theirHash)
            {
                throw new InvalidOperationException($"Hashes differ: {oursHash} vs {theirHash}.");
            }

            Report($"hash {sizeMb} MB", "sha256sum", coreutils, "ContentHasher.Sha256FileAsync", ours, sizeMb);
            Report($"hash {sizeMb} MB", "openssl dgst -sha256 (SHA-NI, stricter reference)", openssl, "ContentHasher.Sha256FileAsync", ours, sizeMb);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// A checkpoint save through <see cref="FileCheckpointStore"/> (write from memory, SHA-256, fsync, manifest, rename,
    /// commit marker) against <c>cp src dst &amp;&amp; sha256sum dst</c> on a file holding the same bytes, and against the
    /// same with <c>sync dst</c> in between (the store's durability).
    /// </summary>
    private static async Task CheckpointAsync(int sizeMb, string dir)
    {
        var root = Path.Combine(dir, "aiops-ckpt-measure-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        try
        {
            var src = Path.Combine(root, "weights.bin");
            var dst = Path.Combine(root, "copy.bin");
            var data = new byte[(long)sizeMb << 20];
            new Random(42).NextBytes(data);
            await File.WriteAllBytesAsync(src, data);
            Shell($"sync '{src}'");
            using var store = new FileCheckpointStore(
                Options.Create(new CheckpointOptions { Directory = Path.Combine(root, "store") }),
                TimeProvider.System,
                NullLogger<FileCheckpointStore>.Instance);
            var content = new CheckpointContent(1, new Dictionary<string, ReadOnlyMemory<byte>> { ["weights.bin"] = data });
            var cp = new List<double>();
            var cpSync = new List<double>();
            var cpOpenssl = new List<double>();
            var ours = new List<double>();
            for (var r = 0; r < Rounds; r++)
            {
                var sw = Stopwatch.StartNew();
                Shell($"cp '{src}' '{dst}' && sha256sum '{dst}'");
                cp.Add(sw.Elapsed.TotalSeconds);
                File.Delete(dst);
                Shell("sync");

                sw.Restart();
                Shell($"cp '{src}' '{dst}' && sync '{dst}' && sha256sum '{dst}'");
                cpSync.Add(sw.Elapsed.TotalSeconds);
                File.Delete(dst);
                Shell("sync");

                sw.Restart();
                Shell($"cp '{src}' '{dst}' && sync '{dst}' && openssl dgst -sha256 '{dst}'");
                cpOpenssl.Add(sw.Elapsed.TotalSeconds);
                File.Delete(dst);
                Shell("sync");

                sw.Restart();
                var info = await store.SaveAsync(content);
                ours.Add(sw.Elapsed.TotalSeconds);
                await store.DeleteAsync(info.Id);
                Shell("sync");
            }

            Report($"checkpoint {sizeMb} MB", "cp + sha256sum", cp, "FileCheckpointStore.SaveAsync", ours, sizeMb);
            Report($"checkpoint {sizeMb} MB", "cp + sync + sha256sum", cpSync, "FileCheckpointStore.SaveAsync", ours, sizeMb);
            Report($"checkpoint {sizeMb} MB", "cp + sync + openssl dgst -sha256 (stricter reference)", cpOpenssl, "FileCheckpointStore.SaveAsync", ours, sizeMb);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One validation run of the benchmark CSV with the ten rules, pinned to one core; peak RSS and peak GC heap of this process.</summary>
    /// <summary>Wall clock against user and kernel CPU time per engine run (10 rules), with GC counts and thread count:
    /// where the gap between CPU time and BenchmarkDotNet's wall clock goes.</summary>
    private static void DataTime(string path, int rounds)
    {
        var engine = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System);
        var rules = DataValidationBenchmarks.TenRules();
        var p = Process.GetCurrentProcess();
        for (var r = 0; r < rounds; r++)
        {
            p.Refresh();
            var user = p.UserProcessorTime;
            var sys = p.PrivilegedProcessorTime;
            var gcs = GC.CollectionCount(0);
            var sw = Stopwatch.StartNew();
            var report = engine.Run(DataSource.FromCsv(path), rules, null, CancellationToken.None);
            var wall = sw.Elapsed.TotalMilliseconds;
            p.Refresh();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {r}: wall {wall:F1} ms, user {(p.UserProcessorTime - user).TotalMilliseconds:F0} ms, sys {(p.PrivilegedProcessorTime - sys).TotalMilliseconds:F0} ms, " +
                $"gen0 {GC.CollectionCount(0) - gcs}, threads {p.Threads.Count}, {report.RowsChecked / wall / 1e3:F2} M rows/s"));
        }
    }

    /// <summary>Issue 17, side by side in one run: AiOps.Data (10 rules, exact uniqueness) vs DuckDB (the same checks as SQL aggregates
    /// over read_csv) vs pandas (spawned; its own perf_counter time, interpreter start-up and imports excluded), interleaved rounds,
    /// first on one core (process affinity CPU 0, DuckDB threads = 1, python under taskset -c 0), then on two (DuckDB threads = 2).
    /// Each tool's failing-row count per rule must agree with the others'.</summary>
    private static void DataSide(string path, int rounds)
    {
        if (!File.Exists(path))
        {
            DataSideBySide.WriteCsvWithFaults(path, 1_000_000);
        }

        var rows = File.ReadLines(path).LongCount() - 1;
        var engine = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System);
        var twoLanes = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System, maxDegreeOfParallelism: 2); // columns split over two threads
        var rules = DataSideBySide.TenRulesExact();
        var script = Path.Combine(Path.GetTempPath(), "aiops-side-pandas.py");
        File.WriteAllText(script, DataSideBySide.PandasScript);
        var hasPandas = Shell("/usr/bin/python3 -c 'import pandas' 2>/dev/null && echo yes || echo no").Trim() == "yes";
        using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        duck.Open();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"file {path}: {rows} rows, {new FileInfo(path).Length / 1e6:F1} MB; load before: {File.ReadAllText("/proc/loadavg").Trim()}"));
        foreach (var cores in new[] { 1, 2 })
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
            {
                Process.GetCurrentProcess().ProcessorAffinity = cores == 1 ? 1 : 3;
            }

            using (var set = duck.CreateCommand())
            {
                set.CommandText = $"SET threads = {cores}";
                set.ExecuteNonQuery();
            }

            var ours = new List<double>();
            var theirs = new List<double>();
            var panda = new List<double>();
            var oursCpu = new List<double>();
            var theirsCpu = new List<double>();
            var pandaCpu = new List<double>();
            var lanes = new List<double>();
            var lanesCpu = new List<double>();
            long[]? expected = null;
            void Agree(string who, long[] counts)
            {
                expected ??= counts;
                if (!counts.SequenceEqual(expected))
                {
                    throw new InvalidOperationException($"{who} counts {string.Join(",", counts)} differ from {string.Join(",", expected)} ({string.Join(",", DataSideBySide.RuleNames)}).");
                }
            }

            for (var r = -1; r < rounds; r++) // round -1 warms up (JIT, page cache, DuckDB's first query)
            {
                var cpu = new Cpu();
                var sw = Stopwatch.StartNew();
                var a = DataSideBySide.AiOps(engine, path, rules);
                var t = sw.Elapsed.TotalSeconds;
                var tc = cpu.Ms / 1e3;
                Agree("AiOps", a);
                if (cores == 2)
                {
                    cpu = new Cpu();
                    sw.Restart();
                    Agree("AiOps two lanes", DataSideBySide.AiOps(twoLanes, path, rules));
                    if (r >= 0)
                    {
                        lanes.Add(sw.Elapsed.TotalSeconds);
                        lanesCpu.Add(cpu.Ms / 1e3);
                    }
                }

                cpu = new Cpu();
                sw.Restart();
                var d = DataSideBySide.DuckDb(duck, path);
                var td = sw.Elapsed.TotalSeconds;
                var tdc = cpu.Ms / 1e3;
                Agree("DuckDB", d);
                if (hasPandas)
                {
                    var line = Shell($"taskset -c {(cores == 1 ? "0" : "0,1")} /usr/bin/python3 '{script}' '{path}'").Trim().Split(' ');
                    Agree("pandas", [.. line.Skip(2).Select(x => long.Parse(x, CultureInfo.InvariantCulture))]);
                    if (r >= 0)
                    {
                        panda.Add(double.Parse(line[0], CultureInfo.InvariantCulture));
                        pandaCpu.Add(double.Parse(line[1], CultureInfo.InvariantCulture));
                    }
                }

                if (r >= 0)
                {
                    ours.Add(t);
                    theirs.Add(td);
                    oursCpu.Add(tc);
                    theirsCpu.Add(tdc);
                }
            }

            string Rate(List<double> x, List<double> c) => string.Create(CultureInfo.InvariantCulture,
                $"wall median {Median(x):F3} s = {rows / Median(x) / 1e6:F2} M rows/s [{string.Join(" ", x.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}]; " +
                $"CPU median {Median(c):F3} s = {rows / Median(c) / 1e6:F2} M rows/CPU-s");
            Console.WriteLine($"RESULT {cores} core(s): AiOps.Data {Rate(ours, oursCpu)}");
            if (cores == 2)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT 2 core(s): AiOps.Data, two lanes (MaxDegreeOfParallelism 2) {Rate(lanes, lanesCpu)}  -> vs one thread {Median(ours) / Median(lanes):F2}x, vs DuckDB 2 threads {Median(theirs) / Median(lanes):F2}x"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {cores} core(s): DuckDB    {Rate(theirs, theirsCpu)}  -> AiOps/DuckDB wall {Median(theirs) / Median(ours):F2}x, CPU {Median(theirsCpu) / Median(oursCpu):F2}x"));
            if (hasPandas)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {cores} core(s): pandas    {Rate(panda, pandaCpu)}  -> AiOps/pandas wall {Median(panda) / Median(ours):F2}x, CPU {Median(pandaCpu) / Median(oursCpu):F2}x"));
            }
            else
            {
                Console.WriteLine("RESULT pandas: /usr/bin/python3 cannot import pandas; skipped.");
            }

            Console.WriteLine($"counts per rule ({string.Join(",", DataSideBySide.RuleNames)}): {string.Join(",", expected!)}");
        }

        Console.WriteLine($"load after: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static void DataMemory(string path)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            Process.GetCurrentProcess().ProcessorAffinity = 1; // one core, as the target states
        }

        var engine = new ValidationEngine(new PiiMasker(null), 20, TimeProvider.System);
        var rules = DataValidationBenchmarks.TenRules();
        var before = ReadStatusKb("VmHWM");
        var sw = Stopwatch.StartNew();
        var report = engine.Run(DataSource.FromCsv(path), rules, null, CancellationToken.None);
        var seconds = sw.Elapsed.TotalSeconds;
        var peakRss = ReadStatusKb("VmHWM");
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        var size = new FileInfo(path).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT data {report.RowsChecked} rows ({size / 1048576.0:F0} MB): {seconds:F3} s, {report.RowsChecked / seconds / 1e6:F2} M rows/s on one core, " +
            $"peak RSS {peakRss / 1024.0:F0} MiB (before run {before / 1024.0:F0} MiB), GC heap after {gc.HeapSizeBytes / 1048576.0:F1} MiB, " +
            $"allocated {GC.GetTotalAllocatedBytes() / 1048576.0:F0} MiB in total, rows failed {report.RowsFailed}"));
    }

    /// <summary>
    /// For each count of <paramref name="callerCounts"/> (default 1, 8, 64), that many callers each calling in a loop for
    /// <paramref name="seconds"/>, unbatched and batched (or only one of them: <paramref name="modes"/> <c>batched</c> /
    /// <c>unbatched</c>, for profiling): calls/s, per-call p50/p99, runs and mean rows per run, process CPU per call and
    /// gen-0 collections. Batching uses the library's default options unless <paramref name="maxBatch"/> or
    /// <paramref name="delayMs"/> is given.
    /// </summary>
    private static async Task BatchingAsync(double seconds, string modes, int? maxBatch, double? delayMs, int[] callerCounts, int batches)
    {
        var dir = Directory.CreateTempSubdirectory("aiops-batching-").FullName;
        try
        {
            var path = TestModels.TestModels.Classifier(1).WriteTo(Path.Combine(dir, "tiny.onnx"));
            foreach (var callers in callerCounts)
            {
                await BatchingCallersAsync(path, "tiny", i => new ModelRequest(ModelTensor.Create(ClassifierModel.InputName, TestModels.TestModels.Features(1, seed: (ulong)i).AsMemory(), 1, 4)), seconds, modes, maxBatch, delayMs, callers, batches);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The batching figure on a compute-bound CNN: the kit's audio Conv (400-tap kernel over <paramref name="samples"/>
    /// samples per row, about 2 x 400 x samples FLOPs per row), 1/8/64 callers, batched with default options vs unbatched.
    /// </summary>
    private static async Task BatchingCnnAsync(double seconds, int samples, int[] callerCounts, int batches)
    {
        var dir = Directory.CreateTempSubdirectory("aiops-batching-cnn-").FullName;
        try
        {
            var path = Path.Combine(dir, "conv.onnx");
            File.WriteAllBytes(path, TestModels.TestModels.AudioConv());
            foreach (var callers in callerCounts)
            {
                await BatchingCallersAsync(path, $"cnn ({samples} samples)", i => new ModelRequest(ModelTensor.Create("audio", TestModels.TestModels.Features(1, samples, seed: (ulong)i).AsMemory(), 1, 1, samples)), seconds, "both", null, null, callers, batches);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task BatchingCallersAsync(string path, string model, Func<int, ModelRequest> request, double seconds, string modes, int? maxBatch, double? delayMs, int callers, int batches)
    {
        {
            var requests = Enumerable.Range(0, callers).Select(request).ToArray();
            double? unbatchedRate = null;
            foreach (var batched in new[] { false, true })
            {
                if (modes != "both" && modes != (batched ? "batched" : "unbatched"))
                {
                    continue;
                }

                var options = new OnnxRunnerOptions { IntraOpNumThreads = 1, MaxQueueLength = 4096 };
                if (batched)
                {
                    options.Batching.Enabled = true;
                    options.Batching.MaxConcurrentBatches = batches;
                    if (maxBatch is { } max)
                    {
                        options.Batching.MaxBatchSize = max;
                    }

                    if (delayMs is { } delay)
                    {
                        options.Batching.MaxQueueDelay = TimeSpan.FromMilliseconds(delay);
                    }
                }

                options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
                await using var runner = await OnnxModelRunner.CreateAsync(new ModelKey("tiny", batched ? "batched" : "unbatched"), path, options);
                await RunFor(runner, requests, TimeSpan.FromSeconds(Math.Min(1, seconds / 4))); // warm-up
                long runs = 0, rows = 0;
                using var listener = new System.Diagnostics.Metrics.MeterListener();
                listener.InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == "AiOps.Inference" && instrument.Name == "aiops.inference.batch_size")
                    {
                        l.EnableMeasurementEvents(instrument);
                    }
                };
                listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
                {
                    Interlocked.Increment(ref runs);
                    Interlocked.Add(ref rows, value);
                });
                listener.Start();
                var gcs = GC.CollectionCount(0);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var (calls, elapsed, latencies) = await RunFor(runner, requests, TimeSpan.FromSeconds(seconds));
                cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                gcs = GC.CollectionCount(0) - gcs;
                listener.Dispose();
                latencies.Sort();
                var rate = calls / elapsed;
                unbatchedRate ??= rate;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT batching {model} {callers} callers {(batched ? $"batched (max {options.Batching.MaxBatchSize}, {options.Batching.MaxQueueDelay.TotalMilliseconds} ms delay, {options.Batching.MaxConcurrentBatches} concurrent)" : "unbatched")}: {rate:F0} calls/s ({rate / unbatchedRate.Value:F2}x unbatched), " +
                    $"p50 {Percentile(latencies, 0.50):F0} us, p99 {Percentile(latencies, 0.99):F0} us, max {latencies[^1] * 1e6 / Stopwatch.Frequency:F0} us, {calls} calls, {callers} callers, {Environment.ProcessorCount} cores, " +
                    $"{runs} runs (mean {(runs == 0 ? 0 : (double)rows / runs):F1} rows), CPU {cpu.TotalSeconds / elapsed:F2} cores = {cpu.TotalMilliseconds * 1000 / calls:F2} us/call, {gcs} gen0 GCs"));
            }
        }
    }

    /// <summary>
    /// Added latency of the AiOps runner over raw <c>InferenceSession.Run</c>, the two calls interleaved pair by pair (the
    /// same benchmark methods as <see cref="InferenceOverheadBenchmarks"/>), so machine load hits both alike: per-call
    /// medians, and the median of the per-pair differences.
    /// </summary>
    private static async Task OverheadAsync(string model, int pairs)
    {
        var bench = new InferenceOverheadBenchmarks { Model = model };
        await bench.SetupAsync();
        try
        {
            for (var i = 0; i < Math.Max(200, pairs / 10); i++)
            {
                bench.RawInferenceSessionRun();
                bench.AiOpsRunner();
            }

            var raw = new List<long>(pairs);
            var ours = new List<long>(pairs);
            var differences = new List<long>(pairs);
            for (var i = 0; i < pairs; i++)
            {
                // Alternate which goes first so cache warmth from the previous call favours neither.
                long r, o;
                if ((i & 1) == 0)
                {
                    r = Time(bench.RawInferenceSessionRun);
                    o = Time(bench.AiOpsRunner);
                }
                else
                {
                    o = Time(bench.AiOpsRunner);
                    r = Time(bench.RawInferenceSessionRun);
                }

                raw.Add(r);
                ours.Add(o);
                differences.Add(o - r);
            }

            raw.Sort();
            ours.Sort();
            differences.Sort();
            var rawMedian = Percentile(raw, 0.5);
            var oursMedian = Percentile(ours, 0.5);
            var added = differences[differences.Count / 2] * 1e6 / Stopwatch.Frequency;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT overhead {model}: raw median {rawMedian:F2} us, runner median {oursMedian:F2} us ({(oursMedian / rawMedian - 1) * 100:+0.00;-0.00} %), " +
                $"median paired difference {added:F2} us ({added / rawMedian * 100:+0.00;-0.00} % of raw), {pairs} interleaved pairs"));
        }
        finally
        {
            await bench.CleanupAsync();
        }

        static long Time(Func<float> call)
        {
            var started = Stopwatch.GetTimestamp();
            call();
            return Stopwatch.GetTimestamp() - started;
        }
    }

    /// <summary>
    /// How far past <see cref="OnnxRunnerOptions.CallTimeout"/> a call returns when ONNX Runtime is inside a slow operator:
    /// the terminate flag is checked only between operators. Two models of the same work (one thread): one MatMul of
    /// [size, size]·[size, size], and the same FLOPs cut into 8 MatMuls of half the size. Per model: the median run time
    /// without a timeout (the baseline), then the median and max time from the call to its timeout failure.
    /// </summary>
    private static async Task TimeoutOverrunAsync(int size, double timeoutMs, int rounds)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"aiops-timeout-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var (name, layerSize, layers) in new[] { ("one MatMul", size, 1), ("8 MatMuls", size / 2, 8) })
            {
                var path = Path.Combine(folder, $"chain-{layers}.onnx");
                File.WriteAllBytes(path, TestModels.TestModels.MatMulChain(layerSize, layers));
                var x = TestModels.TestModels.Features(layerSize, inputSize: layerSize);
                var request = new ModelRequest(ModelTensor.Create("x", x.AsMemory(), layerSize, layerSize));
                OnnxRunnerOptions Options(TimeSpan? timeout)
                {
                    var o = new OnnxRunnerOptions { IntraOpNumThreads = 1, WarmUpIterations = 1, CallTimeout = timeout };
                    o.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
                    return o;
                }

                var runs = new List<double>();
                await using (var runner = await OnnxModelRunner.CreateAsync(new ModelKey("slow", "1"), path, Options(null)))
                {
                    for (var i = 0; i < rounds; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        await runner.RunAsync(request);
                        runs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }

                var failures = new List<double>();
                var timedOut = 0;
                await using (var runner = await OnnxModelRunner.CreateAsync(new ModelKey("slow", "1"), path, Options(TimeSpan.FromMilliseconds(timeoutMs))))
                {
                    for (var i = 0; i < rounds; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        try
                        {
                            await runner.RunAsync(request);
                        }
                        catch (OperationCanceledException)
                        {
                            timedOut++;
                        }

                        failures.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }

                runs.Sort();
                failures.Sort();
                var median = failures[failures.Count / 2];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT timeout {name} ({layers} x [{layerSize},{layerSize}]x[{layerSize},{layerSize}], 1 thread): run median {runs[runs.Count / 2]:F1} ms; " +
                    $"CallTimeout {timeoutMs:F0} ms -> returned after median {median:F1} ms (overshoot {median - timeoutMs:F1} ms), max {failures[^1]:F1} ms; {timedOut}/{rounds} timed out"));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Process memory over <paramref name="calls"/> unbatched calls of a model with 1 KiB of output per call (a native leak of the per-call OrtValues or RunOptions would show as growth).</summary>
    private static async Task LeakAsync(int calls)
    {
        var dir = Directory.CreateTempSubdirectory("aiops-leak-").FullName;
        try
        {
            var path = TestModels.TestModels.Classifier(1, inputSize: 4, hidden: 8, classes: 256).WriteTo(Path.Combine(dir, "wide.onnx"));
            var options = new OnnxRunnerOptions { IntraOpNumThreads = 1 };
            options.ExecutionProviders.Add(OnnxExecutionProvider.Cpu);
            await using var runner = await OnnxModelRunner.CreateAsync(new ModelKey("leak", "1"), path, options);
            var request = new ModelRequest(ModelTensor.Create(ClassifierModel.InputName, TestModels.TestModels.Features(1).AsMemory(), 1, 4));
            using var cts = new CancellationTokenSource();
            for (var i = 0; i < 20_000; i++)
            {
                await runner.RunAsync(request, cts.Token);
            }

            var before = Settled();
            var checkpoints = new List<string>();
            for (var i = 1; i <= calls; i++)
            {
                await runner.RunAsync(request, i % 2 == 0 ? cts.Token : default);
                if (i % (calls / 4) == 0)
                {
                    checkpoints.Add(string.Create(CultureInfo.InvariantCulture, $"{i / 1000}k: {(Settled() - before) / (1024.0 * 1024):+0.0;-0.0} MiB"));
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT leak: {calls} calls (1 KiB output each, half with a cancellable token), private memory vs after warm-up: {string.Join(", ", checkpoints)}"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        static long Settled()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using var process = Process.GetCurrentProcess();
            return process.PrivateMemorySize64;
        }
    }

    private static async Task<(long Calls, double Seconds, List<long> Latencies)> RunFor(OnnxModelRunner runner, ModelRequest[] requests, TimeSpan duration)
    {
        var stop = 0;
        var perCaller = new List<long>[requests.Length];
        var sw = Stopwatch.StartNew();
        var tasks = new Task[requests.Length];
        for (var c = 0; c < requests.Length; c++)
        {
            var caller = c;
            perCaller[c] = new List<long>(1 << 14);
            tasks[c] = Task.Run(async () =>
            {
                var list = perCaller[caller];
                while (Volatile.Read(ref stop) == 0)
                {
                    var started = Stopwatch.GetTimestamp();
                    await runner.RunAsync(requests[caller]).ConfigureAwait(false);
                    list.Add(Stopwatch.GetTimestamp() - started);
                }
            });
        }

        await Task.Delay(duration);
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(tasks);
        var elapsed = sw.Elapsed.TotalSeconds;
        var all = perCaller.SelectMany(l => l).ToList();
        return (all.Count, elapsed, all);
    }

    private static double Percentile(List<long> sortedTicks, double p) =>
        sortedTicks[Math.Min(sortedTicks.Count - 1, (int)(sortedTicks.Count * p))] * 1e6 / Stopwatch.Frequency;

    private static void WriteRandomFile(string path, int sizeMb)
    {
        var chunk = new byte[1 << 20];
        var rng = new Random(42);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        for (var i = 0; i < sizeMb; i++)
        {
            rng.NextBytes(chunk);
            file.Write(chunk);
        }
    }

    private static string Shell(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{command}' exited with {process.ExitCode}.");
        }

        return output;
    }

    private static long ReadStatusKb(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static void Report(string what, string baselineName, List<double> baseline, string oursName, List<double> ours, int sizeMb)
    {
        var b = Median(baseline);
        var o = Median(ours);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {what}: {baselineName} median {b:F3} s ({sizeMb / b:F0} MB/s), {oursName} median {o:F3} s ({sizeMb / o:F0} MB/s), ratio {o / b:F2}x " +
            $"[rounds: {string.Join(" ", baseline.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))} | {string.Join(" ", ours.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))}]"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
