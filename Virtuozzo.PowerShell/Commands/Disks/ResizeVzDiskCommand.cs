using System.Management.Automation;
using Virtuozzo.Engine.Disks;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Changes the virtual size of a disk image in place; shrinking needs -Shrink and is refused over data.</para>
/// </summary>
/// <remarks>ConfirmImpact High: it rewrites the image in place.</remarks>
[Cmdlet(VerbsCommon.Resize, "VzDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PathSet)]
[OutputType(typeof(DiskInfo))]
public sealed class ResizeVzDiskCommand : DiskCmdlet
{
    /// <summary>The new virtual size in bytes (a multiple of 512).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(0, long.MaxValue)]
    public long Size { get; set; }

    /// <summary>Allow a size smaller than the current one (refused anyway if data lies past the new end).</summary>
    [Parameter]
    public SwitchParameter Shrink { get; set; }

    /// <summary>Resize the last partition and its file system (ext2/3/4, XFS, LVM PV and LV) too: growing offline or
    /// online (through the guest agent); shrinking offline, ext2/3/4 only.</summary>
    [Parameter]
    public SwitchParameter ResizeGuestFileSystem { get; set; }

    /// <summary>With -ResizeGuestFileSystem on an LVM physical volume: the logical volume to resize (default: the last one).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogicalVolume { get; set; }

    /// <summary>Write the resized disk to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var engine = Engine;
        foreach (var path in ResolveDisks())
        {
            var what = ResizeGuestFileSystem ? $"Resize to {Size:n0} bytes with the last partition and its file system" : $"Resize to {Size:n0} bytes";
            if (!ShouldProcess(path, what)) continue;
            ForItem(path, () =>
            {
                var info = Run(ct => engine.Disks.ResizeAsync(path, Size, Shrink, ResizeGuestFileSystem, LogicalVolume, ct));
                if (PassThru) WriteObject(info);
            });
        }
    }
}
