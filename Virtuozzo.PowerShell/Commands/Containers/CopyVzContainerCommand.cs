using System.Management.Automation;
using Virtuozzo.Engine.Containers;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Clones a stopped container under a new name, with a new id, MAC address and user-namespace range.</para>
/// </summary>
[Cmdlet(VerbsCommon.Copy, "VzContainer", SupportsShouldProcess = true, DefaultParameterSetName = "Name")]
[OutputType(typeof(ContainerInfo))]
public sealed class CopyVzContainerCommand : ContainerCmdlet
{
    /// <summary>Name of the copy.</summary>
    [Parameter(Mandatory = true, Position = 1)] public string NewName { get; set; } = "";

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessContainer(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Copy container to {NewName}")) return;
        var engine = Engine;
        var (id, newName) = (record.Id, NewName);
        RunOrStartJob(AsJob, $"Copy-VzContainer {record.DisplayName} {newName}", (progress, ct) => engine.Containers.CopyAsync(id, newName, progress, ct));
    }
}
