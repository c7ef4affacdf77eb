using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Disks;

/// <summary>
/// An operation this image's format does not support here (resizing a VHDX, compacting a VMDK...). Raised before
/// the image is opened for writing: the file is unchanged. The recommended action is to convert to QCOW2.
/// </summary>
public sealed class VzDiskFormatUnsupportedException : VzException
{
    public VzDiskFormatUnsupportedException(string path, DiskFormat format, string operation)
        : base("VzDiskFormatUnsupported", $"The disk image '{path}' is in the {Formats.DiskFormats.DisplayName(format)} format, which Virtuozzo cannot {operation}.", path)
    {
        Path = path;
        Format = format;
        RecommendedAction = format == DiskFormat.Qcow2 ? null
            : $"Convert it first: Convert-VzDisk '{path}' -Format Qcow2 -DestinationPath <new file>.qcow2";
    }

    public string Path { get; }
    public DiskFormat Format { get; }
}
