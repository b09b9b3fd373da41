using AiOps.Data.Gates;
using AiOps.Data.Quality;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AiOps.Data.Tests;

public sealed class ServiceCollectionTests
{
    [Fact]
    public async Task AddAiOpsData_ConfiguredRuleSetWithDuplicateNamesOrBadWhere_FailsHostStartNamingTheKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Data:RuleSets:dup:Rules:0:Type"] = "outliers",
            ["AiOps:Data:RuleSets:dup:Rules:0:Column"] = "a",
            ["AiOps:Data:RuleSets:dup:Rules:1:Type"] = "outliers",
            ["AiOps:Data:RuleSets:dup:Rules:1:Column"] = "a",
            ["AiOps:Data:RuleSets:dup:Rules:1:Method"] = "Iqr",
            ["AiOps:Data:RuleSets:cond:Rules:0:Type"] = "not_null",
            ["AiOps:Data:RuleSets:cond:Rules:0:Column"] = "b",
            ["AiOps:Data:RuleSets:cond:Rules:0:Where:Column"] = "a",
            ["AiOps:Data:RuleSets:ok:Rules:0:Type"] = "not_null",
            ["AiOps:Data:RuleSets:ok:Rules:0:Column"] = "b",
            ["AiOps:Data:RuleSets:ok:Rules:0:Where:Column"] = "a",
            ["AiOps:Data:RuleSets:ok:Rules:0:Where:In:0"] = "1",
        });
        builder.Services.AddAiOpsData(o => o.DatasetStorePath = Path.Combine(Path.GetTempPath(), "aiops-data-tests", Guid.NewGuid().ToString("N")));
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(e.Failures, f => f.StartsWith("AiOps:Data:RuleSets:dup: ", StringComparison.Ordinal) && f.Contains("'a.outliers'", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("AiOps:Data:RuleSets:cond:Rules:0:Where", StringComparison.Ordinal) && f.Contains("no clause", StringComparison.Ordinal));
        Assert.DoesNotContain(e.Failures, f => f.Contains("RuleSets:ok", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddAiOpsData_ConfiguredRuleSetWithUnknownKeys_FailsHostStartNamingTheKeyAndTheAllowedOnes()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Data:RuleSets:training:PasRate"] = "0.95",
            ["AiOps:Data:RuleSets:training:Rules:0:Type"] = "between",
            ["AiOps:Data:RuleSets:training:Rules:0:Column"] = "age",
            ["AiOps:Data:RuleSets:training:Rules:0:Min"] = "0",
            ["AiOps:Data:RuleSets:training:Rules:0:Mostley"] = "0.99",
            ["AiOps:Data:RuleSets:training:Rules:1:Type"] = "not_null",
            ["AiOps:Data:RuleSets:training:Rules:1:Column"] = "b",
            ["AiOps:Data:RuleSets:training:Rules:1:Where:Column"] = "a",
            ["AiOps:Data:RuleSets:training:Rules:1:Where:Inn:0"] = "1",
            ["AiOps:Data:RuleSet:other:Rules:0:Type"] = "not_null", // "RuleSet" for "RuleSets": the whole set would vanish
        });
        builder.Services.AddAiOpsData(o => o.DatasetStorePath = Path.Combine(Path.GetTempPath(), "aiops-data-tests", Guid.NewGuid().ToString("N")));
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(e.Failures, f => f.StartsWith("AiOps:Data:RuleSets:training:Rules:0:Mostley is not a setting of a rule; expected one of: ", StringComparison.Ordinal)
            && f.Contains("Mostly", StringComparison.Ordinal) && f.Contains("Column", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("AiOps:Data:RuleSets:training:PasRate is not a setting of a rule set; expected one of: ", StringComparison.Ordinal)
            && f.Contains("PassRate", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("AiOps:Data:RuleSets:training:Rules:1:Where:Inn is not a clause of a where condition; expected one of: ", StringComparison.Ordinal)
            && f.Contains("NotIn", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("AiOps:Data:RuleSet is not a setting of AiOps.Data; expected one of: ", StringComparison.Ordinal)
            && f.Contains("RuleSets", StringComparison.Ordinal));
        Assert.Equal(4, e.Failures.Count(f => f.Contains(" is not a ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AddAiOpsData_ConfiguredRuleSetWithKnownKeysInAnyCase_Starts_AndTheRuleSetValidates()
    {
        var root = Path.Combine(Path.GetTempPath(), "aiops-data-tests", Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Data:FailingRowSampleSize"] = "5",
            ["AiOps:Data:MaxDegreeOfParallelism"] = "2",
            ["AiOps:Data:RuleSets:training:passRate"] = "0.9",
            ["AiOps:Data:RuleSets:training:Rules:0:type"] = "between",
            ["AiOps:Data:RuleSets:training:Rules:0:column"] = "age",
            ["AiOps:Data:RuleSets:training:Rules:0:MAX"] = "120",
            ["AiOps:Data:RuleSets:training:Rules:0:Where:Column"] = "country",
            ["AiOps:Data:RuleSets:training:Rules:0:Where:In:0"] = "CN",
            ["AiOps:Data:RuleSets:training:Rules:1:Type"] = "in_set",
            ["AiOps:Data:RuleSets:training:Rules:1:Column"] = "country",
            ["AiOps:Data:RuleSets:training:Rules:1:Values:0"] = "CN",
            ["AiOps:Data:RuleSets:training:Rules:1:Values:1"] = "US",
        });
        builder.Services.AddAiOpsData(o => o.DatasetStorePath = root);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            Directory.CreateDirectory(root);
            var csv = Path.Combine(root, "t.csv");
            await File.WriteAllTextAsync(csv, "age,country\n30,CN\n200,US\n40,DE\n");
            var report = await host.Services.GetRequiredService<IDataValidator>().ValidateAsync(DataSource.FromCsv(csv), "training");
            Assert.Equal(0, report.Rules.Single(r => r.Name == "age.between").Unexpected); // 200 is in the US: not evaluated
            Assert.Equal(1, report.Rules.Single(r => r.Name == "country.in_set").Unexpected);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddAiOpsData_BadOptions_FailHostStartNamingSettings()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAiOpsData(o =>
        {
            o.FailingRowSampleSize = -1;
            o.MaxDegreeOfParallelism = 0;
            o.PiiHashKey = "short";
            o.DatasetStorePath = " ";
            o.RuleSets["bad"] = new RuleSetDefinition { Name = "bad", Rules = { new RuleDefinition { Type = "nope", Column = "a" } } };
        });
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("AiOps:Data:FailingRowSampleSize is -1; expected 0 to 10000.", e.Failures);
        Assert.Contains("AiOps:Data:MaxDegreeOfParallelism is 0; expected 1 to 64.", e.Failures);
        Assert.Contains("AiOps:Data:PiiHashKey is 5 characters long; expected at least 16 (or leave it unset).", e.Failures);
        Assert.Contains("AiOps:Data:DatasetStorePath is empty; expected a directory path.", e.Failures);
        Assert.Contains(
            "AiOps:Data:RuleSets:bad:Rules:0:Type is 'nope'; expected one of exists, type, not_null, between, in_set, not_in_set, regex, length, unique, "
            + "unique_approx, date_format, row_count, mean, min, max, stddev, completeness, outliers.",
            e.Failures);
        Assert.DoesNotContain("short", e.Message, StringComparison.Ordinal); // the hash key is a secret
    }

    [Fact]
    public void AddAiOpsData_BadSettingsFromConfiguration_FailNamingTheKeyAndValue()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiOps:Data:FailingRowSampleSize"] = "20000",
            ["AiOps:Data:RuleSets:training:Rules:0:Type"] = "between",
            ["AiOps:Data:RuleSets:training:Rules:0:Column"] = "age",
            ["AiOps:Data:RuleSets:training:Rules:0:Mostly"] = "1.5",
            ["AiOps:Data:RuleSets:training:Rules:1:Type"] = "not_null",
        }).Build();
        var services = new ServiceCollection();
        services.AddAiOpsData();
        services.Configure<AiOpsDataOptions>(config.GetSection(AiOpsDataOptions.SectionName));
        using var sp = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<AiOpsDataOptions>>().Value);

        Assert.Contains("AiOps:Data:FailingRowSampleSize is 20000; expected 0 to 10000.", e.Failures);
        Assert.Contains("AiOps:Data:RuleSets:training:Rules:0:Mostly is 1.5; expected a fraction between 0 and 1.", e.Failures);
        Assert.Contains("AiOps:Data:RuleSets:training:Rules:1:Column is empty; expected the column the 'not_null' rule checks.", e.Failures);
    }

    [Fact]
    public void AddAiOpsData_CalledTwice_RegistersOnceAndAppliesBoth()
    {
        var services = new ServiceCollection();
        var b = services.AddAiOpsData(o => o.FailingRowSampleSize = 5);
        services.AddAiOpsData(o => o.MaxHistoryRuns = 7);
        Assert.Same(services, b.Services);
        Assert.Single(services, d => d.ServiceType == typeof(IDataGate));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<AiOpsDataOptions>));
        using var sp = services.BuildServiceProvider();
        var o = sp.GetRequiredService<IOptions<AiOpsDataOptions>>().Value;
        Assert.Equal((5, 7), (o.FailingRowSampleSize, o.MaxHistoryRuns));
        Assert.NotNull(sp.GetRequiredService<IDataGate>()); // resolves without IMeterFactory registered
    }

    [Fact]
    public async Task RuleSets_FromConfiguration_UsableByName()
    {
        using var h = new DataHarness();
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RuleSets:people:Name"] = "people",
            ["RuleSets:people:Rules:0:Type"] = "between",
            ["RuleSets:people:Rules:0:Column"] = "age",
            ["RuleSets:people:Rules:0:Min"] = "0",
            ["RuleSets:people:Rules:0:Max"] = "120",
            ["RuleSets:people:Rules:0:Mostly"] = "1",
            ["RuleSets:people:Rules:1:Type"] = "in_set",
            ["RuleSets:people:Rules:1:Column"] = "sex",
            ["RuleSets:people:Rules:1:Values:0"] = "F",
            ["RuleSets:people:Rules:1:Values:1"] = "M",
        }).Build();
        var services = new ServiceCollection();
        services.AddAiOpsData(o => config.Bind(o));
        using var sp = services.BuildServiceProvider();
        var report = await sp.GetRequiredService<IDataValidator>().ValidateAsync(
            DataSource.FromRecords("p", ["age", "sex"], [[30, "F"], [130, "M"], [20, "?"]]), "people");
        Assert.False(report.Rules.Single(r => r.Name == "age.between").Passed);
        Assert.Equal(1, report.Rules.Single(r => r.Name == "sex.in_set").Unexpected);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => sp.GetRequiredService<IDataValidator>().ValidateAsync(DataSource.FromRecords("p", ["a"], []), "missing"));
    }
}
