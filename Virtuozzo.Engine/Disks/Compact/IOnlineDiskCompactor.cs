namespace Virtuozzo.Engine.Disks.Compact;

/// <summary>
/// The seam for compacting a disk a running VM has open: the VM service implements it (the guest agent's
/// guest-fstrim, discards passed down by QEMU) and sets <see cref="DiskService.OnlineCompactor"/>. The disk service
/// asks it first and compacts offline only when no running VM holds the image.
/// </summary>
public interface IOnlineDiskCompactor
{
    /// <summary>Trims the guest's file systems through the running VM that has <paramref name="path"/> open; null when no running VM has it.</summary>
    Task<(string VmName, IReadOnlyList<DiskTrimmedFileSystem> Trimmed)?> TryTrimOnlineAsync(string path, CancellationToken cancellationToken);
}
