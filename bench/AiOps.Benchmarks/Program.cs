using AiOps.Benchmarks;
using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project bench/AiOps.Benchmarks -- --filter '*'
// One area: --filter '*Inference*' (each benchmark class lives in its own file, one per package area).
// Stated measurements BenchmarkDotNet cannot give (file-scale timings against coreutils, per-call p99, peak memory):
//   measure hash [sizeMb] [dir]              ContentHasher (dataset versions) vs sha256sum on the same file
//   measure checkpoint [sizeMb] [dir]        FileCheckpointStore.SaveAsync vs cp + sha256sum on the same bytes
//   measure data-gen <path> <rows>           writes the benchmark CSV (10 columns)
//   measure data-memory <path>               validates it with the 10 rules, prints rows/s and peak RSS / GC heap
//   measure data-time <path> [rounds]        per run: wall clock vs user/kernel CPU, GC counts, threads (10 rules)
//   measure data-side [path] [rounds]       issue 17: AiOps (10 rules, EXACT unique) vs DuckDB SQL vs pandas, interleaved, 1 then 2 cores
//   measure data-unique <path> [rounds]      issue 17: CPU cost of exact uniqueness in the engine; HashSet<string> vs ExactValueSet, B/value
//   measure data-profile <path>              CPU time per stage (read, parse+stats, rules) and regex variants, min of 8 rounds
//   measure batching [seconds] [both|batched|unbatched] [maxBatch|default] [delayMs|default] [callers,...] [concurrentBatches]  1/8/64 callers (default), batched (default options) vs unbatched: throughput, p50/p99, CPU/call
//   measure batching-cnn [seconds] [samples] [callers,...] [concurrentBatches]  the same on a compute-bound CNN (kit AudioConv), default options
//   measure overhead [tiny|1ms] [pairs]      runner vs raw InferenceSession.Run, interleaved pairs: medians and median paired difference
//   measure timeout [size] [timeoutMs] [rounds]  how far past CallTimeout a call returns inside one slow operator vs the same work in 8 operators
//   measure leak [calls]                     process memory over N unbatched calls (default 1 million)
//   measure serve-load [seconds] [rounds] [connections]  REST infer on the tiny model under wrk (default 10 s, 5 rounds, 32
//                                            connections): MapOpenInferenceProtocol vs a raw-ORT ASP.NET endpoint, ABAB, medians
if (args.Length > 0 && args[0] == "measure")
{
    return await Measurements.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
