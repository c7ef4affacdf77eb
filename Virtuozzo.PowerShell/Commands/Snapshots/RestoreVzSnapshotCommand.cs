using System.Management.Automation;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Puts a virtual machine or container back to one of its snapshots; its current state is discarded.</para>
/// </summary>
[Cmdlet(VerbsData.Restore, "VzSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VeSnapshotInfo))]
public sealed class RestoreVzSnapshotCommand : SnapshotCmdlet
{
    /// <summary>Run in the background: returns a job whose output is the restored snapshot (with -PassThru).</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessSnapshot(VeRecord record, IVeSnapshots snapshots, string snapshotName)
    {
        if (!ShouldProcess(record.DisplayName, $"Restore snapshot '{snapshotName}' (the current state is discarded)")) return;
        var id = record.Id;
        RunOrStartJob(AsJob, $"Restore-VzSnapshot {record.DisplayName} {snapshotName}",
            (progress, ct) => snapshots.RestoreAsync(id, snapshotName, progress, ct), write: PassThru);
    }
}
