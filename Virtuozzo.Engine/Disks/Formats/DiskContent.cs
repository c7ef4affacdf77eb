namespace Virtuozzo.Engine.Disks.Formats;

/// <summary>
/// What the first and last bytes of a file say it is: a disk image format, or why it is not a disk image
/// (<see cref="NotADisk"/> names it the way an error message does: "a text file, not a disk image").
/// </summary>
public sealed record DiskContent(DiskFormat? Format, string? NotADisk)
{
    public static DiskContent Image(DiskFormat format) => new(format, null);
    public static DiskContent Refused(string what) => new(null, what);
}
