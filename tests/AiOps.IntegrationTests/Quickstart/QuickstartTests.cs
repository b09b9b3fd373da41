using System.Text.Json;
using AiOps.IntegrationTests.Infrastructure;
using AiOps.Samples.Quickstart;

namespace AiOps.IntegrationTests.Quickstart;

/// <summary>Runs the quickstart once, in process, into a temp folder; the tests read what it did and left behind.</summary>
public sealed class QuickstartRun : IAsyncLifetime
{
    public string OutputDirectory { get; } = Path.Combine(Path.GetTempPath(), "aiops-quickstart-tests", Guid.NewGuid().ToString("N"));

    public QuickstartSummary Summary { get; private set; } = null!;

    /// <summary>The narrative the run printed.</summary>
    public string Narrative { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        using var output = new StringWriter();
        Summary = await QuickstartRunner.RunAsync(OutputDirectory, output);
        Narrative = output.ToString();
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(OutputDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    public string PathOf(string relative) => Path.Combine(OutputDirectory, relative);
}

/// <summary>
/// The quickstart keeps a core busy for seconds; it runs alone, after the parallel tests, so the tests that wait on
/// real time (Redis replicas) never compete with it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuickstartCollection
{
    public const string Name = "Quickstart";
}

[Collection(QuickstartCollection.Name)]
public sealed class QuickstartTests(QuickstartRun run) : IClassFixture<QuickstartRun>
{
    private QuickstartSummary Summary => run.Summary;

    private string Because => "\n--- narrative ---\n" + run.Narrative;

    [Fact]
    public void RunAsync_EndToEnd_SucceedsAndWritesSummaryJson()
    {
        Assert.True(Summary.Succeeded, Summary.Failure + Because);
        var onDisk = JsonSerializer.Deserialize<QuickstartSummary>(File.ReadAllText(run.PathOf("summary.json")), QuickstartSummary.JsonOptions)!;
        Assert.True(onDisk.Succeeded);
        Assert.Equal(Summary.V3RollbackReason, onDisk.V3RollbackReason);
        Assert.Equal(Summary.MaxPsi, onDisk.MaxPsi);
        Assert.True(onDisk.SimulatedEnd - onDisk.SimulatedStart > TimeSpan.FromDays(4), $"simulated {onDisk.SimulatedEnd - onDisk.SimulatedStart}");
    }

    [Fact]
    public void RunAsync_DataGate_QuarantinesBadRowsAndLeavesNoPii()
    {
        var dataset = Summary.Dataset!;
        Assert.Equal("data_v1.0", dataset.Tag);
        Assert.Equal(1_012, dataset.RowsRead);
        Assert.Equal(12, dataset.RowsQuarantined);
        Assert.Equal(dataset.RowsRead, dataset.RowsAdmitted + dataset.RowsQuarantined);
        Assert.Equal(0, dataset.PiiFindingsLeft);
        Assert.Matches("^[0-9a-f]{64}$", dataset.Version);

        var admitted = File.ReadAllLines(run.PathOf(Path.Combine("data", "admitted", "churn-training.csv")));
        Assert.Equal(1_001, admitted.Length); // header + admitted rows
        var raw = File.ReadAllLines(run.PathOf(Path.Combine("data", "raw", "churn-training.csv")));
        var rawPhone = raw[1].Split(',')[1];
        Assert.Matches(@"^1[3-9]\d{9}$", rawPhone);
        Assert.Equal(rawPhone[..3] + "****" + rawPhone[^4..], admitted[1].Split(',')[1]);
        Assert.DoesNotContain(rawPhone, File.ReadAllText(run.PathOf(Path.Combine("data", "admitted", "churn-training.csv"))), StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_CanaryV2_PromotedThroughEveryStep()
    {
        Assert.True(Summary.V2Promoted, Because);
        Assert.Contains(Summary.V2PromoteReasons, r => r.StartsWith("promote:", StringComparison.Ordinal));
        Assert.Contains("advance to 50 %", run.Narrative, StringComparison.Ordinal);
        Assert.Contains("advance to 100 %", run.Narrative, StringComparison.Ordinal);
        Assert.Equal("2", Summary.FinalStableVersion);
        Assert.True(Summary.Traffic.AnsweredByVersion["2"] > Summary.Traffic.AnsweredByVersion["1"] / 2);
    }

    [Fact]
    public void RunAsync_CanaryV3_RolledBackWithTheFailedGates()
    {
        Assert.True(Summary.V3RolledBack, Because);
        Assert.NotNull(Summary.V3RollbackReason);
        Assert.Contains("error_rate", Summary.V3RollbackReason, StringComparison.Ordinal);
        Assert.Contains("latency_p95", Summary.V3RollbackReason, StringComparison.Ordinal);
        Assert.Contains("ROLLBACK", run.Narrative, StringComparison.Ordinal);

        // v3 saw only its 10 % share before the rollback, and clients never saw its failures (fallback to stable).
        Assert.InRange(Summary.Traffic.AnsweredByVersion.GetValueOrDefault("3"), 1, 500);
        Assert.Equal(0, Summary.Traffic.ClientErrors);
        var history = JsonDocument.Parse(File.ReadAllText(run.PathOf("rollout-history.json"))).RootElement;
        var actions = history.GetProperty("decisions").EnumerateArray().Select(d => d.GetProperty("action").GetString()).ToArray();
        Assert.Equal(2, actions.Count(a => a == "Start"));
        Assert.Equal(2, actions.Count(a => a == "Advance"));
        var secondStart = Array.LastIndexOf(actions, "Start");
        Assert.Equal("Promote", actions[secondStart - 1]); // v2's rollout ended promoted before v3's began
        Assert.Equal("Rollback", actions[^1]);
        Assert.Equal("2", history.GetProperty("stable").GetString());
    }

    [Fact]
    public void RunAsync_ShiftedInputs_SevereDriftAndAlert()
    {
        Assert.True(Summary.MaxPsi > 0.2, $"max PSI {Summary.MaxPsi}{Because}");
        Assert.Equal("Severe", Summary.WorstDriftSeverity);
        Assert.Contains(Summary.AlertsRaised, a => a is { Rule: "drift_psi_severe", State: "Firing", Key: "churn:2" });
        Assert.Contains(Summary.AlertsRaised, a => a is { Rule: "success_rate_low", State: "Firing", Key: "churn:3" });
    }

    [Fact]
    public void RunAsync_CheckpointsAndBackups_RetentionApplied()
    {
        var checkpoints = Summary.Checkpoints!;
        Assert.Equal(8, checkpoints.Saved);
        Assert.InRange(checkpoints.Kept.Count, 2, 3);
        Assert.Equal(400, checkpoints.RestoredStep);
        Assert.Equal(checkpoints.Kept.Count, Directory.GetDirectories(run.PathOf("checkpoints")).Count(d => Path.GetFileName(d).StartsWith("step-", StringComparison.Ordinal)));

        var backups = Summary.Backups!;
        Assert.Equal(5, backups.Runs);
        Assert.Equal(9, backups.Kept.Count); // 3 model files x 3 kept
        Assert.Equal(6, backups.DeletedBackups.Count);
        Assert.Equal(2, backups.DeletedLogs.Count);
        Assert.Equal(backups.Kept.Order(StringComparer.Ordinal), Directory.GetFiles(run.PathOf("backups")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RunAsync_Artifacts_EveryOneWrittenAndValid()
    {
        string[] expected = ["metrics.prom", "aiops-rules.yml", "aiops-dashboard.json", "drift-report.html", "rollout-history.json", "reference-profile.json"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), Summary.Artifacts.Select(a => a.Name).Order(StringComparer.Ordinal));
        foreach (var artifact in Summary.Artifacts.Append(new ArtifactOutcome("summary.json", "summary.json", 0, "")))
        {
            var file = new FileInfo(run.PathOf(artifact.Path));
            Assert.True(file.Exists && file.Length > 0, $"{artifact.Path} is missing or empty");
            if (file.Extension == ".json")
            {
                using var _ = JsonDocument.Parse(File.ReadAllText(file.FullName)); // throws if not JSON
            }
        }

        var metrics = File.ReadAllText(run.PathOf("metrics.prom"));
        foreach (var name in new[] { "aiops_model_requests_total", "aiops_model_request_duration_seconds", "aiops_drift_psi", "aiops_release_decisions_total", "aiops_data_rows_total", "aiops_backup_runs_total" })
        {
            Assert.Contains($"# TYPE {name} ", metrics, StringComparison.Ordinal);
        }

        Assert.Contains("aiops_model_requests_total{model=\"churn\",version=\"3\",outcome=\"error\"}", metrics, StringComparison.Ordinal);

        var html = File.ReadAllText(run.PathOf("drift-report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.True(html.Split("<svg").Length - 1 >= 4, "expected one SVG chart per feature");
        Assert.Contains("severe", html, StringComparison.Ordinal);

        var dashboard = JsonDocument.Parse(File.ReadAllText(run.PathOf("aiops-dashboard.json"))).RootElement;
        Assert.True(dashboard.GetProperty("panels").GetArrayLength() > 0);
        var rules = File.ReadAllText(run.PathOf("aiops-rules.yml"));
        Assert.Contains("groups:", rules, StringComparison.Ordinal);
        Assert.Contains("churn", rules, StringComparison.Ordinal);
    }

    [PromtoolFact]
    public async Task RunAsync_RulesFile_AcceptedByPromtool()
    {
        var result = await ProcessRunner.RunAsync(PromtoolFactAttribute.Path!, ["check", "rules", run.PathOf("aiops-rules.yml")], run.OutputDirectory, TimeSpan.FromMinutes(1));
        result.EnsureSuccess("promtool check rules");
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }
}

/// <summary>The checks of the output folder and the command line, which need no full run.</summary>
[Collection(QuickstartCollection.Name)]
public sealed class QuickstartEntryTests
{
    [Fact]
    public async Task RunAsync_NonEmptyForeignFolder_RefusedAndLeftUntouched()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aiops-quickstart-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var precious = Path.Combine(dir, "precious.txt");
        await File.WriteAllTextAsync(precious, "keep me");
        try
        {
            var e = await Assert.ThrowsAsync<QuickstartException>(() => QuickstartRunner.RunAsync(dir, TextWriter.Null));
            Assert.Contains("--output", e.Message, StringComparison.Ordinal);
            Assert.Equal("keep me", await File.ReadAllTextAsync(precious));
            Assert.Single(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Program_UnknownArgument_ExitsNonZeroWithUsage()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "AiOps.Samples.Quickstart.dll");
        var result = await ProcessRunner.RunAsync("dotnet", [dll, "--bogus"], AppContext.BaseDirectory, TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage: AiOps.Samples.Quickstart [--output <dir>]", result.Output, StringComparison.Ordinal);
    }
}

/// <summary>A fact skipped, with the reason in the test summary, when <c>promtool</c> is not on PATH.</summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (Path is null)
        {
            Skip = "promtool is not on PATH (install the Debian 'prometheus' package; .ci/run does); the rules file was not checked by promtool.";
        }
    }

    public static string? Path { get; } = ProcessRunner.FindOnPath("promtool");
}
