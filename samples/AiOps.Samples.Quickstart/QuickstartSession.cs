using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AiOps.Alerts;
using AiOps.Checkpoints;
using AiOps.Data.Gates;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using AiOps.Data.Versions;
using AiOps.Drift;
using AiOps.Inference;
using AiOps.Metrics;
using AiOps.Monitoring.Alerts;
using AiOps.Monitoring.Drift;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Reports;
using AiOps.Registry;
using AiOps.Release.Backup;
using AiOps.Release.Checkpoints;
using AiOps.Release.Registry;
using AiOps.Release.Rollout;
using AiOps.Samples.Quickstart.Hosting;
using AiOps.Samples.Quickstart.Simulation;
using AiOps.State;
using AiOps.TestModels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Samples.Quickstart;

/// <summary>One run of the quickstart: the host with every AiOps package wired in, the simulated clock and the story.</summary>
internal sealed class QuickstartSession : IAsyncDisposable
{
    private const string Model = "churn";
    private const int Steps = 7;
    private const int CallsPerMinute = 60;
    private const int Seed = 20_240_601;
    private static readonly ModelId ModelName = new(Model);
    private static readonly TimeSpan StepHold = TimeSpan.FromHours(1);

    private readonly string _root;
    private readonly FakeTimeProvider _clock;
    private readonly Narrator _say;
    private readonly IHost _host;
    private readonly FileLoggerProvider _logs;
    private readonly Dictionary<string, long> _answeredBy = new(StringComparer.Ordinal);
    private readonly List<ArtifactOutcome> _artifacts = [];
    private readonly Dictionary<ModelKey, int> _windowsReported = [];
    private readonly List<(float[] Features, int Label)> _recentTraffic = [];
    private readonly Dictionary<string, double> _stepSeconds = new(StringComparer.Ordinal);
    private double _lastLap;
    private long _requests;
    private long _clientErrors;
    private TrafficGenerator? _traffic;

    private QuickstartSession(string root, FakeTimeProvider clock, Narrator narrator, IHost host, FileLoggerProvider logs)
    {
        _root = root;
        _clock = clock;
        _say = narrator;
        _host = host;
        _logs = logs;
    }

    private IServiceProvider Services => _host.Services;

    private string PathOf(params string[] parts) => Path.Combine([_root, .. parts]);

    private static string ModelFile(string root, int version) => Path.Combine(root, "models", $"churn-v{version}.onnx");

    public static async Task<QuickstartSession> CreateAsync(string root, TextWriter output, bool interactive, CancellationToken cancellationToken)
    {
        // Simulated time starts at 08:00 UTC today; every component reads this clock, so hours of traffic pass in seconds.
        var today = DateTimeOffset.UtcNow;
        var clock = new FakeTimeProvider(new DateTimeOffset(today.Year, today.Month, today.Day, 8, 0, 0, TimeSpan.Zero));
        var narrator = new Narrator(output, clock, interactive);

        // The data-science team has exported three builds of the churn classifier (the ONNX test-model kit writes them).
        Directory.CreateDirectory(Path.Combine(root, "models"));
        for (var v = 1; v <= 3; v++)
        {
            TestModels.TestModels.Classifier(v).WriteTo(ModelFile(root, v));
        }

        var logs = new FileLoggerProvider(Path.Combine(root, "quickstart.log"), clock, LogLevel.Information);
        var host = BuildHost(root, clock, logs);
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            logs.Dispose();
            throw;
        }

        return new QuickstartSession(root, clock, narrator, host, logs);
    }

    private static IHost BuildHost(string root, FakeTimeProvider clock, FileLoggerProvider logs)
    {
        // No default configuration sources or console logging: the console belongs to the narrative; logs go to quickstart.log.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "AiOps.Samples.Quickstart",
            ContentRootPath = root,
            EnvironmentName = Environments.Production,
        });
        var services = builder.Services;
        services.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Information)

            // Polly reports every pipeline execution at Information; keep its warnings only.
            .AddFilter("Polly", LogLevel.Warning));
        services.AddSingleton<TimeProvider>(clock);

        services.AddAiOpsData(o =>
        {
            o.DatasetStorePath = Path.Combine(root, "data", "store");
            o.AdmittedDirectory = Path.Combine(root, "data", "admitted");
            o.QuarantineDirectory = Path.Combine(root, "data", "quarantine");
            o.MetricsHistoryPath = Path.Combine(root, "data", "metrics");
        });

        // All three builds load side by side, so the canary router can send a share of traffic to any of them.
        services.AddAiOpsInference().AddOnnxModel(Model, o =>
        {
            for (var v = 1; v <= 3; v++)
            {
                o.Versions.Add(new OnnxModelVersionOptions { Version = v.ToString(CultureInfo.InvariantCulture), Path = ModelFile(root, v) });
            }

            o.DefaultVersion = "1";
        });

        // Between monitoring and ONNX Runtime sits the simulated serving node: it gives each call its service time on the
        // simulated clock, and gives build 3 the defect the canary must catch.
        var profiles = new Dictionary<ModelVersion, ServiceProfile>
        {
            [new ModelVersion("1")] = ServiceProfile.Healthy(22),
            [new ModelVersion("2")] = ServiceProfile.Healthy(20),
            [new ModelVersion("3")] = new ServiceProfile(70, 0.35, 0.08, "CUDA out of memory in the new attention block"),
        };
        services.AddSingleton<IModelRunnerDecorator>(new SimulatedServiceDecorator(clock, profiles));

        services.AddAiOpsMonitoring(o =>
        {
            o.Models.Add(Model);

            // GPU polls read the real device; at hours per second of simulated time they would say nothing useful.
            o.Gpu.Enabled = false;
        });
        services.AddAiOpsDrift(o =>
        {
            o.WindowDuration = TimeSpan.FromHours(1);

            // A window with only a few hundred rows (a version that just left traffic) gives noisy PSI; judge full hours only.
            o.MinimumSampleCount = 1_000;
        });

        services.AddAiOpsRelease(o =>
            {
                o.StateDirectory = Path.Combine(root, "state");

                // The simulation runs the controller's evaluation itself once per simulated minute (what the hosted
                // controller does every EvaluationInterval): on a busy machine the hosted timer would fall behind the
                // fast-forwarded clock, skip ticks and make the outcome depend on the machine's load.
                o.EnableController = false;
            })
            .AddModel(Model, o =>
            {
                o.StableVersion = "1";
                o.Steps = [10, 50, 100];
                o.StepHold = StepHold;
            })
            .UseFileStateStore(Path.Combine(root, "state"))
            .UseFileRegistry(Path.Combine(root, "registry"));

        services.AddAiOpsCheckpoints(o =>
        {
            o.Directory = Path.Combine(root, "checkpoints");
            o.SaveEveryNSteps = 50;
            o.Retention.KeepLatest = 2;
            o.Retention.KeepBest = 1;
            o.Retention.BestMetric = "val_loss";
        });
        services.AddAiOpsModelBackup(o =>
        {
            o.BackupDirectory = Path.Combine(root, "backups");
            for (var v = 1; v <= 3; v++)
            {
                o.ModelFiles.Add(ModelFile(root, v));
            }

            // The quickstart triggers the nightly runs itself, so each lands on a known simulated night; the scheduled
            // job (daily by default) would run a second backup each simulated night, kept beside the first as .1.
            o.Scheduled = false;
            o.KeepPerFile = 3;
            o.LogDirectories.Add(Path.Combine(root, "logs"));
            o.LogRetentionDays = 3;
        });

        services.AddSingleton<AlertRecorder>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertHandler, AlertRecorder>(sp => sp.GetRequiredService<AlertRecorder>()));
        return builder.Build();
    }

    public async Task<QuickstartSummary> RunAsync(Stopwatch wall, CancellationToken ct)
    {
        var start = _clock.GetUtcNow();
        _say.Title("AiOps quickstart: one model's life on simulated time (an hour passes in about a second)");
        _say.Line($"Output folder: {_root}");
        DatasetOutcome? dataset = null;
        string? failure = null;
        RolloutState? v2 = null;
        RolloutState? v3 = null;
        CheckpointOutcome? checkpoints = null;
        BackupOutcome? backups = null;
        try
        {
            var (version, admitted, gateResult, piiLeft) = await PrepareDataAsync(ct).ConfigureAwait(false);
            dataset = new DatasetOutcome(ChurnData.Dataset, "data_v1.0", version.Version, gateResult.RowsRead, gateResult.RowsPassed, gateResult.RowsQuarantined, piiLeft);
            Lap("data", wall);
            var scaler = await RegisterV1Async(version, admitted, ct).ConfigureAwait(false);
            _traffic = new TrafficGenerator(Seed + 1, scaler);
            Lap("registry", wall);
            await ServeV1Async(ct).ConfigureAwait(false);
            Lap("serving", wall);
            v2 = await CanaryAsync(2, version, expectPromotion: true, ct).ConfigureAwait(false);
            Lap("canary_v2", wall);
            v3 = await CanaryAsync(3, version, expectPromotion: false, ct).ConfigureAwait(false);
            Lap("canary_v3", wall);
            await DriftAsync(ct).ConfigureAwait(false);
            Lap("drift", wall);
            checkpoints = await RetrainWithCheckpointsAsync(ct).ConfigureAwait(false);
            Lap("checkpoints", wall);
            backups = await NightlyBackupsAsync(ct).ConfigureAwait(false);
            Lap("backups", wall);
        }
        catch (QuickstartException e)
        {
            failure = e.Message;
            _say.EndProgress();
            _say.Line();
            _say.Line("FAILED: " + e.Message);
        }

        await WriteArtifactsAsync(v2 ?? v3, ct).ConfigureAwait(false);
        var summary = Summarize(start, wall, dataset, v2, v3, checkpoints, backups, failure);
        await File.WriteAllTextAsync(PathOf("summary.json"), summary.ToJson(), ct).ConfigureAwait(false);
        var summaryPath = PathOf("summary.json");
        _say.Line($"  {"summary.json",-22} {new FileInfo(summaryPath).Length,8:N0} B  machine-readable outcome of this run");
        _say.Line();
        _say.Line(summary.Succeeded
            ? $"Done: {Narrator.Duration(summary.SimulatedEnd - summary.SimulatedStart)} simulated in {summary.WallSeconds:0.0} s."
            : $"The quickstart did not complete: {summary.Failure}");
        return summary;
    }

    private void Lap(string step, Stopwatch wall)
    {
        var now = wall.Elapsed.TotalSeconds;
        _stepSeconds[step] = Math.Round(now - _lastLap, 2);
        _lastLap = now;
    }

    // ---- 1. Data -------------------------------------------------------------------------------------------------

    private async Task<(DatasetVersion Version, string Admitted, IngestResult Gate, int PiiLeft)> PrepareDataAsync(CancellationToken ct)
    {
        _say.Step(1, Steps, "Data: validate the training set, quarantine bad rows, mask PII, version it");
        var raw = PathOf("data", "raw", "churn-training.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
        var planted = ChurnData.WriteTrainingCsv(raw, rows: 1_000, seed: Seed);
        _say.Say($"Generated {Path.GetRelativePath(_root, raw)}: 1,000 customers with mobile numbers and e-mails, plus {planted.Count} bad rows");

        var rules = RuleSet.Create(ChurnData.Dataset)
            .Key("customer_id")
            .RowCount(min: 500)
            .Column("customer_id", c => c.NotNull().Unique().Matches(@"^C\d{6}$"))
            .Column("phone", c => c.Matches(@"^1[3-9]\d{9}$"))
            .Column("email", c => c.Matches(@"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"))
            .Column("age", c => c.NotNull().OfType(ColumnType.Integer).Between(18, 100).Completeness(0.99))
            .Column("tenure_months", c => c.OfType(ColumnType.Integer).Between(0, 240))
            .Column("monthly_spend", c => c.OfType(ColumnType.Number).Between(0, 1_000))
            .Column("support_tickets", c => c.OfType(ColumnType.Integer).Between(0, 50))
            .Column("churn", c => c.InSet(ChurnData.Classes))
            .Build();
        var ingest = new IngestOptions
        {
            OutputPath = PathOf("data", "admitted", "churn-training.csv"),
            QuarantinePath = PathOf("data", "quarantine", "churn-training.quarantine.csv"),
            MaskColumns = { ["phone"] = PiiOperator.Mask, ["email"] = PiiOperator.Mask, ["notes"] = PiiOperator.Mask },
        };
        var gate = await Services.GetRequiredService<IDataGate>().IngestAsync(DataSource.FromCsv(raw), rules, ingest, ct).ConfigureAwait(false);
        if (!gate.Admitted)
        {
            throw new QuickstartException("The data gate refused the training set:\n" + gate.Report.ToText());
        }

        var completeness = gate.Report.Rules.Single(r => r.Name == "age.completeness").Observed ?? 0;
        var accuracy = gate.Report.Rules.Where(r => r.Scope == RuleScope.Row && r.Observed is not null).Min(r => r.Observed!.Value);
        _say.Say($"Gate '{rules.Name}': {Narrator.Number(gate.RowsRead)} rows read, {Narrator.Number(gate.RowsPassed)} admitted, {gate.RowsQuarantined} quarantined; completeness {completeness:P1} (>= 99 %), worst rule pass rate {accuracy:P1} (>= 98 %)");
        foreach (var rule in gate.Report.Rules.Where(r => r.Unexpected > 0 || !r.Passed))
        {
            var first = rule.FailingRows.Count > 0 ? rule.FailingRows[0] : null;
            _say.Detail(first is null
                ? $"{rule.Name,-26} {rule.Unexpected} row(s): {rule.Message ?? rule.Expectation}"
                : $"{rule.Name,-26} {rule.Unexpected} row(s), e.g. line {first.Line}: {first.Reason}");
        }

        _say.Detail($"quarantined rows with their reasons: {Path.GetRelativePath(_root, gate.QuarantinePath)}");

        // Check the published files with the masker itself: no mobile number or e-mail may be left in clear.
        var masker = Services.GetRequiredService<IPiiMasker>();
        var piiLeft = 0;
        foreach (var file in new[] { gate.AdmittedPath!, gate.QuarantinePath })
        {
            piiLeft += masker.Scan(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false)).Count(f => f.Masked);
        }

        var rawRow = File.ReadLines(raw).ElementAt(1).Split(',');
        var maskedRow = File.ReadLines(gate.AdmittedPath!).ElementAt(1).Split(',');
        _say.Say($"PII masked: {rawRow[1]} -> {maskedRow[1]}, {rawRow[2]} -> {maskedRow[2]}; a PII scan of the admitted and quarantine files finds {piiLeft} left");
        if (piiLeft > 0)
        {
            throw new QuickstartException($"{piiLeft} PII values were found unmasked in the gate's output files.");
        }

        var version = await Services.GetRequiredService<IDatasetStore>().SnapshotAsync(
            ChurnData.Dataset,
            gate.AdmittedPath!,
            new SnapshotOptions { Tag = "data_v1.0", Report = gate.Report, Description = "Churn training set, masked, bad rows quarantined." },
            ct).ConfigureAwait(false);
        _say.Say($"Snapshot '{version.Dataset}' tagged data_v1.0 = version {version.Version[..12]}… ({Narrator.Number(version.RowCount ?? 0)} rows, {version.Schema.Count} columns, content-addressed)");
        return (version, gate.AdmittedPath!, gate, piiLeft);
    }

    // ---- 2. Registry ---------------------------------------------------------------------------------------------

    private async Task<FeatureScaler> RegisterV1Async(DatasetVersion version, string admitted, CancellationToken ct)
    {
        _say.Step(2, Steps, "Registry: register churn v1 with the dataset it was trained on and its drift reference profile");

        // The model sees standardised features; the statistics come from the snapshot the data store computed.
        var stats = ChurnData.Features.Select(f => version.Statistics.Single(s => s.Name == f)).ToArray();
        var scaler = new FeatureScaler(
            stats.Select(s => s.Mean ?? throw new QuickstartException($"The snapshot has no mean for '{s.Name}'.")).ToArray(),
            stats.Select(s => s.StdDev is > 0 and var sd ? sd : throw new QuickstartException($"The snapshot has no standard deviation for '{s.Name}'.")).ToArray());
        var rows = ChurnData.ReadFeatureRows(admitted);
        var matrix = new float[rows.Count * ChurnData.Features.Length];
        for (var r = 0; r < rows.Count; r++)
        {
            scaler.Scale(rows[r], matrix.AsSpan(r * ChurnData.Features.Length, ChurnData.Features.Length));
        }

        var profile = ReferenceProfileBuilder.FromMatrix(matrix, ChurnData.Features.Length, ChurnData.Features, ClassifierModel.InputName);
        var profilePath = PathOf("reference-profile.json");
        await profile.SaveAsync(profilePath, ct).ConfigureAwait(false);
        AddArtifact("reference-profile.json", profilePath, "drift reference profile of the training features (v1-v3)");

        var info = await RegisterAsync(1, version, ct).ConfigureAwait(false);
        var registry = Services.GetRequiredService<IModelRegistry>();
        await registry.SetAliasAsync(ModelName, "stable", info.Key.Version, ct).ConfigureAwait(false);
        Services.GetRequiredService<IDriftMonitor>().SetProfile(ModelName, profile);
        _say.Say($"Registered {info.Key} (sha256 {info.Sha256[..12]}…) trained on {ChurnData.Dataset}@data_v1.0; alias stable -> 1");
        _say.Say($"Drift reference: {profile.Features.Count} features x {profile.Features.Max(f => f.BinCount)} quantile bins from {Narrator.Number(rows.Count)} training rows -> {Path.GetRelativePath(_root, profilePath)}");
        return scaler;
    }

    private async Task<ModelVersionInfo> RegisterAsync(int version, DatasetVersion dataset, CancellationToken ct)
    {
        var key = new ModelKey(ModelName, version.ToString(CultureInfo.InvariantCulture));
        return await Services.GetRequiredService<IModelRegistry>().RegisterFileAsync(
            key,
            ModelFile(_root, version),
            _clock.GetUtcNow(),
            i => i with
            {
                Dataset = dataset.ToRef("data_v1.0"),
                Metrics = new Dictionary<string, double> { ["train_rows"] = dataset.RowCount ?? 0 },
                Metadata = new Dictionary<string, string> { ["drift_profile"] = "reference-profile.json", ["input"] = ClassifierModel.InputName },
            },
            ct).ConfigureAwait(false);
    }

    // ---- 3. Serving ----------------------------------------------------------------------------------------------

    private async Task ServeV1Async(CancellationToken ct)
    {
        _say.Step(3, Steps, "Serving: simulated traffic through the canary router, monitoring and ONNX Runtime");
        var onnx = Services.GetRequiredKeyedService<OnnxModelRunner>(Model);
        _say.Say($"churn v1, v2 and v3 loaded side by side on {onnx.ExecutionProvider}" +
            (onnx.ExecutionProviderFallbackReason is { } why ? $" (fell back from CUDA: {Shorten(why[(why.LastIndexOf("] ", StringComparison.Ordinal) + 1)..].Trim(), 80)})" : string.Empty));
        var from = _clock.GetUtcNow();
        await ServeAsync("v1 serves", from + TimeSpan.FromHours(1), _ => 0, reportDrift: true, afterMinute: null, ct).ConfigureAwait(false);
        var snapshot = await Services.GetRequiredService<IVersionMetricsSource>().GetSnapshotAsync(new ModelKey(ModelName, "1"), from, ct).ConfigureAwait(false);
        _say.Say($"1 h on v1: {Narrator.Number(snapshot.Requests)} calls, p95 {snapshot.P95LatencyMs:0.0} ms, {snapshot.Failures} failed (metrics: aiops_model_requests_total, aiops_model_request_duration_seconds)");
    }

    // ---- 4./5. Canary --------------------------------------------------------------------------------------------

    private async Task<RolloutState> CanaryAsync(int version, DatasetVersion dataset, bool expectPromotion, CancellationToken ct)
    {
        var candidate = new ModelVersion(version.ToString(CultureInfo.InvariantCulture));
        _say.Step(expectPromotion ? 4 : 5, Steps, expectPromotion
            ? "Canary v2: 10 % -> 50 % -> 100 %, gates judged by the rollout manager every simulated minute"
            : "Canary v3: a defective build (about 3x slower, 8 % of calls fail) must be rolled back automatically");
        var info = await RegisterAsync(version, dataset, ct).ConfigureAwait(false);
        _say.Say($"Registered {info.Key} (sha256 {info.Sha256[..12]}…)");
        var manager = Services.GetRequiredService<IRolloutManager>();
        var started = await manager.StartAsync(ModelName, candidate, ct).ConfigureAwait(false);
        var seen = started.History.Count - 1;
        RolloutState? final = null;
        var errorsBefore = _clientErrors;
        await ServeAsync($"canary v{version}", _clock.GetUtcNow() + TimeSpan.FromHours(6), _ => 0, reportDrift: false, async () =>
        {
            await manager.EvaluateAsync(ModelName, ct).ConfigureAwait(false);
            var state = await manager.GetStateAsync(ModelName, ct).ConfigureAwait(false) ?? started;
            foreach (var decision in state.History.Skip(seen))
            {
                ReportDecision(decision, candidate);
            }

            seen = state.History.Count;
            if (state.Phase != RolloutPhase.Progressing)
            {
                final = state;
                return 1;
            }

            // Progress for the bar only; it stays below 1 until the rollout has ended.
            var held = Math.Clamp((_clock.GetUtcNow() - state.StepStartedAt) / StepHold, 0, 1);
            return Math.Min(0.99, expectPromotion ? (state.StepIndex + held) / 3 : held);
        }, ct).ConfigureAwait(false);

        if (final is null)
        {
            throw new QuickstartException($"The rollout of v{version} did not finish within 6 simulated hours.");
        }

        if (expectPromotion)
        {
            if (final.Phase != RolloutPhase.Promoted)
            {
                throw new QuickstartException($"v2 should have been promoted but the rollout ended {final.Phase}: {string.Join("; ", final.History[^1].Reasons)}");
            }

            _say.Say($"v2 is stable after {Narrator.Duration(final.StepStartedAt - started.StepStartedAt)}; v1 stays loaded as the previous version");
        }
        else
        {
            if (final.Phase != RolloutPhase.RolledBack)
            {
                throw new QuickstartException($"v3 should have been rolled back but the rollout ended {final.Phase}.");
            }

            _say.Say($"All traffic back on v{final.Stable} {Narrator.Duration(final.StepStartedAt - started.StepStartedAt)} after the canary started");
            _say.Say($"Clients saw {_clientErrors - errorsBefore} errors: each failed canary call was answered by stable (fallback)");
        }

        return final;
    }

    private void ReportDecision(RolloutDecision d, ModelVersion candidate)
    {
        var at = d.At.ToString("HH:mm", CultureInfo.InvariantCulture);
        string Figure(string name, string format) => d.Figures.TryGetValue(name, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        switch (d.Action)
        {
            case RolloutAction.Start:
                _say.Detail($"{at} start: v{candidate} takes {d.CanaryWeightPercent} % of traffic");
                break;
            case RolloutAction.Hold:
                var kind = d.Reasons.Count > 0 ? d.Reasons[0].Split(':', 2)[0] : string.Empty;
                _say.Detail(kind switch
                {
                    "samples" => $"{at} hold at {d.CanaryWeightPercent} %: waiting for data (canary {Figure("canary_requests", "0")}, stable {Figure("stable_requests", "0")} requests; {Figure("min_samples", "0")} each needed)",
                    "hold_time" => $"{at} hold at {d.CanaryWeightPercent} %: gates pass (p95 {Figure("canary_p95_ms", "0.0")} ms vs {Figure("stable_p95_ms", "0.0")} ms); step held until {d.At.AddSeconds(d.Figures.GetValueOrDefault("hold_seconds") - d.Figures.GetValueOrDefault("held_seconds")):HH:mm}",
                    _ => $"{at} hold at {d.CanaryWeightPercent} %: {Shorten(d.Reasons[0], 110)}",
                });
                break;
            case RolloutAction.Advance:
            case RolloutAction.Promote:
                var gates = $"p95 {Figure("canary_p95_ms", "0.0")} ms vs stable {Figure("stable_p95_ms", "0.0")} ms, errors {Figure("canary_failures", "0")}/{Figure("canary_requests", "0")}, latency score {Figure("latency_score", "0")}";
                _say.Detail(d.Action == RolloutAction.Advance
                    ? $"{at} advance to {d.CanaryWeightPercent} %: every gate passed ({gates})"
                    : $"{at} promote: v{candidate} becomes stable ({gates})");
                break;
            case RolloutAction.Rollback:
                _say.Detail($"{at} ROLLBACK at step {d.StepIndex + 1}; the gates that failed:");
                foreach (var reason in FailedGates(d))
                {
                    _say.Detail("      " + reason);
                }

                break;
        }
    }

    /// <summary>The reasons of a rollback that name a failed gate (the judge words failures "above the limit", "… allowed", "the canary is slower").</summary>
    private static IEnumerable<string> FailedGates(RolloutDecision d)
    {
        var failed = d.Reasons.Where(r => r.Contains("above the limit", StringComparison.Ordinal) || r.Contains("allowed", StringComparison.Ordinal)
            || r.Contains("the canary is slower", StringComparison.Ordinal) || r.StartsWith("no_data", StringComparison.Ordinal) || r.StartsWith("p1_alert", StringComparison.Ordinal)).ToList();
        return failed.Count > 0 ? failed : d.Reasons.Take(1);
    }

    // ---- 6. Drift ------------------------------------------------------------------------------------------------

    private async Task DriftAsync(CancellationToken ct)
    {
        _say.Step(6, Steps, "Drift: the customer base changes (spending up, tenure down) until PSI turns severe");
        var now = _clock.GetUtcNow();
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        await ServeAsync("v2 serves", hour, _ => 0, reportDrift: false, afterMinute: null, ct).ConfigureAwait(false);
        _windowsReported.Clear();
        foreach (var key in Services.GetRequiredService<IDriftMonitor>().TrackedVersions)
        {
            _windowsReported[key] = Services.GetRequiredService<IDriftMonitor>().GetWindows(key).Count;
        }

        double[] shifts = [0.2, 0.5, 1.0, 1.5];
        var stable = new ModelKey(ModelName, "2");
        foreach (var shift in shifts)
        {
            _say.Say($"Next hour: spending +{shift:0.0} sd, tenure -{shift * 0.9:0.0} sd");
            _recentTraffic.Clear();
            await ServeAsync("shifted traffic", _clock.GetUtcNow() + TimeSpan.FromHours(1), _ => shift, reportDrift: true, afterMinute: null, ct, keepTraffic: true).ConfigureAwait(false);
            var windows = Services.GetRequiredService<IDriftMonitor>().GetWindows(stable);
            if (windows.Count > 0 && windows[^1].Result.Severity == DriftSeverity.Severe)
            {
                var report = PathOf("drift-report.html");
                await new DriftReportWriter(Services.GetRequiredService<IOptions<DriftOptions>>().Value).WriteAsync(report, windows[^1], ct).ConfigureAwait(false);
                AddArtifact("drift-report.html", report, "HTML drift report of the severe window, SVG chart per feature");
                _say.Say($"Severe drift: an operator would retrain on recent data; the report is {Path.GetRelativePath(_root, report)}");
                return;
            }
        }

        throw new QuickstartException($"Drift never turned severe after shifting the inputs by up to {shifts[^1]} standard deviations.");
    }

    // ---- 7. Checkpoints and backups ------------------------------------------------------------------------------

    private async Task<CheckpointOutcome> RetrainWithCheckpointsAsync(CancellationToken ct)
    {
        _say.Step(7, Steps, "Operations: retrain with checkpoints under retention, nightly backups under retention");
        var trainer = new SoftmaxTrainer(_recentTraffic, ChurnData.Features.Length, ChurnData.Classes.Length, Seed + 7);
        var checkpoints = Services.GetRequiredService<ICheckpointManager>();
        const int totalSteps = 400;
        var saved = 0;
        var initialLoss = trainer.ValidationLoss();
        for (long step = 1; step <= totalSteps; step++)
        {
            trainer.Step(batchSize: 64, learningRate: 0.5);
            _clock.Advance(TimeSpan.FromSeconds(3)); // a training step on the (simulated) GPU
            if (checkpoints.ShouldSave(step))
            {
                var valLoss = trainer.ValidationLoss();
                var bytes = new byte[trainer.Weights.Length * sizeof(float)];
                Buffer.BlockCopy(trainer.Weights, 0, bytes, 0, bytes.Length);
                await checkpoints.SaveAsync(new CheckpointContent(step, new Dictionary<string, ReadOnlyMemory<byte>> { ["weights.bin"] = bytes })
                {
                    Metrics = new Dictionary<string, double> { ["val_loss"] = valLoss, ["val_accuracy"] = trainer.ValidationAccuracy() },
                }, ct).ConfigureAwait(false);
                saved++;
            }

            _say.Progress("retraining", step / (double)totalSteps, $"step {step}");
        }

        await checkpoints.FlushAsync(ct).ConfigureAwait(false);
        _say.EndProgress();
        var kept = await checkpoints.Store.ListAsync(ct).ConfigureAwait(false);
        _say.Say($"Retrained a candidate on {Narrator.Number(trainer.TrainRows)} rows of the last hour's labelled traffic: val_loss {initialLoss:0.000} -> {trainer.ValidationLoss():0.000}, val accuracy {trainer.ValidationAccuracy():P1}");
        _say.Detail($"{saved} checkpoints taken (every 50 steps); retention (latest 2 + best 1 by val_loss) kept {kept.Count}:");
        foreach (var c in kept)
        {
            _say.Detail($"  step {c.Step,3}  val_loss {c.Metrics["val_loss"]:0.0000}  {c.Id}");
        }

        var restored = await checkpoints.RestoreLatestAsync(ct).ConfigureAwait(false)
            ?? throw new QuickstartException("No valid checkpoint could be restored.");
        _say.Detail($"a restart resumes from step {restored.Checkpoint.Step} (every file verified against its SHA-256)");
        return new CheckpointOutcome(saved, kept.Select(c => c.Id).ToArray(), restored.Checkpoint.Step, restored.Checkpoint.Metrics["val_loss"]);
    }

    private async Task<BackupOutcome> NightlyBackupsAsync(CancellationToken ct)
    {
        var backup = Services.GetRequiredService<IModelBackup>();
        var logs = PathOf("logs");
        Directory.CreateDirectory(logs);
        var deleted = new List<string>();
        var deletedLogs = new List<string>();
        var files = 0;
        const int nights = 5;
        for (var night = 1; night <= nights; night++)
        {
            // The day's serving log closes at midnight; the backup job runs at 02:00.
            var now = _clock.GetUtcNow();
            var midnight = new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero).AddDays(1);
            var log = Path.Combine(logs, $"serving-{now:yyyyMMdd}.log");
            await File.WriteAllTextAsync(log, $"{now:O} churn serving log ({Narrator.Number(_requests)} calls so far)\n", ct).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(log, midnight.UtcDateTime.AddSeconds(-1));
            AdvanceTo(midnight.AddHours(2));
            var report = await backup.RunOnceAsync(ct).ConfigureAwait(false);
            if (!report.Succeeded)
            {
                throw new QuickstartException("A backup run failed: " + string.Join(" ", report.Files.Select(f => f.Error).OfType<string>()));
            }

            files += report.Files.Count;
            deleted.AddRange(report.DeletedBackups);
            deletedLogs.AddRange(report.DeletedLogs);
            _say.Progress("nightly backups", night / (double)nights, $"night {night} of {nights}");
            _say.EndProgress();
            var dates = report.DeletedBackups.Select(d => Path.GetFileNameWithoutExtension(d)[^8..]).Distinct().ToArray();
            _say.Say($"Backup {_clock.GetUtcNow():ddd d MMM}: {report.Files.Count} model files copied and verified" +
                (report.DeletedBackups.Count > 0 ? $"; retention (3 per file) deleted {report.DeletedBackups.Count} from {string.Join(", ", dates)}" : string.Empty) +
                (report.DeletedLogs.Count > 0 ? $"; {report.DeletedLogs.Count} log(s) older than 3 days deleted ({string.Join(", ", report.DeletedLogs.Select(Path.GetFileName))})" : string.Empty));
        }

        _say.EndProgress();
        var keptFiles = Directory.EnumerateFiles(PathOf("backups")).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        _say.Say($"After {nights} nights: {keptFiles.Length} backups kept in {Path.GetRelativePath(_root, PathOf("backups"))}/ ({string.Join(", ", keptFiles.Where(n => n.StartsWith("churn-v2", StringComparison.Ordinal)))}, …)");
        var registry = Services.GetRequiredService<IModelRegistry>();
        var aliases = await registry.GetAliasesAsync(ModelName, ct).ConfigureAwait(false);
        var versions = await registry.ListAsync(ModelName, ct).ConfigureAwait(false);
        _say.Say($"Registry: {string.Join(", ", versions.Select(v => v.Key.Version.Value))} registered; aliases {string.Join(", ", aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} -> {a.Value}"))}");
        return new BackupOutcome(nights, files, keptFiles, deleted.Select(d => Path.GetFileName(d)).ToArray(), deletedLogs.Select(d => Path.GetFileName(d)).ToArray());
    }

    // ---- Traffic loop --------------------------------------------------------------------------------------------

    /// <summary>
    /// Serves <see cref="CallsPerMinute"/> calls per simulated minute until <paramref name="until"/>, through the keyed
    /// <see cref="IModelClient"/> (canary router, resilience, fallback), reporting alerts and closed drift windows as they
    /// come. <paramref name="afterMinute"/> runs after each minute and returns the progress (1 stops the loop).
    /// </summary>
    private async Task ServeAsync(string label, DateTimeOffset until, Func<DateTimeOffset, double> shift, bool reportDrift, Func<Task<double>>? afterMinute, CancellationToken ct, bool keepTraffic = false)
    {
        var client = Services.GetRequiredKeyedService<IModelClient>(Model);
        var alerts = Services.GetRequiredService<IAlertEvaluator>();
        var traffic = _traffic!;
        var from = _clock.GetUtcNow();
        while (_clock.GetUtcNow() < until)
        {
            ct.ThrowIfCancellationRequested();
            var minuteEnd = _clock.GetUtcNow() + TimeSpan.FromMinutes(1);
            for (var i = 0; i < CallsPerMinute; i++)
            {
                var call = traffic.Next(shift(_clock.GetUtcNow()));
                _requests++;
                try
                {
                    var response = await client.InferAsync(call.Request, ct).ConfigureAwait(false);
                    var v = response.Key.Version.Value;
                    _answeredBy[v] = _answeredBy.GetValueOrDefault(v) + 1;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _clientErrors++;
                }

                if (keepTraffic)
                {
                    for (var r = 0; r < call.Labels.Length; r++)
                    {
                        _recentTraffic.Add((call.Features.AsSpan(r * ChurnData.Features.Length, ChurnData.Features.Length).ToArray(), call.Labels[r]));
                    }
                }
            }

            AdvanceTo(minuteEnd);

            // Judge the alert rules at every simulated minute as well (the hosted loop may lag the fast-forwarded clock on
            // a busy machine); both share one rule state, so an alert still fires and resolves once.
            await alerts.EvaluateAsync(ct).ConfigureAwait(false);
            ReportAlerts(reportDrift);
            var progress = afterMinute is null
                ? (_clock.GetUtcNow() - from) / (until - from)
                : await afterMinute().ConfigureAwait(false);
            if (afterMinute is not null && progress >= 1)
            {
                break;
            }

            _say.Progress(label, progress, $"{Narrator.Number(_requests)} calls");
        }

        _say.EndProgress();
        ReportAlerts(reportDrift);
    }

    private void AdvanceTo(DateTimeOffset target)
    {
        // In steps of at most an hour, so every timer (drift windows, controller, alert rules) fires in order.
        while (_clock.GetUtcNow() < target)
        {
            var step = target - _clock.GetUtcNow();
            _clock.Advance(step > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : step);
        }
    }

    private void ReportAlerts(bool reportDrift)
    {
        var newAlerts = Services.GetRequiredService<AlertRecorder>().TakeNew();
        if (reportDrift)
        {
            var monitor = Services.GetRequiredService<IDriftMonitor>();
            foreach (var key in monitor.TrackedVersions)
            {
                var windows = monitor.GetWindows(key);
                var done = _windowsReported.GetValueOrDefault(key);
                foreach (var w in windows.Skip(done))
                {
                    var worst = w.Result.Features.Where(f => f.Statistic == DriftStatisticNames.Psi).MaxBy(f => f.Value);
                    if (worst is not null && w.Histogram.Rows >= 100)
                    {
                        _say.EndProgress();
                        _say.Say($"Drift window {w.Result.WindowStart:HH:mm}-{w.Result.WindowEnd:HH:mm} on {key}: {w.Result.Severity.ToString().ToLowerInvariant()}, worst PSI {worst.Value:0.000} ({worst.Feature}) over {Narrator.Number(w.Histogram.Rows)} rows");
                    }
                }

                _windowsReported[key] = windows.Count;
            }
        }

        foreach (var a in newAlerts)
        {
            _say.EndProgress();
            // The drift monitor's messages end with the window's bounds, which the narrative already shows.
            var cut = a.Message.IndexOf(" over the window ", StringComparison.Ordinal);
            var message = Shorten(cut > 0 ? a.Message[..cut] + "." : a.Message, 140);
            _say.Say(a.State == AlertState.Firing
                ? $"ALERT {a.Rule} firing ({a.Severity.ToString().ToLowerInvariant()}, {a.Priority?.ToString() ?? "no incident"}): {message}"
                : $"alert {a.Rule} resolved: {message}");
        }
    }

    // ---- Artifacts and summary -----------------------------------------------------------------------------------

    private async Task WriteArtifactsAsync(RolloutState? anyState, CancellationToken ct)
    {
        _say.Line();
        _say.Line("Artifacts:");
        var metrics = PathOf("metrics.prom");
        await File.WriteAllTextAsync(metrics, await Services.GetRequiredService<AiOpsPrometheusExporter>().ScrapeAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        AddArtifact("metrics.prom", metrics, "Prometheus scrape (text exposition) of every AiOps meter");

        var (rules, dashboard) = await Services.GetRequiredService<PrometheusRulesGenerator>().WriteAsync(_root, ct).ConfigureAwait(false);
        AddArtifact(Path.GetFileName(rules), rules, "Prometheus recording and alerting rules (promtool check rules)");
        AddArtifact(Path.GetFileName(dashboard), dashboard, "Grafana dashboard, importable as is");

        var state = await Services.GetRequiredService<IRolloutManager>().GetStateAsync(ModelName, ct).ConfigureAwait(false) ?? anyState;
        var history = PathOf("rollout-history.json");
        await File.WriteAllTextAsync(history, JsonSerializer.Serialize(RolloutHistory(state), QuickstartSummary.JsonOptions), ct).ConfigureAwait(false);
        AddArtifact("rollout-history.json", history, "every rollout decision with its reasons and figures");

        foreach (var a in _artifacts)
        {
            _say.Line($"  {a.Path,-22} {a.Bytes,8:N0} B  {a.Description}");
        }

        _say.Line($"  {"quickstart.log",-22} {"",8}    the packages' own logs (simulated timestamps)");
    }

    private static object RolloutHistory(RolloutState? state) => new
    {
        model = Model,
        stable = state?.Stable.Value,
        phase = state?.Phase.ToString(),
        revision = state?.Revision,
        decisions = (state?.History ?? []).Select(d => new
        {
            at = d.At,
            action = d.Action.ToString(),
            step = d.StepIndex + 1,
            canaryWeightPercent = d.CanaryWeightPercent,
            reasons = d.Reasons,
            figures = d.Figures,
        }),
    };

    private void AddArtifact(string name, string path, string description) =>
        _artifacts.Add(new ArtifactOutcome(name, Path.GetRelativePath(_root, path), new FileInfo(path).Length, description));

    private QuickstartSummary Summarize(DateTimeOffset start, Stopwatch wall, DatasetOutcome? dataset, RolloutState? v2, RolloutState? v3, CheckpointOutcome? checkpoints, BackupOutcome? backups, string? failure)
    {
        var monitor = Services.GetRequiredService<IDriftMonitor>();
        var psi = monitor.TrackedVersions
            .SelectMany(monitor.GetWindows)
            .SelectMany(w => w.Result.Features)
            .Where(f => f.Statistic == DriftStatisticNames.Psi)
            .MaxBy(f => f.Value);
        var worst = monitor.TrackedVersions.SelectMany(monitor.GetWindows).Select(w => w.Result.Severity).DefaultIfEmpty(DriftSeverity.Stable).Max();
        var v3Rollback = v3?.History.LastOrDefault(d => d.Action == RolloutAction.Rollback);
        var v2Promote = v2?.History.LastOrDefault(d => d.Action == RolloutAction.Promote);
        var alerts = Services.GetRequiredService<AlertRecorder>().All
            .Select(a => new AlertOutcome(a.Rule, a.State.ToString(), a.Severity.ToString(), a.Priority?.ToString(), a.Key?.ToString(), a.At, a.Message))
            .ToArray();
        return new QuickstartSummary
        {
            Succeeded = failure is null,
            Failure = failure,
            OutputDirectory = _root,
            WallSeconds = Math.Round(wall.Elapsed.TotalSeconds, 2),
            StepWallSeconds = new Dictionary<string, double>(_stepSeconds, StringComparer.Ordinal),
            SimulatedStart = start,
            SimulatedEnd = _clock.GetUtcNow(),
            Dataset = dataset,
            Traffic = new TrafficOutcome { Requests = _requests, ClientErrors = _clientErrors, AnsweredByVersion = new SortedDictionary<string, long>(_answeredBy, StringComparer.Ordinal) },
            V2Promoted = v2?.Phase == RolloutPhase.Promoted,
            V2PromoteReasons = v2Promote?.Reasons ?? [],
            V3RolledBack = v3?.Phase == RolloutPhase.RolledBack,
            V3RollbackReason = v3Rollback is null ? null : string.Join("; ", FailedGates(v3Rollback)),
            FinalStableVersion = (v3 ?? v2)?.Stable.Value,
            MaxPsi = psi?.Value ?? 0,
            MaxPsiFeature = psi?.Feature,
            WorstDriftSeverity = worst.ToString(),
            AlertsRaised = alerts,
            Checkpoints = checkpoints,
            Backups = backups,
            Artifacts = [.. _artifacts],
        };
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            if (_host is IAsyncDisposable d)
            {
                await d.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                _host.Dispose();
            }

            _logs.Dispose();
        }
    }
}
