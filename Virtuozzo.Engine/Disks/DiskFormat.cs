namespace Virtuozzo.Engine.Disks;

/// <summary>Image formats the disk cmdlets read and write.</summary>
public enum DiskFormat
{
    Qcow2,
    Raw,
}
