using AiOps.Data.Pii;
using Microsoft.Extensions.DependencyInjection;

namespace AiOps.Data;

/// <summary>Returned by <c>AddAiOpsData</c> for chaining.</summary>
/// <param name="services">The services.</param>
public sealed class AiOpsDataBuilder(IServiceCollection services)
{
    /// <summary>The services.</summary>
    public IServiceCollection Services { get; } = services;

    /// <summary>Adds a team's own kind of personal data to the built-in <see cref="IPiiMasker"/>, so the gate, the validator's reports and
    /// every direct <see cref="IPiiMasker.Mask"/> call find it (as <see cref="PiiKind.Custom"/>). A host that registers its own
    /// <see cref="IPiiMasker"/> receives the recognisers as <c>IEnumerable&lt;PiiRecognizer&gt;</c> from the container.</summary>
    /// <param name="recognizer">The recogniser; its name must be unique among those added.</param>
    /// <returns>This builder.</returns>
    public AiOpsDataBuilder AddPiiRecognizer(PiiRecognizer recognizer)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        Services.AddSingleton(recognizer);
        return this;
    }
}
