using System.Text.Json;
using System.Text.Json.Serialization;
using AiOps.Checkpoints;

namespace AiOps.Release.Checkpoints;

/// <summary>The <c>manifest.json</c> of a checkpoint: written last, after every file is flushed.</summary>
internal sealed class CheckpointManifest
{
    public int FormatVersion { get; set; } = 1;

    public string Id { get; set; } = string.Empty;

    public long Step { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public Dictionary<string, double> Metrics { get; set; } = [];

    public List<string> Tags { get; set; } = [];

    public List<CheckpointManifestFile> Files { get; set; } = [];

    public CheckpointInfo ToInfo() => new(Id, Step, CreatedAt, Files.ConvertAll(f => new CheckpointFile(f.Name, f.Length, f.Sha256)))
    {
        Metrics = Metrics,
        Tags = Tags,
    };

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, CheckpointJsonContext.Default.CheckpointManifest);

    public static CheckpointManifest? Deserialize(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, CheckpointJsonContext.Default.CheckpointManifest);
}

/// <summary>One file of a manifest.</summary>
internal sealed class CheckpointManifestFile
{
    public string Name { get; set; } = string.Empty;

    public long Length { get; set; }

    public string Sha256 { get; set; } = string.Empty;
}

/// <summary>Source-generated JSON for manifests; NaN metrics (a diverged loss) are allowed.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    WriteIndented = true)]
[JsonSerializable(typeof(CheckpointManifest))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
