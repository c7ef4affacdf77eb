using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Gives a virtual machine a new name (its id, disks and running state stay).</para>
/// </summary>
[Cmdlet(VerbsCommon.Rename, "VzVm", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class RenameVzVmCommand : VzVmCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string NewName { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Rename virtual machine to '{NewName}'")) return;
        var engine = Engine;
        var info = Run(ct => Task.FromResult(engine.Vms.Rename(record.Id, NewName, ct)));
        if (PassThru) WriteObject(info);
    }
}
