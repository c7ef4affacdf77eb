namespace Virtuozzo.Engine.Disks;

/// <summary>
/// The seam for <c>Resize-VzDisk -ResizeGuestFileSystem</c> on a disk a running VM has open: the VM service
/// implements it (block_resize, then the partition, LVM and file system grown inside the guest through its agent)
/// and sets <see cref="DiskService.OnlineGuestResizer"/>.
/// </summary>
public interface IOnlineGuestDiskResizer
{
    /// <summary>Grows the disk and, in the guest, its last partition, the LV (<paramref name="logicalVolume"/> or the
    /// one ending the VG's used space) and the file system; false when no running VM has the disk open.</summary>
    Task<bool> TryResizeWithGuestAsync(string path, long newSize, string? logicalVolume, CancellationToken cancellationToken);
}
