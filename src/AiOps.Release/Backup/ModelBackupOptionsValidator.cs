using AiOps.Release.Internal;
using Microsoft.Extensions.Options;

namespace AiOps.Release.Backup;

/// <summary>Checks <see cref="ModelBackupOptions"/> at start-up; each message names the configuration key, its value and what is expected.</summary>
internal sealed class ModelBackupOptionsValidator : IValidateOptions<ModelBackupOptions>
{
    private const string Section = ModelBackupOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, ModelBackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BackupDirectory))
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.BackupDirectory), options.BackupDirectory, "the folder backups are copied to"));
        }

        for (var i = 0; i < options.ModelFiles.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.ModelFiles[i]))
            {
                errors.Add(OptionsMessage.Invalid($"{Section}{nameof(options.ModelFiles)}:{i}", options.ModelFiles[i], "the path of a model file"));
            }
        }

        var duplicate = options.ModelFiles.Select((file, index) => (File: file, Index: index))
            .Where(f => !string.IsNullOrWhiteSpace(f.File))
            .GroupBy(f => Path.GetFileName(f.File), StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            var first = duplicate.First();
            foreach (var (file, index) in duplicate.Skip(1))
            {
                errors.Add(OptionsMessage.Invalid($"{Section}{nameof(options.ModelFiles)}:{index}", file,
                    $"a file name other than that of {Section}{nameof(options.ModelFiles)}:{first.Index} ('{first.File}'): their backups would overwrite each other"));
            }
        }

        if (options.Interval <= TimeSpan.Zero || options.Interval > ModelBackupOptions.MaxInterval)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.Interval), options.Interval,
                $"a positive interval of at most {ModelBackupOptions.MaxInterval} (e.g. 1.00:00:00); to run backups only when the host asks, set {Section}{nameof(options.Scheduled)} to false"));
        }

        if (options.KeepPerFile < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.KeepPerFile), options.KeepPerFile, "1 or more"));
        }

        for (var i = 0; i < options.LogDirectories.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.LogDirectories[i]))
            {
                errors.Add(OptionsMessage.Invalid($"{Section}{nameof(options.LogDirectories)}:{i}", options.LogDirectories[i], "a folder path"));
            }
        }

        if (options.LogRetentionDays < 1)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.LogRetentionDays), options.LogRetentionDays, "1 day or more"));
        }

        if (options.MaxBackupAge is { } age && age <= TimeSpan.Zero)
        {
            errors.Add(OptionsMessage.Invalid(Section + nameof(options.MaxBackupAge), age, "a positive age, or leave it unset (twice the Interval)"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
