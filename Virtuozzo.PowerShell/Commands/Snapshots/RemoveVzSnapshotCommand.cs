using System.Management.Automation;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Deletes snapshots of virtual machines and containers; every other snapshot keeps its data.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VeSnapshotInfo))]
public sealed class RemoveVzSnapshotCommand : SnapshotCmdlet
{
    /// <summary>Run in the background as a job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>Write the removed snapshot as it was (Hyper-V's convention).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessSnapshot(VeRecord record, IVeSnapshots snapshots, string snapshotName)
    {
        if (!ShouldProcess(record.DisplayName, $"Remove snapshot '{snapshotName}'")) return;
        var id = record.Id;
        var before = snapshots.List(id).FirstOrDefault(s => s.Name == snapshotName);
        RunOrStartJob(AsJob, $"Remove-VzSnapshot {record.DisplayName} {snapshotName}",
            async (progress, ct) => { await snapshots.RemoveAsync(id, snapshotName, progress, ct); return before; }, write: PassThru);
    }
}
