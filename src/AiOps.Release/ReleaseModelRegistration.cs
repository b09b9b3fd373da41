namespace AiOps.Release;

/// <summary>Marks a model added with <c>AddModel</c>; the router, controller and health check enumerate these.</summary>
/// <param name="Model">The model.</param>
internal sealed record ReleaseModelRegistration(ModelId Model);
