using System.Management.Automation;
using Virtuozzo.Engine.Backups;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Backs up virtual machines (settings and disks) to a folder, live while they run; -Incremental copies only what changed.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(BackupInfo))]
public sealed class BackupVzVmCommand : VzVmCmdlet, IDynamicParameters
{
    private readonly BackupParameters backup = new();

    /// <summary>Destination, Incremental, AsJob (<see cref="BackupParameters"/>).</summary>
    public object GetDynamicParameters() => backup;

    protected override void ProcessVm(VeRecord record)
    {
        var destination = GetUnresolvedProviderPathFromPSPath(backup.Destination);
        if (!ShouldProcess(record.DisplayName, backup.Action(destination))) return;
        var engine = Engine;
        var (id, incremental) = (record.Id, backup.Incremental.IsPresent);
        RunOrStartJob(backup.AsJob, $"Backup-VzVm {record.DisplayName} {destination}",
            (progress, ct) => engine.Vms.Backups.BackupAsync(id, destination, incremental, progress, ct));
    }
}
