using Virtuozzo.Engine.Disks.Formats;

namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>
/// A path the disk gate let through: <see cref="Path"/> is the resolved target (every symlink followed once), on
/// which every later step acts, so a link and its target are never treated differently.
/// </summary>
public sealed record DiskTarget
{
    /// <summary>The path as the caller gave it (made absolute).</summary>
    public required string RequestedPath { get; init; }

    /// <summary>The real path (symlinks resolved).</summary>
    public required string Path { get; init; }
    public required DiskFormat Format { get; init; }

    /// <summary>The file's length, or a block device's size.</summary>
    public long Length { get; init; }
    public bool IsBlockDevice { get; init; }

    /// <summary>The format's driver name for qemu-img and -blockdev.</summary>
    public string QemuFormat => DiskFormats.QemuName(Format);
}
