namespace AiOps.Release.Registry;

/// <summary>
/// A registry file cannot be used: it is not valid JSON (truncated, overwritten), holds a value of the wrong form, or
/// declares another model version than its file name says. An <see cref="IOException"/>, so code that rides out an
/// unreadable registry (the router falls back to the highest loaded version, rollout actions keep their committed
/// state) treats it like any other read failure. The registry health check reports such files as Degraded.
/// </summary>
public sealed class ModelRegistryCorruptException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file that cannot be used.</param>
    /// <param name="message">What is wrong with it and what was expected.</param>
    /// <param name="innerException">The parser's error, if any.</param>
    public ModelRegistryCorruptException(string filePath, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file that cannot be used (full path).</summary>
    public string FilePath { get; }
}
