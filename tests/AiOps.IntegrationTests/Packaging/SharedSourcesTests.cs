namespace AiOps.IntegrationTests.Packaging;

/// <summary>
/// src/Shared is compiled into each package (no shared package): every assembly holds its own internal copy in its own
/// namespace, so this project, which sees the internals of all of them, names each copy without ambiguity (CS0433).
/// </summary>
public sealed class SharedSourcesTests
{
    [Theory]
    [InlineData(typeof(AiOps.Release.Internal.PeriodicJob), "AiOps.Release")]
    [InlineData(typeof(AiOps.Release.Internal.AtomicFile), "AiOps.Release")]
    [InlineData(typeof(AiOps.Monitoring.Internal.PeriodicJob), "AiOps.Monitoring")]
    [InlineData(typeof(AiOps.Monitoring.Internal.AtomicFile), "AiOps.Monitoring")]
    [InlineData(typeof(AiOps.Data.Internal.PeriodicJob), "AiOps.Data")]
    [InlineData(typeof(AiOps.Data.Internal.AtomicFile), "AiOps.Data")]
    public void SharedType_EachPackage_HasItsOwnInternalCopy(Type type, string assembly)
    {
        Assert.Equal(assembly, type.Assembly.GetName().Name);
        Assert.False(type.IsPublic);
    }

    [Fact]
    public void IdentityJsonConverters_LiveOnTheTypesInAbstractions()
    {
        Assert.Equal("AiOps.Abstractions", typeof(ModelIdJsonConverter).Assembly.GetName().Name);
        Assert.DoesNotContain(typeof(AiOps.Release.AiOpsReleaseOptions).Assembly.GetTypes(), t => t.Name.EndsWith("ModelIdConverter", StringComparison.Ordinal) || t.Name.EndsWith("ModelVersionConverter", StringComparison.Ordinal));
    }
}
