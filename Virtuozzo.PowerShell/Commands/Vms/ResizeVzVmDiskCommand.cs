using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Grows a VM disk; online (block_resize) when the VM runs, so the guest sees the new size at once.</para>
/// </summary>
[Cmdlet(VerbsCommon.Resize, "VzVmDisk", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmDiskInfo))]
public sealed class ResizeVzVmDiskCommand : VzVmCmdlet
{
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string DiskId { get; set; } = "";

    /// <summary>The new virtual size in bytes (grow only).</summary>
    [Parameter(Mandatory = true)]
    [ValidateRange(1024L * 1024, long.MaxValue)]
    public long Size { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        if (!ShouldProcess(record.DisplayName, $"Resize disk '{DiskId}' to {Size / (1024 * 1024)} MB")) return;
        var engine = Engine;
        WriteObject(Run(ct => engine.Vms.ResizeDiskAsync(record.Id, DiskId, Size, ct)));
    }
}
