using System.Management.Automation;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Takes a snapshot of virtual machines, running or stopped, across all their disks.</para>
/// </summary>
[Cmdlet(VerbsData.Checkpoint, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VeSnapshotInfo))]
public sealed class CheckpointVzVmCommand : VzVmCmdlet
{
    /// <summary>The new snapshot's name, unique within the VM.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string SnapshotName { get; set; } = "";

    /// <summary>Save RAM and device state too, so Restore-VzSnapshot resumes the running guest (the guest pauses while it is saved).</summary>
    [Parameter]
    public SwitchParameter IncludeMemory { get; set; }

    [Parameter]
    public string? Description { get; set; }

    /// <summary>Run in the background: returns a job whose output is the snapshot (with -PassThru).</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>Return the new snapshot.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Take snapshot '{SnapshotName}'{(IncludeMemory ? " with memory" : "")}")) return;
        var engine = Engine;
        var (id, name, memory, description) = (record.Id, SnapshotName, IncludeMemory.IsPresent, Description);
        RunOrStartJob(AsJob, $"Checkpoint-VzVm {record.DisplayName} {name}",
            (progress, ct) => engine.Vms.Snapshots.CheckpointAsync(id, name, memory, description, progress, ct), write: PassThru);
    }
}
