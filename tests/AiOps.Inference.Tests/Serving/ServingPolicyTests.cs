using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiOps.Inference.Serving;
using AiOps.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AiOps.Inference.Tests.Serving;

/// <summary>The version policy, the end-to-end latency histogram, option validation and the linear duplicate check.</summary>
public sealed class ServingPolicyTests
{
    [Fact]
    public async Task Unversioned_NoRolloutState_MetadataReadyAndInferAllUseTheDefaultVersion()
    {
        await using var host = await ServingHost.StartAsync();

        var metadata = await host.Client.GetFromJsonAsync<JsonElement>("/v2/models/clf");
        var ready = await host.Client.GetFromJsonAsync<JsonElement>("/v2/models/clf/ready");
        using var infer = await host.PostAsync("/v2/models/clf/infer", ServingHost.ClassifierBody(Kit.Features(1)));
        var answer = await infer.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(["1", "2"], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("1", metadata.GetProperty("parameters").GetProperty("served_version").GetString());
        Assert.Equal("1", ready.GetProperty("version").GetString());
        Assert.Equal("1", answer.GetProperty("model_version").GetString());
        Assert.Equal("1", infer.Headers.GetValues("x-aiops-version").Single());
    }

    [Fact]
    public async Task Unversioned_RolloutStateSaysStableIsTwo_MetadataAndInferBothDescribeTwo()
    {
        // A rollout promoted version 2 (the newest is not what decides; the stable version is).
        var store = new OneStateStore(new RolloutState("clf", "2", null, RolloutPhase.Promoted, -1, 0, DateTimeOffset.UnixEpoch));
        await using var host = await ServingHost.StartAsync(services: s => s.AddSingleton<IRolloutStateStore>(store));

        var metadata = await host.Client.GetFromJsonAsync<JsonElement>("/v2/models/clf");
        using var infer = await host.PostAsync("/v2/models/clf/infer", ServingHost.ClassifierBody(Kit.Features(2)));
        var answer = await infer.Content.ReadFromJsonAsync<JsonElement>();
        using var pinned = await host.PostAsync("/v2/models/clf/infer", ServingHost.ClassifierBody(Kit.Features(2)), new Dictionary<string, string> { ["x-aiops-version"] = "1" });

        Assert.Equal("2", metadata.GetProperty("parameters").GetProperty("served_version").GetString());
        Assert.Equal("2", answer.GetProperty("model_version").GetString());
        Assert.Equal("1", pinned.Headers.GetValues("x-aiops-version").Single());
    }

    [Fact]
    public async Task Unversioned_KeyedModelClient_InferGoesThroughIt()
    {
        var client = new RecordingClient();
        await using var host = await ServingHost.StartAsync(services: s => s.AddKeyedSingleton<IModelClient>("clf", (sp, _) =>
        {
            client.Catalog = sp.GetRequiredService<IModelRunnerCatalog>();
            return client;
        }));

        using var infer = await host.PostAsync("/v2/models/clf/infer", ServingHost.ClassifierBody(Kit.Features(1), extra: ",\"id\":\"abc\""), new Dictionary<string, string> { ["x-aiops-routing-key"] = "user-7" });

        Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        var seen = Assert.Single(client.Requests);
        Assert.Equal("user-7", seen.RoutingKey);
        Assert.Equal("abc", seen.RequestId);
        Assert.Null(seen.PinnedVersion);
    }

    [Fact]
    public async Task Infer_UnsignedDatatypes_RoundTripTheFullRangeAndRefuseOutOfRange()
    {
        await using var host = await ServingHost.StartAsync();

        using var ok = await host.PostAsync("/v2/models/uints/infer", """
            {"inputs":[
              {"name":"u16","datatype":"UINT16","shape":[1,2],"data":[0,65535]},
              {"name":"u32","datatype":"UINT32","shape":[1,2],"data":[1,4294967295]},
              {"name":"u64","datatype":"UINT64","shape":[1,2],"data":[2,18446744073709551615]}]}
            """);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var doc = JsonDocument.Parse(await ok.Content.ReadAsStringAsync());
        var outputs = doc.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal("UINT16", outputs["o16"].GetProperty("datatype").GetString());
        Assert.Equal([0, 65535], outputs["o16"].GetProperty("data").EnumerateArray().Select(e => e.GetUInt16()).Select(v => (int)v));
        Assert.Equal("UINT32", outputs["o32"].GetProperty("datatype").GetString());
        Assert.Equal([1u, uint.MaxValue], outputs["o32"].GetProperty("data").EnumerateArray().Select(e => e.GetUInt32()));
        Assert.Equal("UINT64", outputs["o64"].GetProperty("datatype").GetString());
        Assert.Equal([2ul, ulong.MaxValue], outputs["o64"].GetProperty("data").EnumerateArray().Select(e => e.GetUInt64()));

        // 65536 does not fit UINT16, -1 no unsigned type: a 400 with a JSON error, not a wrapped value.
        using var over = await host.PostAsync("/v2/models/uints/infer", """
            {"inputs":[
              {"name":"u16","datatype":"UINT16","shape":[1,2],"data":[0,65536]},
              {"name":"u32","datatype":"UINT32","shape":[1,2],"data":[1,2]},
              {"name":"u64","datatype":"UINT64","shape":[1,2],"data":[2,-1]}]}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        using var error = JsonDocument.Parse(await over.Content.ReadAsStringAsync());
        Assert.Contains("u16", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestDuration_CoversTheRunAndTagsModelProtocolOutcome()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var host = await ServingHost.StartAsync(services: s =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.TryAddEnumerable(ServiceDescriptor.Singleton<IModelRunnerDecorator>(new SlowDecorator(time, TimeSpan.FromSeconds(2))));
        });

        // The host's own meter instance: other tests' hosts record on meters of the same name concurrently.
        var meter = host.App.Services.GetRequiredService<IMeterFactory>().Create(AiOpsInferenceDiagnostics.MeterName);
        using var collector = new MetricCollector<double>(meter, "aiops.inference.request.duration");

        using var ok = await host.PostAsync("/v2/models/clf/infer", ServingHost.ClassifierBody(Kit.Features(1)));
        using var bad = await host.PostAsync("/v2/models/clf/infer", "{\"inputs\":[]}");
        using var unknown = await host.PostAsync("/v2/models/nope/infer", "{}");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // The endpoint records after the answer is written, so the client may see the last answer first: wait for the
        // three (the timeout only guards against a hang; no assertion on time).
        await collector.WaitForMeasurementsAsync(3, TimeSpan.FromMinutes(1));
        var measurements = collector.GetMeasurementSnapshot();
        Assert.Equal(3, measurements.Count);
        var run = Assert.Single(measurements, m => Equals(m.Tags["outcome"], "ok"));
        Assert.Equal(2.0, run.Value, 6); // fake time moved only inside the run: the run is inside the measured span
        Assert.Equal("clf", run.Tags["model"]);
        Assert.Equal("rest", run.Tags["protocol"]);
        var rejected = Assert.Single(measurements, m => Equals(m.Tags["outcome"], "bad_input"));
        Assert.Equal("clf", rejected.Tags["model"]);
        var notFound = Assert.Single(measurements, m => Equals(m.Tags["outcome"], "not_found"));
        Assert.Equal("unknown", notFound.Tags["model"]); // an unknown name never becomes a label value

        var instrument = (Histogram<double>)collector.Instrument!;
        Assert.Equal("s", instrument.Unit);
        var buckets = instrument.Advice!.HistogramBucketBoundaries!;
        Assert.Equal(0.0001, buckets[0]);
        Assert.Equal(10, buckets[^1]);
    }

    [Theory]
    [InlineData("MaxRequestBodyBytes", "10", "AiOps:Serving:MaxRequestBodyBytes is 10; expected >= 1024.")]
    [InlineData("MaxInputs", "0", "AiOps:Serving:MaxInputs is 0; expected >= 1.")]
    [InlineData("MaxNestingDepth", "64", "AiOps:Serving:MaxNestingDepth is 64; expected 1 to 32.")]
    [InlineData("MaxElements", "0", "AiOps:Serving:MaxElements is 0; expected 1 to 2147483647.")]
    public void Options_OutOfRangeInConfiguration_StartUpFailsNamingTheKey(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"AiOps:Serving:{key}"] = value })
            .Build();
        using var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddOpenInferenceProtocol()
            .BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<OpenInferenceProtocolOptions>>().Value);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_CodeAfterConfiguration_CodeWins()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AiOps:Serving:MaxInputs"] = "5", ["AiOps:Serving:ServerName"] = "from-config" })
            .Build();
        using var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddOpenInferenceProtocol(o => o.MaxInputs = 7)
            .AddOpenInferenceProtocol()
            .BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<OpenInferenceProtocolOptions>>().Value;

        Assert.Equal(7, options.MaxInputs);
        Assert.Equal("from-config", options.ServerName);
    }

    [Theory]
    [InlineData(5_000)]
    [InlineData(40_000)]
    public void ModelRequest_ManyDistinctInputsThenADuplicate_ThrowsNamingIt(int count)
    {
        var inputs = new List<ModelTensor>(count + 1);
        for (var i = 0; i < count; i++)
        {
            inputs.Add(ModelTensor.Create<float>($"x{i}", new float[1], 1));
        }

        var distinct = new ModelRequest(inputs.ToArray());
        inputs.Add(ModelTensor.Create<float>("x123", new float[1], 1));

        var ex = Assert.Throws<ArgumentException>(() => new ModelRequest(inputs));

        Assert.Equal(count, distinct.Inputs.Count);
        Assert.Contains("'x123' is given twice", ex.Message, StringComparison.Ordinal);
    }

    private sealed class OneStateStore(RolloutState state) : IRolloutStateStore
    {
        public event EventHandler<ModelId>? Changed
        {
            add { }
            remove { }
        }

        public ValueTask<RolloutState?> GetAsync(ModelId model, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(model == state.Model ? state : null);

        public ValueTask<bool> TrySaveAsync(RolloutState state, long expectedRevision, CancellationToken cancellationToken = default) => ValueTask.FromResult(false);

        public ValueTask<bool> TryAcquireLeaseAsync(ModelId model, string owner, TimeSpan duration, CancellationToken cancellationToken = default) => ValueTask.FromResult(false);
    }

    private sealed class RecordingClient : IModelClient
    {
        public IModelRunnerCatalog Catalog { get; set; } = null!;

        public List<ModelRequest> Requests { get; } = [];

        public ModelId Model => "clf";

        public async ValueTask<ModelResponse> InferAsync(ModelRequest request, CancellationToken cancellationToken = default)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }

            Assert.True(Catalog.TryGetRunner(new ModelKey("clf", "1"), out var runner));
            return await runner.RunAsync(request, cancellationToken);
        }
    }

    /// <summary>Advances fake time during every run, so the run's share of a measured duration is known exactly.</summary>
    private sealed class SlowDecorator(FakeTimeProvider time, TimeSpan delay) : IModelRunnerDecorator
    {
        public int Order => ModelRunnerDecoratorOrder.BeforeMonitoring;

        public IModelRunner Decorate(IModelRunner runner) => new Slow(runner, time, delay);

        private sealed class Slow(IModelRunner inner, FakeTimeProvider time, TimeSpan delay) : DelegatingModelRunner(inner)
        {
            public override ValueTask<ModelResponse> RunAsync(ModelRequest request, CancellationToken cancellationToken = default)
            {
                time.Advance(delay);
                return Inner.RunAsync(request, cancellationToken);
            }
        }
    }
}
