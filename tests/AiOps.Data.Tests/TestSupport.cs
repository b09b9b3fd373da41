using System.Text;
using AiOps.Data.Internal;
using AiOps.Data.Pii;
using AiOps.Data.Quality;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Data.Tests;

/// <summary>A temp folder and a service provider with AiOps.Data rooted in it.</summary>
internal sealed class DataHarness : IDisposable
{
    public DataHarness(Action<AiOpsDataOptions>? configure = null, Action<IServiceCollection>? before = null, Action<AiOpsDataBuilder>? data = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "aiops-data-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSingleton<TimeProvider>(Time);
        before?.Invoke(services);
        var builder = services.AddAiOpsData(o =>
        {
            o.DatasetStorePath = Path.Combine(Root, "store");
            o.AdmittedDirectory = Path.Combine(Root, "admitted");
            o.QuarantineDirectory = Path.Combine(Root, "quarantine");
            o.MetricsHistoryPath = Path.Combine(Root, "metrics");
            o.PiiHashKey = "test-key-0123456789abcdef";
            configure?.Invoke(o);
        });
        data?.Invoke(builder);
        Services = services.BuildServiceProvider();
    }

    public string Root { get; }

    public FakeTimeProvider Time { get; }

    public ServiceProvider Services { get; }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public string WriteFile(string name, string content) => WriteBytes(name, Encoding.UTF8.GetBytes(content));

    public string WriteBytes(string name, byte[] content)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        Services.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class Validate
{
    public static readonly PiiMasker Masker = new("unit-test-key-0123456789"u8.ToArray());

    /// <summary>Runs the engine directly (no DI) on in-memory records of one column.</summary>
    public static ValidationReport Column(string column, IEnumerable<string?> values, Action<ColumnRules> rules) =>
        Run(DataSource.FromRecords("t", [column], values.Select(v => (IReadOnlyList<object?>)[v])), RuleSet.Create("t").Column(column, rules).Build());

    public static ValidationReport Run(DataSource source, RuleSet rules) =>
        new ValidationEngine(Masker, 20, TimeProvider.System).Run(source, rules, null, CancellationToken.None);

    public static RuleResult Rule(this ValidationReport report, string name) => report.Rules.Single(r => r.Name == name);
}
