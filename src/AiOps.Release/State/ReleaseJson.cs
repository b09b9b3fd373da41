using System.Text.Json;
using System.Text.Json.Serialization;

namespace AiOps.Release.State;

/// <summary>The JSON settings of every file and Redis value AiOps.Release writes (ModelId and ModelVersion carry their own converters).</summary>
internal static class ReleaseJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Reads a JSON file written with <see cref="Options"/>; null when the file or its folder does not exist.</summary>
    public static async Task<T?> ReadFileAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            // ReadWrite | Delete sharing: a concurrent atomic replace (rename over) must not fail because we are reading.
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync<T>(stream, Options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}
