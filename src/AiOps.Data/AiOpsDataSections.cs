namespace AiOps.Data;

/// <summary>The configuration sections AiOps.Data binds when the host has configuration (configuration first, then code).</summary>
public static class AiOpsDataSections
{
    /// <summary><see cref="AiOpsDataOptions"/>, bound by <c>AddAiOpsData()</c> (rule sets under <c>AiOps:Data:RuleSets:&lt;name&gt;</c>).</summary>
    public const string Data = "AiOps:Data";
}
