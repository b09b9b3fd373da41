using System.Security.Cryptography;
using System.Text;

namespace AiOps.Inference.Sessions;

/// <summary>
/// The external-data files of an ONNX model (initializers stored outside the <c>.onnx</c> file, as exporters do for
/// models over 2 GB) and the manifest hash that pins the model together with them.
/// </summary>
internal static class ExternalData
{
    /// <summary>
    /// The <c>location</c>s of the main graph's initializers stored externally, distinct, in ordinal order. Reads only
    /// the protobuf fields it needs (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.external_data = 13,
    /// StringStringEntryProto key = 1 / value = 2); tensors inside subgraphs of control-flow nodes are not looked at.
    /// </summary>
    public static IReadOnlyList<string> Locations(ReadOnlySpan<byte> model)
    {
        var locations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var graph in Fields(model, 7))
        {
            foreach (var tensor in Fields(model.Slice(graph.Start, graph.Length), 5))
            {
                var t = model.Slice(graph.Start + tensor.Start, tensor.Length);
                foreach (var entry in Fields(t, 13))
                {
                    var e = t.Slice(entry.Start, entry.Length);
                    string? key = null, value = null;
                    foreach (var k in Fields(e, 1))
                    {
                        key = Encoding.UTF8.GetString(e.Slice(k.Start, k.Length));
                    }

                    foreach (var v in Fields(e, 2))
                    {
                        value = Encoding.UTF8.GetString(e.Slice(v.Start, v.Length));
                    }

                    if (key == "location" && value is not null)
                    {
                        locations.Add(value);
                    }
                }
            }
        }

        return [.. locations];
    }

    /// <summary>
    /// The same as <see cref="Locations(ReadOnlySpan{byte})"/>, read from a seekable stream without loading the model:
    /// only the initializers' <c>external_data</c> entries are read, every other field (weights in <c>raw_data</c>,
    /// nodes) is skipped by seeking, so a model near the 2 GB protobuf limit costs a few reads, not its size in memory.
    /// </summary>
    public static IReadOnlyList<string> Locations(Stream model)
    {
        var locations = new SortedSet<string>(StringComparer.Ordinal);
        var end = model.Length;
        while (model.Position < end)
        {
            var (field, wire, length) = NextField(model);
            if (field == 7 && wire == 2)
            {
                var graphEnd = Math.Min(end, model.Position + length);
                while (model.Position < graphEnd)
                {
                    var (gField, gWire, gLength) = NextField(model);
                    if (gField == 5 && gWire == 2)
                    {
                        var tensorEnd = Math.Min(graphEnd, model.Position + gLength);
                        while (model.Position < tensorEnd)
                        {
                            var (tField, tWire, tLength) = NextField(model);
                            if (tField == 13 && tWire == 2 && tLength <= 1 << 20)
                            {
                                var entry = new byte[tLength];
                                model.ReadExactly(entry);
                                string? key = null, value = null;
                                foreach (var k in Fields(entry, 1))
                                {
                                    key = Encoding.UTF8.GetString(entry.AsSpan(k.Start, k.Length));
                                }

                                foreach (var v in Fields(entry, 2))
                                {
                                    value = Encoding.UTF8.GetString(entry.AsSpan(v.Start, v.Length));
                                }

                                if (key == "location" && value is not null)
                                {
                                    locations.Add(value);
                                }
                            }
                            else
                            {
                                Skip(model, tWire, tLength);
                            }
                        }

                        model.Position = tensorEnd;
                    }
                    else
                    {
                        Skip(model, gWire, gLength);
                    }
                }

                model.Position = graphEnd;
            }
            else
            {
                Skip(model, wire, length);
            }

            if (wire is not (0 or 1 or 2 or 5))
            {
                break; // malformed: ONNX Runtime reports it when it loads the file
            }
        }

        return [.. locations];
    }

    /// <summary>Reads a field's tag (and, for a length-delimited field, its length).</summary>
    private static (int Field, int Wire, long Length) NextField(Stream s)
    {
        var tag = ReadVarint(s);
        var wire = (int)(tag & 7);
        return ((int)(tag >> 3), wire, wire == 2 ? (long)ReadVarint(s) : 0);
    }

    private static void Skip(Stream s, int wire, long length)
    {
        switch (wire)
        {
            case 0:
                ReadVarint(s);
                break;
            case 1:
                s.Position += 8;
                break;
            case 2:
                s.Position = Math.Min(s.Length, s.Position + length);
                break;
            case 5:
                s.Position += 4;
                break;
            default:
                s.Position = s.Length;
                break;
        }
    }

    private static ulong ReadVarint(Stream s)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = s.ReadByte();
            if (b < 0)
            {
                break;
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>
    /// The pin of a model with external data: the SHA-256 of its manifest, the text <c>sha256sum</c> prints for the
    /// model file and each external file (<c>"&lt;sha256&gt;  &lt;name&gt;\n"</c>, the model file first under its file
    /// name, then each location in ordinal order, lower-case hex, UTF-8). Reproduce it with
    /// <c>(sha256sum model.onnx; sha256sum weights.bin) | sha256sum</c> run in the model's folder.
    /// </summary>
    public static string ManifestSha256(string modelFileName, string modelSha256, IEnumerable<(string Location, string Sha256)> files)
    {
        var manifest = new StringBuilder();
        manifest.Append(modelSha256).Append("  ").Append(modelFileName).Append('\n');
        foreach (var (location, sha) in files)
        {
            manifest.Append(sha).Append("  ").Append(location).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest.ToString())));
    }

    /// <summary>The full path of <paramref name="location"/>, which must stay inside the model's folder.</summary>
    /// <returns><see langword="null"/> when the location is rooted or leaves the folder.</returns>
    public static string? Resolve(string folder, string location)
    {
        if (string.IsNullOrWhiteSpace(location) || Path.IsPathRooted(location))
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(folder, location));
        var root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return full.StartsWith(root, StringComparison.Ordinal) ? full : null;
    }

    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The length-delimited occurrences of field <paramref name="field"/> at the top level of <paramref name="message"/>.</summary>
    private static List<(int Start, int Length)> Fields(ReadOnlySpan<byte> message, int field)
    {
        var found = new List<(int, int)>();
        var pos = 0;
        while (pos < message.Length)
        {
            var tag = ReadVarint(message, ref pos);
            var wire = (int)(tag & 7);
            var number = (int)(tag >> 3);
            switch (wire)
            {
                case 0:
                    ReadVarint(message, ref pos);
                    break;
                case 1:
                    pos += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref pos);
                    if (length < 0 || pos + length > message.Length)
                    {
                        return found; // malformed: ONNX Runtime reports it when it loads the bytes
                    }

                    if (number == field)
                    {
                        found.Add((pos, length));
                    }

                    pos += length;
                    break;
                case 5:
                    pos += 4;
                    break;
                default:
                    return found;
            }
        }

        return found;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64 && pos < data.Length; shift += 7)
        {
            var b = data[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        return result;
    }
}
