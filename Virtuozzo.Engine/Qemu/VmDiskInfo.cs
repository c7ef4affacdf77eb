namespace Virtuozzo.Engine.Qemu;

/// <summary>A VM disk as Get-VzVm and Add-VzVmDisk show it.</summary>
public sealed record VmDiskInfo
{
    public string VmName { get; init; } = "";
    public Guid VmId { get; init; }
    public string DiskId { get; init; } = "";
    public string Path { get; init; } = "";
    public string Format { get; init; } = "";
    /// <summary>Size on the file system (allocated), read from the file; virtual size needs qemu-img and is in Get-VzDisk.</summary>
    public long FileSize { get; init; }
    public string? BackingFile { get; init; }

    public override string ToString() => $"{DiskId}:{Path}";
}
