using System.Management.Automation;
using Virtuozzo.Commands.Infrastructure;
using Virtuozzo.Engine.Disks;
using Virtuozzo.Engine.Qcow2;

namespace Virtuozzo.Commands;

/// <summary>
/// <para type="synopsis">Creates a qcow2 disk image, empty or as an overlay (linked clone) of a backing disk.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "VzDisk", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DiskInfo))]
public sealed class NewVzDiskCommand : VzCmdlet
{
    /// <summary>The new image file. Its folder must exist; the file must not.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Virtual size in bytes (rounded up to 512), at least 1 MiB. Optional with -BackingDisk: the backing disk's size.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(DiskSizes.Minimum, long.MaxValue)]
    public long? Size { get; set; }

    /// <summary>Cluster size in bytes: a power of two from 512 to 2 MiB.</summary>
    [Parameter]
    [ValidateRange(512, 2 * 1024 * 1024)]
    public long ClusterSize { get; set; } = 65536;

    /// <summary>Backing disk: the new image starts with its content and stores only what changes.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BackingDisk { get; set; }

    /// <summary>Store the backing disk's path relative to the new image, so both can move together.</summary>
    [Parameter]
    public SwitchParameter RelativeBackingPath { get; set; }

    /// <summary>Off, or Metadata (lay out every L2 table and cluster mapping now).</summary>
    [Parameter]
    public Qcow2Preallocation Preallocation { get; set; } = Qcow2Preallocation.Off;

    /// <summary>qcow2 compatibility level: 1.1 (version 3) or 0.10 (version 2, for very old QEMU).</summary>
    [Parameter]
    [ValidateSet("1.1", "0.10")]
    public string Compat { get; set; } = "1.1";

    /// <summary>Defer refcount updates (faster writes; a crash leaves leaks that Test-VzDisk -Repair removes).</summary>
    [Parameter]
    public SwitchParameter LazyRefcounts { get; set; }

    protected override void ProcessRecord()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var backing = BackingDisk is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(BackingDisk);
        var what = BackingDisk is null ? $"Create a {Size ?? 0:n0}-byte qcow2 disk" : $"Create a qcow2 overlay of '{backing}'";
        if (!ShouldProcess(path, what)) return;
        var options = new DiskCreateOptions
        {
            Path = path, Size = Size, ClusterSize = ClusterSize, BackingDisk = backing, RelativeBackingPath = RelativeBackingPath,
            Preallocation = Preallocation, Compat = Compat, LazyRefcounts = LazyRefcounts,
        };
        var engine = Engine;
        ForItem(path, () => WriteObject(Run(() => engine.Disks.Create(options, CancellationToken))));
    }
}
