using System.Management.Automation;
using Virtuozzo.Engine.Snapshots;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Takes a snapshot of containers' private areas, running or stopped.</para>
/// </summary>
[Cmdlet(VerbsData.Checkpoint, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(VeSnapshotInfo))]
public sealed class CheckpointVzContainerCommand : ContainerCmdlet
{
    /// <summary>The new snapshot's name, unique within the container.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string SnapshotName { get; set; } = "";

    [Parameter]
    public string? Description { get; set; }

    /// <summary>Run in the background: returns a job whose output is the snapshot (with -PassThru).</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>Return the new snapshot.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Take snapshot '{SnapshotName}'")) return;
        var engine = Engine;
        var (id, name, description) = (record.Id, SnapshotName, Description);
        RunOrStartJob(AsJob, $"Checkpoint-VzContainer {record.DisplayName} {name}",
            (progress, ct) => engine.Containers.Snapshots.CheckpointAsync(id, name, description, progress, ct), write: PassThru);
    }
}
