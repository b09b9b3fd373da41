using Microsoft.Extensions.Options;

namespace AiOps.Release.Backup;

/// <summary>Checks <see cref="ModelBackupOptions"/> at start-up; each message names the setting.</summary>
internal sealed class ModelBackupOptionsValidator : IValidateOptions<ModelBackupOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelBackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BackupDirectory))
        {
            errors.Add("ModelBackupOptions.BackupDirectory is required: the folder backups are copied to.");
        }

        if (options.ModelFiles.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("ModelBackupOptions.ModelFiles contains an empty path; expected model file paths.");
        }

        var duplicate = options.ModelFiles.Where(f => !string.IsNullOrWhiteSpace(f))
            .GroupBy(f => Path.GetFileName(f), StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            errors.Add($"ModelBackupOptions.ModelFiles has several files named '{duplicate.Key}' ({string.Join(", ", duplicate)}); their backups would overwrite each other. Expected distinct file names.");
        }

        if (options.Interval <= TimeSpan.Zero)
        {
            errors.Add($"ModelBackupOptions.Interval is {options.Interval}; expected a positive interval (e.g. 1.00:00:00).");
        }

        if (options.KeepPerFile < 1)
        {
            errors.Add($"ModelBackupOptions.KeepPerFile is {options.KeepPerFile}; expected at least 1.");
        }

        if (options.LogDirectories.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("ModelBackupOptions.LogDirectories contains an empty path; expected folder paths.");
        }

        if (options.LogRetentionDays < 1)
        {
            errors.Add($"ModelBackupOptions.LogRetentionDays is {options.LogRetentionDays}; expected at least 1 day.");
        }

        if (options.MaxBackupAge is { } age && age <= TimeSpan.Zero)
        {
            errors.Add($"ModelBackupOptions.MaxBackupAge is {age}; expected a positive age or null (twice Interval).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
