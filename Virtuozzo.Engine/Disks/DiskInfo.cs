namespace Virtuozzo.Engine.Disks;

/// <summary>
/// One disk image as <c>Get-VzDisk</c> shows it: qcow2 and raw read from the image's own metadata (without qemu-img),
/// other formats from <c>qemu-img info</c>,
/// plus the VE that owns it when it lives in a VE folder. Sizes are bytes. Field meanings follow
/// <c>qemu-img info</c>: ActualSize is its "disk size" (host blocks), AllocatedSize the guest data in this file.
/// </summary>
public sealed class DiskInfo
{
    public required string Path { get; init; }

    /// <summary>The format by qemu-img's name for it ("qcow2", "raw", "vmdk", "vhdx", "vpc", "vdi", "parallels", "qed",
    /// "qcow"...), recognised by content.</summary>
    public required string Format { get; init; }
    public long VirtualSize { get; init; }

    /// <summary>Length of the file.</summary>
    public long FileSize { get; init; }

    /// <summary>Host storage the file occupies (st_blocks), as qemu-img's "disk size".</summary>
    public long ActualSize { get; init; }

    /// <summary>Guest bytes whose data is stored in this file (allocated clusters times cluster size); for raw
    /// files the host storage used.</summary>
    public long AllocatedSize { get; init; }
    public long? ClusterSize { get; init; }

    /// <summary>"1.1" (qcow2 v3) or "0.10" (v2).</summary>
    public string? Compat { get; init; }
    public string? BackingFile { get; init; }
    public string? BackingFormat { get; init; }

    /// <summary>The backing file as an absolute path (relative names are relative to this image).</summary>
    public string? FullBackingFile { get; init; }
    public bool IsDirty { get; init; }
    public bool IsCorrupt { get; init; }
    public int SnapshotCount { get; init; }
    public int? RefcountBits { get; init; }
    public bool LazyRefcounts { get; init; }
    public bool ExtendedL2 { get; init; }

    /// <summary>"zlib" or "zstd" for qcow2.</summary>
    public string? CompressionType { get; init; }
    public bool Encrypted { get; init; }

    /// <summary>The VE whose folder holds this disk, when one does.</summary>
    public string? VeName { get; init; }
    public Guid? VeId { get; init; }
}
