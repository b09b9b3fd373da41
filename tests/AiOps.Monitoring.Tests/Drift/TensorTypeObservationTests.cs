using AiOps.Drift;
using AiOps.Monitoring.Drift;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Monitoring.Tests.Drift;

/// <summary>
/// Features arrive in the element types real exports use: strings for categorical inputs (a LabelEncoder's input), fp16 and
/// bf16 for a half-precision model. The drift monitor counts them like their float / code counterparts.
/// </summary>
public sealed class TensorTypeObservationTests
{
    private static readonly ModelKey s_key = new("churn", "1");

    private static async Task<DriftResult> ObserveOneWindowAsync(FeatureProfile feature, ModelTensor tensor)
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));
        services.AddAiOpsDrift().AddProfile(s_key, new ReferenceProfile([feature]));
        await using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IDriftMonitor>();
        monitor.Observe(s_key, new ModelRequest(tensor));
        return Assert.Single(await monitor.CloseWindowsAsync());
    }

    [Fact]
    public async Task StringTensor_CategoricalFeature_CountedByValue_ShiftAndUnseenDetected()
    {
        var reference = FeatureProfile.CreateCategorical("plan", ["basic", "pro"], [5_000, 5_000]) with { Input = "plan" };
        // 2,000 rows: 70 % basic, 20 % pro, 10 % a plan the reference never saw; one null (missing).
        var values = Enumerable.Range(0, 2_000).Select(i => (i % 10) switch { < 7 => "basic", < 9 => "pro", _ => "enterprise" }).ToArray();
        values[5] = null!;

        var result = await ObserveOneWindowAsync(reference, ModelTensor.Create("plan", values.AsMemory(), values.Length, 1));

        var chi = result.Find("plan", DriftStatisticNames.ChiSquare)!;
        Assert.True(chi.Severity >= DriftSeverity.Moderate, $"chi_square {chi.Value}: {chi.Severity}");
        Assert.Equal(1_999, chi.SampleCount); // the null is missing, not a category
    }

    [Fact]
    public async Task StringTensor_SameMixAsReference_IsStable()
    {
        var reference = FeatureProfile.CreateCategorical("plan", ["basic", "pro"], [5_000, 5_000]) with { Input = "plan" };
        var values = Enumerable.Range(0, 2_000).Select(i => i % 2 == 0 ? "basic" : "pro").ToArray();

        var result = await ObserveOneWindowAsync(reference, ModelTensor.Create("plan", values.AsMemory(), values.Length, 1));

        Assert.Equal(DriftSeverity.Stable, result.Find("plan", DriftStatisticNames.ChiSquare)!.Severity);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HalfPrecisionTensor_NumericFeature_SameVerdictAsTheFloatTensor(bool bfloat)
    {
        var random = new Random(7);
        var reference = ReferenceProfileBuilder.Numeric("amount", Enumerable.Range(0, 10_000).Select(_ => random.NextDouble() * 10).ToArray()) with { Input = "amount" };
        // The window is shifted up by 3 (a severe PSI); the same values as float and as fp16/bf16 give the same bins
        // unless rounding moves a value across an edge, so the verdicts match and the PSIs are close.
        var shifted = Enumerable.Range(0, 2_000).Select(_ => (float)((random.NextDouble() * 10) + 3)).ToArray();
        ModelTensor half = bfloat
            ? ModelTensor.Create("amount", shifted.Select(v => (BFloat16)v).ToArray().AsMemory(), shifted.Length, 1)
            : ModelTensor.Create("amount", shifted.Select(v => (Half)v).ToArray().AsMemory(), shifted.Length, 1);

        var fromFloat = await ObserveOneWindowAsync(reference, ModelTensor.Create("amount", shifted.AsMemory(), shifted.Length, 1));
        var fromHalf = await ObserveOneWindowAsync(reference, half);

        var psiFloat = fromFloat.Find("amount", DriftStatisticNames.Psi)!;
        var psiHalf = fromHalf.Find("amount", DriftStatisticNames.Psi)!;
        Assert.Equal(DriftSeverity.Severe, psiHalf.Severity);
        Assert.Equal(psiFloat.Severity, psiHalf.Severity);
        Assert.Equal(psiFloat.Value, psiHalf.Value, 0.05);
    }
}
