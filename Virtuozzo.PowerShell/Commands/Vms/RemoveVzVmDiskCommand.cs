using System.Management.Automation;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Detaches a disk from a virtual machine (hot when it runs) and deletes its image unless -KeepFile.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "VzVmDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(Virtuozzo.Engine.Qemu.VmInfo))]
public sealed class RemoveVzVmDiskCommand : VzVmCmdlet
{
    /// <summary>The disk's id as Get-VzVm shows it (disk1...).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string DiskId { get; set; } = "";

    /// <summary>Keep the image file (only detach). Images outside the VM's folder are always kept.</summary>
    [Parameter]
    public SwitchParameter KeepFile { get; set; }

    /// <summary>Return the VM without the disk.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Remove disk '{DiskId}'")) return;
        var engine = Engine;
        Run(ct => engine.Vms.RemoveDiskAsync(record.Id, DiskId, KeepFile, ct));
        if (PassThru) WriteObject(Describe(record.Id));
    }
}
