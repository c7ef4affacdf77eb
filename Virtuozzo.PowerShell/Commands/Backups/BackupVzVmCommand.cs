using System.Management.Automation;
using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Backs up virtual machines (settings and disks) to a folder, live while they run; -Incremental copies only what changed.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(BackupInfo))]
public sealed class BackupVzVmCommand : VzVmCmdlet
{
    /// <summary>An existing folder; each backup becomes a subfolder of it.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Copy only the clusters written since the VM's last backup in this folder (full when that is not possible, with the reason).</summary>
    [Parameter]
    public SwitchParameter Incremental { get; set; }

    /// <summary>Run in the background: returns a job whose output is the backup.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        var destination = GetUnresolvedProviderPathFromPSPath(Destination);
        if (!ShouldProcess(record.DisplayName, $"{(Incremental ? "Incremental backup" : "Full backup")} to '{destination}'")) return;
        var engine = Engine;
        var (id, incremental) = (record.Id, Incremental.IsPresent);
        RunOrStartJob(AsJob, $"Backup-VzVm {record.DisplayName} {destination}",
            (progress, ct) => engine.Vms.Backups.BackupAsync(id, destination, incremental, progress, ct));
    }
}
