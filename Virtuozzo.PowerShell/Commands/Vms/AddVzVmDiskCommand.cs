using System.Management.Automation;
using Virtuozzo.Commands.Completion;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Adds a virtio disk to a virtual machine: a new qcow2 image or an existing one; hot when the VM runs.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "VzVmDisk", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmDiskInfo))]
public sealed class AddVzVmDiskCommand : VzVmCmdlet
{
    /// <summary>Size of a new qcow2 image in the VM's folder.</summary>
    [Parameter]
    [ValidateRange(Virtuozzo.Engine.Disks.DiskSizes.Minimum, long.MaxValue)]
    public long Size { get; set; }

    /// <summary>An existing image to attach instead (qcow2, raw, VMDK, VHDX, VHD, VDI, Parallels, QED, qcow), with its own format driver.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VeDiskPathCompleter))]
    public string? Path { get; set; }

    /// <summary>Return the added disk (Hyper-V's convention: nothing by default).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }
    /// <summary>Convert -Path into a new qcow2 disk in the VM's folder instead of attaching it in place (the original is only read).</summary>
    [Parameter]
    public SwitchParameter Convert { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, Path is null ? $"Add a new {Size / (1024 * 1024)} MB disk" : Convert ? $"Convert '{Path}' into a new qcow2 disk and attach it" : $"Attach disk '{Path}'")) return;
        var engine = Engine;
        var path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var disk = Run(ct => engine.Vms.AddDiskAsync(record.Id, Size, path, Convert, ct));
        if (PassThru) WriteObject(disk);
    }
}
