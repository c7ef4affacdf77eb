using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Clones a stopped virtual machine: a full copy, or a linked clone on a qcow2 overlay.</para>
/// </summary>
[Cmdlet(VerbsCommon.Copy, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class CopyVzVmCommand : VzVmCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string NewName { get; set; } = "";

    /// <summary>Make the clone's disks qcow2 overlays backed by the source's disks instead of copies.</summary>
    [Parameter]
    public SwitchParameter Linked { get; set; }

    /// <summary>Run in the background: returns a job whose output is what the cmdlet would write.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"{(Linked ? "Linked-clone" : "Copy")} virtual machine to '{NewName}'")) return;
        var engine = Engine;
        var (id, newName, linked) = (record.Id, NewName, Linked.IsPresent);
        RunOrStartJob(AsJob, $"Copy-VzVm {record.DisplayName} {newName}", (progress, ct) => engine.Vms.CopyAsync(id, newName, linked, progress, ct));
    }
}
