using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// A disk image's metadata is malformed: a field out of range, a table pointing outside the file, a truncated
/// header. Raised before anything is allocated or written from the bad value. <paramref name="formatName"/> names
/// the format the header claimed ("qcow2", or "VHDX (Hyper-V)" when qemu-img rejected a foreign image).
/// </summary>
public sealed class VzDiskCorruptException(string path, string detail, string formatName = "qcow2")
    : VzException("VzDiskCorrupt", $"The disk image '{path}' is damaged or not a valid {formatName} image: {detail}", path)
{
    public string Path { get; } = path;
    public string Detail { get; } = detail;
}
