namespace Virtuozzo.Engine.Disks.Compact;

/// <summary>How a compact reached the image's free space.</summary>
public enum DiskCompactMode
{
    /// <summary>The image was closed: its file systems were trimmed on the host and the image rewritten without zero clusters.</summary>
    Offline,

    /// <summary>A running VM had the image open: its guest agent trimmed the mounted file systems (guest-fstrim) and
    /// QEMU passed the discards down to the qcow2 file.</summary>
    Online,
}

/// <summary>One file system a compact trimmed: where it is, its type, and how many bytes the trim discarded.</summary>
public sealed record DiskTrimmedFileSystem
{
    /// <summary>Offline: "partition 1", "vg0/root" (an LVM logical volume) or "disk" (no partition table); online:
    /// the guest's mount point.</summary>
    public required string Location { get; init; }

    /// <summary>ext4, xfs... (offline; the guest agent does not say).</summary>
    public string? FileSystem { get; init; }

    /// <summary>Bytes fstrim reported as discarded (free space handed down; not all of it was allocated before).</summary>
    public long TrimmedBytes { get; init; }
}

/// <summary>
/// What <c>Optimize-VzDisk</c> gave back: the image's host storage (st_blocks, qemu-img's "disk size") before and
/// after, and its file length before and after (offline compaction also shortens the file; an online trim punches
/// holes, so only the storage shrinks).
/// </summary>
public sealed class DiskCompactResult
{
    public required string Path { get; init; }
    public DiskCompactMode Mode { get; init; }

    /// <summary>Host storage the image occupied before, in bytes.</summary>
    public long BytesBefore { get; init; }

    /// <summary>Host storage the image occupies now, in bytes.</summary>
    public long BytesAfter { get; init; }

    /// <summary>BytesBefore - BytesAfter (negative if the guest wrote meanwhile).</summary>
    public long BytesReclaimed => BytesBefore - BytesAfter;
    public long FileSizeBefore { get; init; }
    public long FileSizeAfter { get; init; }

    /// <summary>The VM that had the image open (online), else null.</summary>
    public string? VmName { get; init; }
    public IReadOnlyList<DiskTrimmedFileSystem> FileSystems { get; init; } = [];

    /// <summary>Partitions or logical volumes left alone, with the reason ("partition 2: swap").</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>The image as it is now.</summary>
    public required DiskInfo Disk { get; init; }
}
