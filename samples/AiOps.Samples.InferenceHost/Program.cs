using AiOps.Samples.InferenceHost;

var app = InferenceHostApp.Build(args);
await app.RunAsync();
