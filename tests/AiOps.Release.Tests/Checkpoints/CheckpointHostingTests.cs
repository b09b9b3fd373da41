using AiOps.Checkpoints;
using AiOps.Release.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Tests.Checkpoints;

public sealed class CheckpointHostingTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AddAiOpsCheckpoints_CalledTwice_OneManagerAndHostStopCommitsPendingSaves()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAiOpsCheckpoints(o => o.Directory = _folder.Path);
        builder.Services.AddAiOpsCheckpoints(o => o.Retention.KeepLatest = 10);
        using var host = builder.Build();
        await host.StartAsync();
        var manager = host.Services.GetRequiredService<ICheckpointManager>();
        Assert.Same(manager, host.Services.GetRequiredService<ICheckpointManager>());
        Assert.IsType<FileCheckpointStore>(host.Services.GetRequiredService<ICheckpointStore>());
        Assert.Single(host.Services.GetServices<IHostedService>().OfType<CheckpointFlushOnStop>());

        for (var step = 1; step <= 3; step++)
        {
            await manager.SaveAsync(CheckpointHarness.Content(step));
        }

        await host.StopAsync();

        Assert.Equal([1L, 2L, 3L], (await manager.Store.ListAsync()).Select(c => c.Step));
    }

    [Theory]
    [InlineData("Directory", "AiOps:Release:Checkpoints:Directory is empty; expected the folder that holds the checkpoints (e.g. 'checkpoints').")]
    [InlineData("MaxPendingSaves", "AiOps:Release:Checkpoints:MaxPendingSaves is 0; expected 1 to 64.")]
    [InlineData("SaveEveryNSteps", "AiOps:Release:Checkpoints:SaveEveryNSteps is -5; expected 0 (off) or a positive number of steps.")]
    [InlineData("SaveEvery", "AiOps:Release:Checkpoints:SaveEvery is -00:00:01; expected a positive interval, or leave it unset (off).")]
    [InlineData("Retention.BestMetric",
        "AiOps:Release:Checkpoints:Retention:BestMetric is empty; expected a metric name (e.g. 'val_loss') because AiOps:Release:Checkpoints:Retention:KeepBest is 2.")]
    [InlineData("Retention.KeepOnePer",
        "AiOps:Release:Checkpoints:Retention:KeepOnePer is 00:00:00; expected a positive period (e.g. 01:00:00 or 1.00:00:00), or leave it unset (off).")]
    [InlineData("Retention.KeepLatest", "AiOps:Release:Checkpoints:Retention:KeepLatest is -1; expected 0 (off) or more.")]
    public async Task Start_BadOptions_FailsNamingTheSetting(string setting, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAiOpsCheckpoints(o =>
        {
            o.Directory = setting == "Directory" ? string.Empty : _folder.Path;
            o.MaxPendingSaves = setting == "MaxPendingSaves" ? 0 : 2;
            o.SaveEveryNSteps = setting == "SaveEveryNSteps" ? -5 : 0;
            o.SaveEvery = setting == "SaveEvery" ? TimeSpan.FromSeconds(-1) : null;
            o.Retention.KeepBest = setting == "Retention.BestMetric" ? 2 : 0;
            o.Retention.KeepOnePer = setting == "Retention.KeepOnePer" ? TimeSpan.Zero : null;
            o.Retention.KeepLatest = setting == "Retention.KeepLatest" ? -1 : 3;
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal([expected], ex.Failures);
    }
}
