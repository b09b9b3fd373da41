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
}
