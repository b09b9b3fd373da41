namespace AiOps.Data.Internal;

internal static class CsvText
{
    /// <summary>Writes one field, quoting it (RFC 4180) when it holds the delimiter, a quote or a line break.</summary>
    public static void WriteField(TextWriter writer, ReadOnlySpan<char> field, char delimiter)
    {
        if (field.IndexOfAny(delimiter, '"', '\n') < 0 && !field.Contains('\r'))
        {
            writer.Write(field);
            return;
        }

        writer.Write('"');
        var rest = field;
        int q;
        while ((q = rest.IndexOf('"')) >= 0)
        {
            writer.Write(rest[..(q + 1)]);
            writer.Write('"');
            rest = rest[(q + 1)..];
        }

        writer.Write(rest);
        writer.Write('"');
    }

    /// <summary>Flushes to disk and renames over <paramref name="destination"/>.</summary>
    public static void Publish(string temp, string destination)
    {
        File.Move(temp, destination, overwrite: true);
    }

    public static FileStream CreateTemp(string destination, out string tempPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        Directory.CreateDirectory(dir);
        tempPath = Path.Combine(dir, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.tmp");
        return new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    public static void TryDelete(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // best effort: a stray temp file is harmless and named as one
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
