using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using AiOps.Monitoring.Export;
using AiOps.Monitoring.Runners;
using AiOps.Monitoring.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiOps.Monitoring.Tests.Export;

public sealed class PrometheusExportTests
{
    [Fact]
    public async Task ScrapeAsync_InferenceMeterInstruments_ExportedWithPrometheusNames()
    {
        using var h = new MonitoringHarness(o => o.Models.Add("fraud"));
        var exporter = h.Get<AiOpsPrometheusExporter>();
        using var meter = h.Get<IMeterFactory>().Create("AiOps.Inference");
        var duration = meter.CreateHistogram<double>("aiops.inference.duration", "s");
        var requests = meter.CreateCounter<long>("aiops.inference.requests", "{request}");
        var inFlight = meter.CreateUpDownCounter<long>("aiops.inference.in_flight");
        var batch = meter.CreateHistogram<int>("aiops.inference.batch_size", "{row}");

        duration.Record(0.03, new("model", "fraud"), new("version", "2"), new("outcome", "ok"));
        requests.Add(2, new("model", "fraud"), new("version", "2"), new("outcome", "ok"));
        inFlight.Add(3, new("model", "fraud"), new("version", "2"));
        inFlight.Add(-1, new("model", "fraud"), new("version", "2"));
        batch.Record(8, new KeyValuePair<string, object?>("model", "fraud"));

        var text = await exporter.ScrapeAsync();
        Assert.Contains("aiops_inference_duration_seconds_bucket{model=\"fraud\",outcome=\"ok\",version=\"2\",le=\"0.05\"} 1", text);
        Assert.Contains("aiops_inference_requests_total{model=\"fraud\",outcome=\"ok\",version=\"2\"} 2", text);
        Assert.Contains("aiops_inference_in_flight{model=\"fraud\",version=\"2\"} 2", text);
        Assert.Contains("aiops_inference_batch_size_bucket{model=\"fraud\",le=\"8\"} 1", text);
    }

    [Fact]
    public async Task ScrapeAsync_TwoHostsInOneProcess_EachExportsOnlyItsOwnMeters()
    {
        using var a = new MonitoringHarness(o => o.Models.Add("fraud"));
        using var b = new MonitoringHarness(o => o.Models.Add("fraud"));
        using var meterA = a.Get<IMeterFactory>().Create("AiOps.Inference");
        using var meterB = b.Get<IMeterFactory>().Create("AiOps.Inference");
        var exporterA = a.Get<AiOpsPrometheusExporter>();
        var exporterB = b.Get<AiOpsPrometheusExporter>();

        meterA.CreateCounter<long>("aiops.inference.requests").Add(3, new("model", "fraud"), new("version", "7"), new("outcome", "ok"));
        meterB.CreateCounter<long>("aiops.inference.requests").Add(5, new("model", "fraud"), new("version", "7"), new("outcome", "ok"));

        var textA = await exporterA.ScrapeAsync();
        var textB = await exporterB.ScrapeAsync();
        Assert.Contains("aiops_inference_requests_total{model=\"fraud\",outcome=\"ok\",version=\"7\"} 3", textA);
        Assert.Contains("aiops_inference_requests_total{model=\"fraud\",outcome=\"ok\",version=\"7\"} 5", textB);
    }

    [Fact]
    public async Task ScrapeAsync_UnregisteredModelAndFreeFormValues_BecomeOther()
    {
        using var h = new MonitoringHarness(o =>
        {
            o.Models.Add("fraud");
            o.Prometheus.MaxValuesPerLabel = 2;
        });
        var exporter = h.Get<AiOpsPrometheusExporter>();
        using var meter = h.Get<IMeterFactory>().Create("AiOps.Release");
        var routed = meter.CreateCounter<long>("aiops.release.routed");

        routed.Add(1, new("model", "not-registered"), new("version", "1"), new("reason", "stable"));
        routed.Add(1, new("model", "fraud"), new("version", "1"), new("reason", "user 42 said hi"));
        routed.Add(1, new("model", "fraud"), new("version", "1"), new("reason", "canary_weight"));
        routed.Add(1, new("model", "fraud"), new("version", "1"), new("reason", "stable_weight"));
        routed.Add(1, new("model", "fraud"), new("version", "1"), new("reason", "override"));

        var text = await exporter.ScrapeAsync();
        Assert.DoesNotContain("not-registered", text);
        Assert.DoesNotContain("said hi", text);
        Assert.Contains("aiops_release_routed_total{model=\"other\",reason=\"stable\",version=\"other\"} 1", text);
        Assert.Contains("aiops_release_routed_total{model=\"fraud\",reason=\"canary_weight\",version=\"1\"} 1", text);

        // "stable" and "canary_weight" used up the two values allowed; the free-form one and "override" share "other".
        Assert.Contains("aiops_release_routed_total{model=\"fraud\",reason=\"other\",version=\"1\"} 3", text);
    }

    [Fact]
    public async Task ScrapeAsync_FortyFeaturesOfOneModel_EachGetsItsOwnSeries_AndZeroBinsAreExported()
    {
        // Issue 16: the feature label shared the global cap of 32 values, so 8 of 40 features became feature="other".
        using var h = new MonitoringHarness(o => o.Models.Add("fraud"));
        var exporter = h.Get<AiOpsPrometheusExporter>();
        using var meter = h.Get<IMeterFactory>().Create(AiOpsMonitoringDiagnostics.MeterName);
        var psi = meter.CreateGauge<double>("aiops.drift.psi");
        var bins = meter.CreateCounter<long>("aiops.drift.bin.values");
        for (var f = 0; f < 40; f++)
        {
            var feature = new KeyValuePair<string, object?>("feature", $"f{f}");
            psi.Record(f / 100.0, new("model", "fraud"), new("version", "1"), feature);
            for (var b = 0; b < 10; b++)
            {
                bins.Add(b == 3 ? 0 : 5, new("model", "fraud"), new("version", "1"), feature, new("bin", b.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        var text = await exporter.ScrapeAsync();
        Assert.DoesNotContain("feature=\"other\"", text);
        Assert.Equal(40, text.Split('\n').Count(l => l.StartsWith("aiops_drift_psi{", StringComparison.Ordinal)));
        Assert.Contains("aiops_drift_psi{feature=\"f39\",model=\"fraud\",version=\"1\"} 0.39", text);
        Assert.Contains("aiops_drift_bin_values_total{bin=\"3\",feature=\"f39\",model=\"fraud\",version=\"1\"} 0", text);
        Assert.Equal(400, text.Split('\n').Count(l => l.StartsWith("aiops_drift_bin_values_total{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ScrapeAsync_FeatureBudget_IsPerModel_AndConfigurable()
    {
        using var h = new MonitoringHarness(o =>
        {
            o.Models.Add("fraud");
            o.Models.Add("churn");
            o.Prometheus.MaxFeaturesPerModel = 2;
        });
        var exporter = h.Get<AiOpsPrometheusExporter>();
        using var meter = h.Get<IMeterFactory>().Create(AiOpsMonitoringDiagnostics.MeterName);
        var psi = meter.CreateGauge<double>("aiops.drift.psi");
        foreach (var model in new[] { "fraud", "churn" })
        {
            foreach (var feature in new[] { "a", "b", "c" })
            {
                psi.Record(0.5, new("model", model), new("version", "1"), new("feature", feature));
            }
        }

        var text = await exporter.ScrapeAsync();
        Assert.Contains("aiops_drift_psi{feature=\"b\",model=\"churn\",version=\"1\"} 0.5", text);
        Assert.Contains("aiops_drift_psi{feature=\"b\",model=\"fraud\",version=\"1\"} 0.5", text);
        Assert.Contains("aiops_drift_psi{feature=\"other\",model=\"fraud\",version=\"1\"} 0.5", text);
        Assert.DoesNotContain("feature=\"c\"", text);
    }

    [Fact]
    public async Task ScrapeAsync_MeterNotExported_IsIgnored()
    {
        using var h = new MonitoringHarness();
        var exporter = h.Get<AiOpsPrometheusExporter>();
        using var meter = h.Get<IMeterFactory>().Create("Somebody.Else");
        meter.CreateCounter<long>("their.counter").Add(1);

        Assert.DoesNotContain("their_counter", await exporter.ScrapeAsync());
    }

    [Theory]
    [InlineData("aiops.inference.duration", "s", "Histogram", "aiops_inference_duration_seconds")]
    [InlineData("aiops.inference.requests", "{request}", "Counter", "aiops_inference_requests_total")]
    [InlineData("aiops.checkpoint.save_duration", "ms", "Histogram", "aiops_checkpoint_save_duration_seconds")]
    [InlineData("aiops.gpu.memory.used", "By", "Gauge", "aiops_gpu_memory_used_bytes")]
    [InlineData("aiops.gpu.utilization", "1", "Gauge", "aiops_gpu_utilization_ratio")]
    [InlineData("aiops.data.rows_total", null, "Counter", "aiops_data_rows_total")]
    [InlineData("aiops.checkpoint.bytes_written", "By", "Counter", "aiops_checkpoint_bytes_written_total")]
    [InlineData("aiops.backup.bytes", "By", "Counter", "aiops_backup_bytes_total")]
    [InlineData("aiops.release.canary_weight", "%", "Gauge", "aiops_release_canary_weight_percent")]
    [InlineData("dotnet.process.cpu.time", "s", "ObservableCounter", "dotnet_process_cpu_time_seconds_total")]
    [InlineData("http.server.request.duration", "s", "Histogram", "http_server_request_duration_seconds")]
    public void PrometheusName_InstrumentNameAndUnit_FollowsConventions(string name, string? unit, string kind, string expected)
    {
        var exportKind = Enum.Parse<MeterPrometheusBridge.ExportKind>(kind);

        Assert.Equal(expected, MeterPrometheusBridge.PrometheusName(name, unit, exportKind, out _));
    }

    [Fact]
    public async Task MetricServer_PortConfigured_ServesScrapeOverHttp()
    {
        var port = FreePort();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAiOpsMonitoring(o =>
        {
            o.Prometheus.MetricServerPort = port;
            o.Prometheus.MetricServerHostname = "127.0.0.1";
            o.Gpu.Enabled = false;
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var runner = new FakeRunner(new ModelKey("churn", "3"), new Microsoft.Extensions.Time.Testing.FakeTimeProvider()).WithMonitoring(host.Services);
            await runner.RunAsync(FakeRunner.Request());
            using var http = new HttpClient();

            var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));

            Assert.Contains("aiops_model_requests_total{model=\"churn\",version=\"3\",outcome=\"ok\"} 1", text);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task MapAiOpsMetrics_AspNetHost_ServesScrapeWithPrometheusContentType()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        await using var app = builder.Build();
        app.MapAiOpsMetrics();
        await app.StartAsync();
        try
        {
            var runner = new FakeRunner(new ModelKey("fraud", "1"), new Microsoft.Extensions.Time.Testing.FakeTimeProvider())
            {
                Failure = new ModelNotReadyException("warming up"),
            }.WithMonitoring(app.Services);
            await Assert.ThrowsAsync<ModelNotReadyException>(() => runner.RunAsync(FakeRunner.Request()).AsTask());
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

            using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
            var text = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("aiops_model_requests_total{model=\"fraud\",version=\"1\",outcome=\"unavailable\"} 1", text);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Theory]
    [InlineData("ms", 250, "0.25")]
    [InlineData("us", 250, "0.00025")]
    [InlineData("min", 2, "120")]
    public void PrometheusName_TimeUnits_BecomeSecondsWithTheirScale(string unit, double value, string seconds)
    {
        Assert.Equal("x_duration_seconds", MeterPrometheusBridge.PrometheusName("x.duration", unit, MeterPrometheusBridge.ExportKind.Gauge, out var scale));
        Assert.Equal(seconds, (value * scale).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ScrapeAsync_RunnerLatency_HasBucketsFrom100Microseconds()
    {
        using var h = new MonitoringHarness();
        var runner = new FakeRunner(new ModelKey("fraud", "1"), h.Time).WithMonitoring(h.Provider);
        await runner.RunAsync(FakeRunner.Request());

        var text = await h.Get<AiOpsPrometheusExporter>().ScrapeAsync();

        Assert.Contains("aiops_model_request_duration_seconds_bucket{model=\"fraud\",version=\"1\",outcome=\"ok\",le=\"0.0001\"}", text);
        Assert.Contains("le=\"0.00025\"", text);
    }

    [Fact]
    public async Task ScrapeAsync_RuntimeMetrics_ExportedByDefault_AndCanBeTurnedOff()
    {
        using var on = new MonitoringHarness();
        using var off = new MonitoringHarness(o => o.Prometheus.ExportRuntimeMetrics = false);
        GC.Collect();

        var text = await on.Get<AiOpsPrometheusExporter>().ScrapeAsync();
        var offText = await off.Get<AiOpsPrometheusExporter>().ScrapeAsync();

        Assert.Contains("dotnet_process_cpu_time_seconds_total{cpu_mode=\"user\"}", text);
        Assert.Contains("dotnet_process_memory_working_set_bytes ", text);
        Assert.Contains("dotnet_gc_collections_total{gc_heap_generation=\"gen2\"}", text);
        Assert.Contains("dotnet_thread_pool_thread_count_total ", text);
        Assert.Contains("dotnet_thread_pool_queue_length_total ", text);
        Assert.DoesNotContain("dotnet_", offText);
    }

    [Fact]
    public async Task MapAiOpsMetrics_HttpServerDuration_ExportedWithRouteAndSubMillisecondBuckets()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        await using var app = builder.Build();
        app.MapAiOpsMetrics();
        app.MapGet("/ping", () => "pong");
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            using (var missing = await http.GetAsync(new Uri("/nowhere", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            }

            Assert.Equal("pong", await http.GetStringAsync(new Uri("/ping", UriKind.Relative)));

            // The server records a request's duration once it has ended, which may be just after the client got the answer.
            var text = string.Empty;
            for (var attempt = 0; attempt < 200 && !text.Contains("http_route=\"/ping\"", StringComparison.Ordinal); attempt++)
            {
                await Task.Delay(attempt == 0 ? 0 : 50);
                text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            }

            // The first request had no route: the labels are fixed up front, so the routed one still has its route.
            Assert.Contains("http_server_request_duration_seconds_bucket{error_type=\"\",http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/ping\",network_protocol_version=\"1.1\",url_scheme=\"http\",le=\"0.0001\"}", text);
            Assert.Contains("http_response_status_code=\"404\"", text);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task MapAiOpsMetrics_OpenMetricsAccepted_ServesExemplarsWithTheCallsTraceId()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAiOpsMonitoring(o => o.Gpu.Enabled = false);
        await using var app = builder.Build();
        app.MapAiOpsMetrics();
        await app.StartAsync();
        try
        {
            var runner = new FakeRunner(new ModelKey("fraud", "1"), new Microsoft.Extensions.Time.Testing.FakeTimeProvider()).WithMonitoring(app.Services);
            string traceId;
            using (var activity = new System.Diagnostics.Activity("exemplar-test").SetIdFormat(System.Diagnostics.ActivityIdFormat.W3C).Start())
            {
                traceId = activity.TraceId.ToHexString();
                await runner.RunAsync(FakeRunner.Request());
            }

            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
            request.Headers.Accept.ParseAdd("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var plain = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

            Assert.Equal("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains($"trace_id=\"{traceId}\"", text);
            Assert.EndsWith("# EOF\n", text);
            Assert.DoesNotContain("trace_id", plain);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
