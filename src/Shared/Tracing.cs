// Linked into several assemblies (src/Shared/Shared.props): each copy lives in its assembly's own namespace.
// Types are spelled in full (no using directives): the implicit usings differ between the projects that compile this.
#if AIOPS_SHARED_RELEASE
namespace AiOps.Release.Internal;
#elif AIOPS_SHARED_MONITORING
namespace AiOps.Monitoring.Internal;
#elif AIOPS_SHARED_DATA
namespace AiOps.Data.Internal;
#elif AIOPS_SHARED_INFERENCE
namespace AiOps.Inference.Internal;
#else
namespace AiOps.Internal;
#endif

/// <summary>How every AiOps span records a failure: status Error with the message, and the exception as an event.</summary>
internal static class Tracing
{
    /// <summary>Marks <paramref name="activity"/> (when there is one) failed with <paramref name="error"/>.</summary>
    public static void Fail(System.Diagnostics.Activity? activity, System.Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(System.Diagnostics.ActivityStatusCode.Error, error.Message);
        activity.AddException(error);
    }
}
