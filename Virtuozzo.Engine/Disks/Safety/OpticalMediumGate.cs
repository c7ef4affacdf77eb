using Virtuozzo.Engine.Disks.Formats;
using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>
/// The disk gate's rule for DVD media: an ISO image file (an ISO 9660 or UDF volume descriptor at byte 32769, as
/// every CD/DVD image has) or a host optical drive (a SCSI CD-ROM block device, major 11: /dev/sr0) for
/// passthrough. Anything else (a qcow2 disk, a text file, a folder, a hard disk device) is refused with
/// VzDiskPathRefused saying what it is. Only reads.
/// </summary>
public static class OpticalMediumGate
{
    /// <summary>The Linux block major of SCSI CD-ROM drives (sr).</summary>
    public const uint ScsiCdromMajor = 11;

    private const long VolumeDescriptorOffset = 32768;
    private const string Operation = "insert it into a VM's DVD drive";

    public static DiskTarget Check(string path, string parameterName = "Path")
    {
        var full = Path.GetFullPath(path);
        var real = FileNode.RealPath(full) ?? throw new VzNotFoundException("VzDiskNotFound", $"The ISO image '{full}' does not exist.", full)
        { RecommendedAction = "Check the path." };
        var node = FileNode.Of(real);
        switch (node.Kind)
        {
            case FileNodeKind.Regular:
                if (!HasVolumeDescriptor(real))
                    throw Refused(full, real, "not an ISO image (no ISO 9660 or UDF volume descriptor at byte 32769)", parameterName,
                        "Give an .iso file (xorriso -as mkisofs or genisoimage make one), or a host optical drive such as /dev/sr0.");
                return new DiskTarget { RequestedPath = full, Path = real, Format = DiskFormat.Raw, Length = node.Size };
            case FileNodeKind.BlockDevice when node.DeviceMajor == ScsiCdromMajor:
                if (BlockDeviceUse.Busy(node) is { } busy)
                    throw Refused(full, real, busy, parameterName, "Unmount the disc on the host first.");
                return new DiskTarget { RequestedPath = full, Path = real, Format = DiskFormat.Raw, IsBlockDevice = true };
            case FileNodeKind.BlockDevice:
                throw Refused(full, real, $"a block device ({node.DeviceNumber}) that is not an optical drive", parameterName,
                    "Give an .iso file, or a host CD/DVD drive (/dev/sr*); attach disks with Add-VzVmDisk.");
            default:
                throw Refused(full, real, DiskPathGate.Describe(node.Kind), parameterName, "Give the path of an .iso file.");
        }
    }

    /// <summary>ISO 9660 ("CD001") or UDF ("BEA01", "NSR02", "NSR03") in the first volume descriptor, after the 32 KiB system area.</summary>
    public static bool HasVolumeDescriptor(string file)
    {
        Span<byte> id = stackalloc byte[5];
        using var h = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (RandomAccess.Read(h, id, VolumeDescriptorOffset + 1) != 5) return false;
        return id.SequenceEqual("CD001"u8) || id.SequenceEqual("BEA01"u8) || id.SequenceEqual("NSR02"u8) || id.SequenceEqual("NSR03"u8);
    }

    private static VzDiskPathRefusedException Refused(string full, string real, string what, string parameterName, string action)
    {
        if (full != real) what = $"a link to '{real}', which is {what}";
        return new VzDiskPathRefusedException(full, what, parameterName, Operation) { RecommendedAction = action };
    }
}
