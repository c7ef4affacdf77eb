using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// One host folder shared with a VE (Add-VzSharedFolder), stored in <c>ve.yaml</c>: a bind mount in a container, a
/// virtio-fs or 9p device in a VM. Applied when the VE starts.
/// </summary>
public sealed class VeSharedFolder
{
    /// <summary>The share's name: unique per VE, and the mount tag a VM's guest mounts (<c>mount -t virtiofs NAME /mnt</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>The host folder, absolute and canonical (no symlinks, no <c>..</c>), checked when the share was added.</summary>
    public string Path { get; set; } = "";

    /// <summary>Where a container sees the folder; null for a VM (its guest mounts the tag where it likes).</summary>
    public string? GuestPath { get; set; }

    public bool ReadOnly { get; set; }

    /// <summary>How a VM gets the folder; null is Auto (virtio-fs when possible, else 9p). Containers always bind-mount.</summary>
    public SharedFolderTransport? Transport { get; set; }
}
