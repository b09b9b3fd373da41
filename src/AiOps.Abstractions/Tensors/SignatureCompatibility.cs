using System.Globalization;
using System.Text;

namespace AiOps;

/// <summary>
/// Whether one model version can take another's place without failing its callers: the answer of
/// <see cref="ModelMetadata.CheckReplacement(ModelMetadata)"/>. Hot swap and canary start refuse a replacement that
/// is not compatible.
/// </summary>
/// <param name="Problems">What a caller of the current version would see fail with the replacement; empty when compatible.</param>
public sealed record SignatureCompatibility(IReadOnlyList<string> Problems)
{
    /// <summary>Whether the replacement accepts every request the current version accepts and returns every output it returns.</summary>
    public bool IsCompatible => Problems.Count == 0;

    /// <summary>"compatible", or the problems joined by "; ".</summary>
    public override string ToString() => IsCompatible ? "compatible" : string.Join("; ", Problems);
}

/// <summary>A replacement model version's inputs or outputs differ from the version it would replace (HTTP 409). Never retried.</summary>
public sealed class ModelSignatureMismatchException : AiOpsException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which versions were compared and what differs.</param>
    /// <param name="compatibility">The comparison.</param>
    public ModelSignatureMismatchException(string message, SignatureCompatibility compatibility)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(compatibility);
        Compatibility = compatibility;
    }

    /// <summary>The comparison, with every problem found.</summary>
    public SignatureCompatibility Compatibility { get; }
}

/// <summary>The comparison rules behind <see cref="ModelMetadata.CheckReplacement(ModelMetadata)"/>.</summary>
internal static class SignatureRules
{
    public static SignatureCompatibility Check(ModelMetadata current, ModelMetadata replacement)
    {
        var problems = new List<string>();
        if (IsUnknown(current) || IsUnknown(replacement))
        {
            // An unloaded version reports no tensors: nothing can be promised about it, so it is never "compatible".
            problems.Add(IsUnknown(current)
                ? "the current version's signature is unknown (it declares no inputs or outputs; is it loaded?)"
                : "the replacement's signature is unknown (it declares no inputs or outputs; is it loaded?)");
            return new SignatureCompatibility(problems);
        }

        foreach (var input in current.Inputs)
        {
            var other = Find(replacement.Inputs, input.Name);
            if (other is null)
            {
                problems.Add($"input '{input.Name}' ({Describe(input)}) is missing from the replacement (it has {Names(replacement.Inputs)})");
                continue;
            }

            // Callers send what the current version accepts: the replacement must accept at least that.
            CompareTypeAndRank("input", input, other, problems);
            if (input.Dimensions.Count != other.Dimensions.Count)
            {
                continue;
            }

            for (var d = 0; d < input.Dimensions.Count; d++)
            {
                long now = input.Dimensions[d], then = other.Dimensions[d];
                if (then >= 0 && now != then)
                {
                    problems.Add(now < 0
                        ? $"input '{input.Name}' dimension {d.ToString(CultureInfo.InvariantCulture)} accepts any size today but only {then.ToString(CultureInfo.InvariantCulture)} in the replacement"
                        : $"input '{input.Name}' dimension {d.ToString(CultureInfo.InvariantCulture)} is {now.ToString(CultureInfo.InvariantCulture)} today but {then.ToString(CultureInfo.InvariantCulture)} in the replacement");
                }
            }
        }

        foreach (var input in replacement.Inputs)
        {
            if (Find(current.Inputs, input.Name) is null)
            {
                problems.Add($"the replacement requires input '{input.Name}' ({Describe(input)}) that callers of the current version do not send");
            }
        }

        foreach (var output in current.Outputs)
        {
            var other = Find(replacement.Outputs, output.Name);
            if (other is null)
            {
                problems.Add($"output '{output.Name}' ({Describe(output)}) is missing from the replacement (it has {Names(replacement.Outputs)})");
                continue;
            }

            CompareTypeAndRank("output", output, other, problems);
            if (output.Dimensions.Count != other.Dimensions.Count)
            {
                continue;
            }

            for (var d = 0; d < output.Dimensions.Count; d++)
            {
                long now = output.Dimensions[d], then = other.Dimensions[d];
                if (now >= 0 && then >= 0 && now != then)
                {
                    problems.Add($"output '{output.Name}' dimension {d.ToString(CultureInfo.InvariantCulture)} is {now.ToString(CultureInfo.InvariantCulture)} today but {then.ToString(CultureInfo.InvariantCulture)} in the replacement");
                }
            }
        }

        return new SignatureCompatibility(problems);
    }

    private static bool IsUnknown(ModelMetadata metadata) => metadata.Inputs.Count == 0 && metadata.Outputs.Count == 0;

    private static void CompareTypeAndRank(string kind, TensorSpec now, TensorSpec then, List<string> problems)
    {
        if (now.ElementType != then.ElementType)
        {
            problems.Add($"{kind} '{now.Name}' is {now.ElementType} today but {then.ElementType} in the replacement");
        }
        else if (now.MapKeyType != then.MapKeyType || now.MapValueType != then.MapValueType)
        {
            problems.Add($"{kind} '{now.Name}' is a sequence of maps from {now.MapKeyType} to {now.MapValueType} today but from {then.MapKeyType} to {then.MapValueType} in the replacement");
        }

        if (now.Dimensions.Count != then.Dimensions.Count)
        {
            problems.Add($"{kind} '{now.Name}' has {now.Dimensions.Count.ToString(CultureInfo.InvariantCulture)} dimensions [{string.Join(", ", now.Dimensions)}] today but {then.Dimensions.Count.ToString(CultureInfo.InvariantCulture)} [{string.Join(", ", then.Dimensions)}] in the replacement");
        }
    }

    private static TensorSpec? Find(IReadOnlyList<TensorSpec> specs, string name)
    {
        foreach (var s in specs)
        {
            if (string.Equals(s.Name, name, StringComparison.Ordinal))
            {
                return s;
            }
        }

        return null;
    }

    private static string Describe(TensorSpec spec) => $"{spec.ElementType}[{string.Join(", ", spec.Dimensions)}]";

    private static string Names(IReadOnlyList<TensorSpec> specs)
    {
        if (specs.Count == 0)
        {
            return "none";
        }

        var sb = new StringBuilder();
        foreach (var s in specs)
        {
            sb.Append(sb.Length == 0 ? string.Empty : ", ").Append('\'').Append(s.Name).Append('\'');
        }

        return sb.ToString();
    }
}
