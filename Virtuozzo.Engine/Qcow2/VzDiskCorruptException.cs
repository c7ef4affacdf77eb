using Virtuozzo.Engine.Errors;

namespace Virtuozzo.Engine.Qcow2;

/// <summary>
/// A disk image's metadata is malformed: a field out of range, a table pointing outside the file, a truncated
/// header. Raised before anything is allocated or written from the bad value.
/// </summary>
public sealed class VzDiskCorruptException(string path, string detail)
    : VzException("VzDiskCorrupt", $"The disk image '{path}' is damaged or not a valid qcow2 image: {detail}", path)
{
    public string Path { get; } = path;
    public string Detail { get; } = detail;
}
