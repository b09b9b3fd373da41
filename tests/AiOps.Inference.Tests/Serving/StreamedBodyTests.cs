using System.Net;
using System.Text;

namespace AiOps.Inference.Tests.Serving;

/// <summary>
/// The infer endpoint reads the body from the request pipe: whole in one read (parsed in place) or arriving in pieces
/// (copied as it comes); both give the same answer, and the size limit holds for a body that arrives in pieces.
/// </summary>
public sealed class StreamedBodyTests(ServingHostFixture fixture) : IClassFixture<ServingHostFixture>
{
    [Fact]
    public async Task Infer_BodyArrivingInSmallPieces_SameAnswerAsInOnePiece()
    {
        var features = Kit.Features(300, ServingHost.WideFeatures);
        var body = ServingHost.ClassifierBody(features, ServingHost.WideFeatures, ",\"id\":7");

        using var whole = await fixture.Host.PostAsync("/v2/models/wide/infer", body);
        using var pieces = await fixture.Host.Client.PostAsync("/v2/models/wide/infer", new TrickleContent(Encoding.UTF8.GetBytes(body), 257));

        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pieces.StatusCode);
        var answer = await whole.Content.ReadAsStringAsync();
        Assert.Contains("\"id\":7,", answer, StringComparison.Ordinal);
        Assert.Equal(answer, await pieces.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Infer_BodyInPiecesOverTheLimit_413()
    {
        await using var host = await ServingHost.StartAsync(o => o.MaxRequestBodyBytes = 4096);
        var body = ServingHost.ClassifierBody(Kit.Features(300, 4));

        using var response = await host.Client.PostAsync("/v2/models/clf/infer", new TrickleContent(Encoding.UTF8.GetBytes(body), 100));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("4096", await ServingHost.ErrorOf(response), StringComparison.Ordinal);
    }

    /// <summary>A body sent chunked, <c>piece</c> bytes per write, each flushed: the server sees it arrive in many reads.</summary>
    private sealed class TrickleContent(byte[] body, int piece) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var at = 0; at < body.Length; at += piece)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
