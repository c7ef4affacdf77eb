using System.Management.Automation;
using Virtuozzo.Engine.Backups;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a virtual machine or container from a backup after checking every file against its checksum.</para>
/// </summary>
[Cmdlet(VerbsData.Restore, "VzBackup", SupportsShouldProcess = true)]
[OutputType(typeof(Virtuozzo.Engine.Qemu.VmInfo), typeof(Virtuozzo.Engine.Containers.ContainerInfo))]
public sealed class RestoreVzBackupCommand : Infrastructure.VzCmdlet
{
    /// <summary>The backup's folder (Get-VzBackup output binds through its Path).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Create the VE under this name (with a new id and MAC) instead of the backed-up one.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewName { get; set; }

    /// <summary>Run in the background: returns a job whose output is the restored VE.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        ForItem(path, () =>
        {
            if (!ShouldProcess(path, NewName is null ? "Restore backup" : $"Restore backup as '{NewName}'")) return;
            var engine = Engine;
            var newName = NewName;
            RunOrStartJob(AsJob, $"Restore-VzBackup {path}", (progress, ct) => BackupRestorer.RestoreAsync(engine, path, newName, progress, ct));
        });
    }
}
