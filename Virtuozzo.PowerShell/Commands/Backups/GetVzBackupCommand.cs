using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Backups;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Lists the backups in a folder: VE, full or incremental, what each adds to, size and throughput.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzBackup")]
[OutputType(typeof(BackupInfo))]
public sealed class GetVzBackupCommand : VzCmdlet
{
    /// <summary>The folder the backups were written to (Backup-VzVm -Destination).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Only the backups of these VEs (wildcards).</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("VmName", "ContainerName")]
    public string[]? VeName { get; set; }

    protected override void ProcessRecord()
    {
        var folder = GetUnresolvedProviderPathFromPSPath(Destination);
        if (!Directory.Exists(folder))
        {
            WriteVzError(new Virtuozzo.Engine.Errors.VzNotFoundException("VzBackupDestinationNotFound", $"The backup folder '{folder}' does not exist.", folder), folder);
            return;
        }
        var patterns = VeName?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var (manifest, path) in BackupFolder.List(folder))
            if (patterns is null || patterns.Any(p => p.IsMatch(manifest.VeName)))
                WriteObject(BackupInfo.From(manifest, path));
    }
}
