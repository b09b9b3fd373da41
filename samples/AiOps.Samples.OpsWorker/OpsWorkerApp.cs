using AiOps.Samples.OpsWorker.Jobs;

namespace AiOps.Samples.OpsWorker;

/// <summary>
/// Builds the operations worker: the scheduled CSV quality gate with drift tracking (AiOps.Data, AiOps.Monitoring),
/// model backups and log retention (AiOps.Release), GPU cost and alert reporting (AiOps.Monitoring). Everything is
/// registered through the packages' DI extensions; folders default to <c>aiops-worker/…</c> under the content root.
/// </summary>
public static class OpsWorkerApp
{
    /// <summary>Builds the host (not started).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Runs before services are registered: add configuration or replace services (tests do).</param>
    /// <returns>The host.</returns>
    public static IHost Build(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        configure?.Invoke(builder);
        var section = builder.Configuration.GetSection(OpsWorkerOptions.SectionName);
        var options = section.Get<OpsWorkerOptions>() ?? new OpsWorkerOptions();
        var root = builder.Environment.ContentRootPath;
        builder.Services.AddOptions<OpsWorkerOptions>().Bind(section)
            .Validate(o => o.GateInterval > TimeSpan.Zero && o.StatusInterval > TimeSpan.Zero, "OpsWorker:GateInterval and OpsWorker:StatusInterval must be positive.")
            .Validate(o => o.LogRetentionDays >= 1, "OpsWorker:LogRetentionDays must be at least 1.")
            .ValidateOnStart();

        builder.Services.AddAiOpsData(o =>
        {
            o.AdmittedDirectory = options.Resolve(root, options.AdmittedDirectory);
            o.QuarantineDirectory = options.Resolve(root, options.QuarantineDirectory);
            o.DatasetStorePath = options.Resolve(root, "datasets");
            o.MetricsHistoryPath = options.Resolve(root, "data-metrics");
        });

        builder.Services.AddAiOpsMonitoring(o => o.Models.Add(options.DriftModel));
        builder.Services.AddAiOpsDrift();

        builder.Services.AddAiOpsModelBackup(o =>
        {
            o.BackupDirectory = options.Resolve(root, "backups");
            foreach (var f in options.BackupFiles)
            {
                o.ModelFiles.Add(options.Resolve(root, f));
            }

            var logs = options.LogDirectories.Count > 0 ? options.LogDirectories : ["logs"];
            foreach (var d in logs)
            {
                var full = options.Resolve(root, d);
                Directory.CreateDirectory(full);
                o.LogDirectories.Add(full);
            }

            o.LogRetentionDays = options.LogRetentionDays;
        });

        builder.Services.AddSingleton<CsvGateJob>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CsvGateJob>());
        builder.Services.AddSingleton<OpsStatusJob>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OpsStatusJob>());
        return builder.Build();
    }
}
