using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Removes a DVD drive from a stopped virtual machine (the ISO file is kept).</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzVmDvdDrive", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class RemoveVzVmDvdDriveCommand : VzVmCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string DriveId { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Remove DVD drive '{DriveId}'")) return;
        var engine = Engine;
        var info = Run(ct => Task.FromResult(engine.Vms.RemoveDvdDrive(record.Id, DriveId, ct)));
        if (PassThru) WriteObject(info);
    }
}
