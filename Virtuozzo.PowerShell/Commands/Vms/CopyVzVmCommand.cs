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

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"{(Linked ? "Linked-clone" : "Copy")} virtual machine to '{NewName}'")) return;
        var engine = Engine;
        var progress = Progress;
        WriteObject(Run(ct => engine.Vms.CopyAsync(record.Id, NewName, Linked, progress, ct)));
    }
}
