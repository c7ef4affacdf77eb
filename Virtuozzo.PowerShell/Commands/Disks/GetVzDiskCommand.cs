using System.Management.Automation;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Describes disk images (QCOW2, raw, VMDK, VHDX, VHD, VDI, Parallels, QED...): sizes, cluster size, backing file, flags, and the VE that owns them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "VzDisk", DefaultParameterSetName = PathSet)]
[OutputType(typeof(DiskInfo))]
public sealed class GetVzDiskCommand : DiskCmdlet
{
    // One read of each VE's config per invocation, however many of its disks are listed.
    private readonly Dictionary<Guid, VeRecord?> veCache = [];

    /// <summary>Also describe a block device (read only; refused when mounted or in use).</summary>
    [Parameter]
    public SwitchParameter AllowBlockDevice { get; set; }

    protected override void ProcessRecord()
    {
        var disks = Engine.Disks;
        foreach (var path in ResolveDisks())
            ForItem(path, () => WriteObject(disks.Get(path, veCache, CancellationToken, AllowBlockDevice)));
    }
}
