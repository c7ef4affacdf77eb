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
    [ValidateRange(1024L * 1024, long.MaxValue)]
    public long Size { get; set; }

    /// <summary>An existing image to attach instead (qcow2 or raw).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VeDiskPathCompleter))]
    public string? Path { get; set; }

    /// <summary>Return the added disk (Hyper-V's convention: nothing by default).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, Path is null ? $"Add a new {Size / (1024 * 1024)} MB disk" : $"Attach disk '{Path}'")) return;
        var engine = Engine;
        var path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var disk = Run(ct => engine.Vms.AddDiskAsync(record.Id, Size, path, ct));
        if (PassThru) WriteObject(disk);
    }
}
