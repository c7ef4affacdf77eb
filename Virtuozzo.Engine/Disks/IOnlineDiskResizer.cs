namespace Virtuozzo.Engine.Disks;

/// <summary>
/// The seam for resizing a disk a running VM has open: the VM service implements it (QMP <c>block_resize</c>) and
/// sets <see cref="DiskService.OnlineResizer"/>. The disk service asks it first and resizes offline only when no
/// running VM holds the image.
/// </summary>
public interface IOnlineDiskResizer
{
    /// <summary>Resizes the disk through the running VM that has it open; false when no running VM has it.</summary>
    Task<bool> TryResizeOnlineAsync(string path, long newSize, CancellationToken cancellationToken);
}
