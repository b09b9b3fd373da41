using System.Globalization;
using AiOps.Metrics;
using AiOps.Release.Internal;

namespace AiOps.Release.Rollout;

/// <summary>The judgement of one evaluation: the overall outcome, each gate's result and the figures behind them.</summary>
internal sealed record RolloutVerdict(GateOutcome Outcome, IReadOnlyList<GateResult> Gates, IReadOnlyDictionary<string, double> Figures);

/// <summary>
/// Judges a canary against stable with the configured gates. Any failed gate fails the verdict; otherwise any gate
/// without data makes it "no data" (never a pass); otherwise any marginal gate makes it marginal.
/// </summary>
internal static class RolloutJudge
{
    public static RolloutVerdict Judge(RolloutGateOptions o, RolloutGateContext context)
    {
        var canary = context.Canary;
        var stable = context.Stable;
        var figures = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["canary_requests"] = canary.Requests,
            ["stable_requests"] = stable.Requests,
            ["canary_failures"] = canary.Failures,
            ["stable_failures"] = stable.Failures,
            ["canary_error_rate"] = canary.ErrorRate,
            ["stable_error_rate"] = stable.ErrorRate,
            ["canary_latency_samples"] = canary.LatencySamplesMs.Count,
            ["stable_latency_samples"] = stable.LatencySamplesMs.Count,
            ["min_samples"] = o.MinSamples,
        };
        var gates = new List<GateResult>();

        if (canary.Requests < o.MinSamples || stable.Requests < o.MinSamples)
        {
            // Too little to pass, but a canary significantly above the ceiling is failing whatever the counts.
            if (Ceiling(o, canary, figures) is { Outcome: GateOutcome.Fail } ceiling)
            {
                gates.Add(ceiling);
                return new RolloutVerdict(GateOutcome.Fail, gates, figures);
            }

            gates.Add(new GateResult("samples", GateOutcome.NoData, F(
                $"too little data to judge: canary has {canary.Requests} requests in the analysis window, stable {stable.Requests} since the rollout began; need {o.MinSamples} each")));
            return new RolloutVerdict(GateOutcome.NoData, gates, figures);
        }

        gates.Add(ErrorRate(o, canary, stable, figures));
        gates.AddRange(Latency(o, canary, stable, figures));
        gates.Add(Accuracy(o, canary, stable, figures));
        gates.Add(Drift(o, canary, stable, figures));
        foreach (var custom in o.CustomGates)
        {
            gates.Add(custom(context));
        }

        var outcome = gates.Any(g => g.Outcome == GateOutcome.Fail) ? GateOutcome.Fail
            : gates.Any(g => g.Outcome == GateOutcome.NoData) ? GateOutcome.NoData
            : gates.Any(g => g.Outcome == GateOutcome.Marginal) ? GateOutcome.Marginal
            : GateOutcome.Pass;
        return new RolloutVerdict(outcome, gates, figures);
    }

    private static GateResult? Ceiling(RolloutGateOptions o, VersionMetricsSnapshot canary, Dictionary<string, double> figures)
    {
        if (o.MaxErrorRate is not { } max || canary.Requests == 0)
        {
            return null;
        }

        var p = ProportionTests.BinomialUpperTail(canary.Requests, canary.Failures, max);
        figures["ceiling_p"] = p;
        return p < o.ErrorRateAlpha
            ? new GateResult("error_rate", GateOutcome.Fail, F(
                $"canary error rate {canary.ErrorRate:P2} ({canary.Failures}/{canary.Requests}) is above the ceiling {max:P2} (one-sided binomial p={p:0.####e+0} < {o.ErrorRateAlpha})")) { Immediate = true }
            : new GateResult("error_rate", GateOutcome.Pass, F($"canary error rate {canary.ErrorRate:P2} ({canary.Failures}/{canary.Requests}) is not significantly above the ceiling {max:P2} (p={p:0.####})"));
    }

    private static GateResult ErrorRate(RolloutGateOptions o, VersionMetricsSnapshot canary, VersionMetricsSnapshot stable, Dictionary<string, double> figures)
    {
        if (Ceiling(o, canary, figures) is { Outcome: GateOutcome.Fail } ceiling)
        {
            return ceiling;
        }

        var p = ProportionTests.FisherUpperTail(canary.Failures, canary.Requests, stable.Failures, stable.Requests);
        var increase = canary.ErrorRate - stable.ErrorRate;
        figures["error_rate_p"] = p;
        figures["error_rate_increase"] = increase;
        var text = F($"canary error rate {canary.ErrorRate:P2} ({canary.Failures}/{canary.Requests}), stable {stable.ErrorRate:P2} ({stable.Failures}/{stable.Requests}); Fisher one-sided p={p:0.####}");
        return p < o.ErrorRateAlpha && increase > o.MaxErrorRateIncrease
            ? new GateResult("error_rate", GateOutcome.Fail, text + F($" < {o.ErrorRateAlpha} and {increase * 100:0.##} points above stable; at most {o.MaxErrorRateIncrease * 100:0.##} allowed"))
            : new GateResult("error_rate", GateOutcome.Pass, text + (p < o.ErrorRateAlpha
                ? F($": higher, within the allowed {o.MaxErrorRateIncrease * 100:0.##} points")
                : F($": not significantly higher (alpha {o.ErrorRateAlpha})")));
    }

    private static IEnumerable<GateResult> Latency(RolloutGateOptions o, VersionMetricsSnapshot canary, VersionMetricsSnapshot stable, Dictionary<string, double> figures)
    {
        if (canary.LatencySamplesMs.Count < o.MinSamples || stable.LatencySamplesMs.Count < o.MinSamples)
        {
            yield return new GateResult("latency", GateOutcome.NoData, F(
                $"too few latency samples: canary {canary.LatencySamplesMs.Count}, stable {stable.LatencySamplesMs.Count}; need {o.MinSamples} each"));
            yield break;
        }

        var c95 = canary.P95LatencyMs!.Value;
        var s95 = stable.P95LatencyMs!.Value;
        figures["canary_p95_ms"] = c95;
        figures["stable_p95_ms"] = s95;
        if (o.MaxP95LatencyMs is { } max && c95 > max)
        {
            yield return new GateResult("latency_p95", GateOutcome.Fail, F($"canary p95 latency {c95:0.###} ms is above the limit {max:0.###} ms"));
        }
        else if (s95 > 0 && c95 / s95 > o.MaxP95LatencyRatio)
        {
            figures["p95_ratio"] = c95 / s95;
            yield return new GateResult("latency_p95", GateOutcome.Fail, F($"canary p95 latency {c95:0.###} ms is {c95 / s95:0.###}× stable's {s95:0.###} ms; at most {o.MaxP95LatencyRatio:0.###}× allowed"));
        }
        else
        {
            yield return new GateResult("latency_p95", GateOutcome.Pass, F($"canary p95 latency {c95:0.###} ms, stable {s95:0.###} ms"));
        }

        if (!o.UseLatencyJudge)
        {
            yield break;
        }

        var mw = MannWhitneyU.Test(canary.LatencySamplesMs, stable.LatencySamplesMs);
        var score = mw.PValue >= o.JudgeAlpha ? 100 : 100 * Math.Clamp(2 * (1 - mw.Effect), 0, 1);
        figures["mw_u"] = mw.U;
        figures["mw_z"] = mw.Z;
        figures["mw_p"] = mw.PValue;
        figures["mw_effect"] = mw.Effect;
        figures["latency_score"] = score;
        var text = F($"Mann–Whitney U={mw.U:0.#}, z={mw.Z:0.###}, one-sided p={mw.PValue:0.####}, P(canary slower)={mw.Effect:0.###}: score {score:0.#}");
        yield return score >= o.JudgePassScore
            ? new GateResult("latency_judge", GateOutcome.Pass, text + F($" ≥ pass {o.JudgePassScore:0.#}"))
            : score >= o.JudgeMarginalScore
                ? new GateResult("latency_judge", GateOutcome.Marginal, text + F($" is marginal (pass {o.JudgePassScore:0.#}, marginal {o.JudgeMarginalScore:0.#})"))
                : new GateResult("latency_judge", GateOutcome.Fail, text + F($" is below the marginal score {o.JudgeMarginalScore:0.#}: the canary is slower"));
    }

    private static GateResult Accuracy(RolloutGateOptions o, VersionMetricsSnapshot canary, VersionMetricsSnapshot stable, Dictionary<string, double> figures)
    {
        if (canary.Accuracy is not { } ca || stable.Accuracy is not { } sa)
        {
            return o.RequireAccuracy
                ? new GateResult("accuracy", GateOutcome.NoData, "accuracy not measured yet for both versions (labels have not arrived) and RequireAccuracy is set")
                : new GateResult("accuracy", GateOutcome.Pass, "accuracy not measured (labels have not arrived); gate not required");
        }

        figures["canary_accuracy"] = ca;
        figures["stable_accuracy"] = sa;
        figures["accuracy_drop"] = sa - ca;
        return sa - ca > o.MaxAccuracyDrop
            ? new GateResult("accuracy", GateOutcome.Fail, F($"canary accuracy {ca:P2} is {(sa - ca) * 100:0.##} points below stable's {sa:P2}; at most {o.MaxAccuracyDrop * 100:0.##} allowed"))
            : new GateResult("accuracy", GateOutcome.Pass, F($"canary accuracy {ca:P2}, stable {sa:P2}"));
    }

    /// <summary>
    /// Input drift is judged against stable: drift above <see cref="RolloutGateOptions.MaxDriftSeverity"/> fails the
    /// canary only when stable's inputs did not drift as far (the world moved for both, not the canary's traffic).
    /// </summary>
    private static GateResult Drift(RolloutGateOptions o, VersionMetricsSnapshot canary, VersionMetricsSnapshot stable, Dictionary<string, double> figures)
    {
        if (canary.Drift is not { } drift)
        {
            return o.RequireDrift
                ? new GateResult("drift", GateOutcome.NoData, "drift not tracked for the canary and RequireDrift is set")
                : new GateResult("drift", GateOutcome.Pass, "drift not tracked for the canary; gate not required");
        }

        figures["canary_drift_severity"] = (int)drift;
        if (stable.Drift is { } stableDrift)
        {
            figures["stable_drift_severity"] = (int)stableDrift;
            if (drift > o.MaxDriftSeverity && stableDrift >= drift)
            {
                return new GateResult("drift", GateOutcome.Pass, F($"canary input drift is {drift}, as stable's ({stableDrift}): the inputs moved for both versions"));
            }
        }

        return drift > o.MaxDriftSeverity
            ? new GateResult("drift", GateOutcome.Fail, F($"canary input drift is {drift}; at most {o.MaxDriftSeverity} allowed (stable: {stable.Drift?.ToString() ?? "not tracked"})"))
            : new GateResult("drift", GateOutcome.Pass, F($"canary input drift is {drift}"));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
