using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project bench/AiOps.Benchmarks -- --filter '*'
// One area: --filter '*Inference*' (each benchmark class lives in its own file, one per package area).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
