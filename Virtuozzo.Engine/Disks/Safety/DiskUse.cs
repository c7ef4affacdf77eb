namespace Virtuozzo.Engine.Disks.Safety;

/// <summary>What a caller of the disk gate is about to do with the path; decides what it lets through.</summary>
public enum DiskUse
{
    /// <summary>Read metadata (Get-VzDisk, Test-VzDisk, a Convert-VzDisk source with a destination).</summary>
    Read,

    /// <summary>Rewrite or resize in place: never a device.</summary>
    RewriteInPlace,

    /// <summary>Attach to a VM as a writable disk.</summary>
    Attach,

    /// <summary>Attach to a VM read-only (a DVD drive's image).</summary>
    AttachReadOnly,
}
