using System.Management.Automation;
using Virtuozzo.Engine.Qemu;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Inserts an ISO image or a host CD/DVD drive into a VM's DVD drive, or ejects it; live on a running VM.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "VzVmDvdDrive", SupportsShouldProcess = true, DefaultParameterSetName = NameSet)]
[OutputType(typeof(VmInfo))]
public sealed class SetVzVmDvdDriveCommand : VzVmCmdlet
{
    /// <summary>An ISO image file, or a host optical drive (/dev/sr0) for passthrough.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Take the medium out (forced: a guest that mounted it has locked the tray).</summary>
    [Parameter]
    public SwitchParameter Eject { get; set; }

    /// <summary>The drive (cd0); default: the VM's first DVD drive.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DriveId { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessVm(VeRecord record)
    {
        var path = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
        var what = path is null ? "Eject the DVD medium" : $"Insert '{path}' into the DVD drive";
        if (!ShouldProcess(record.DisplayName, what + (DriveId is null ? "" : $" {DriveId}"))) return;
        var engine = Engine;
        var info = Run(ct => engine.Vms.SetDvdMediumAsync(record.Id, DriveId, path, Eject, ct));
        if (PassThru) WriteObject(info);
    }
}
