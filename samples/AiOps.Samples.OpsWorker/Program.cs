using AiOps.Samples.OpsWorker;

using var host = OpsWorkerApp.Build(args);
await host.RunAsync();
