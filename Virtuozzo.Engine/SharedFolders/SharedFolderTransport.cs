namespace Virtuozzo.Engine.SharedFolders;

/// <summary>How a shared folder reaches the VE.</summary>
public enum SharedFolderTransport
{
    /// <summary>A VM gets virtio-fs when it can (virtiofsd present, a writable share), else 9p.</summary>
    Auto,
    /// <summary>A container's bind mount (idmapped where the kernel and runtime allow).</summary>
    Bind,
    /// <summary>virtio-fs: one virtiofsd per share, QEMU's RAM shared with it (memfd). Fast; blocks migration and memory hotplug.</summary>
    VirtioFs,
    /// <summary>9p (virtio-9p-pci, QEMU serves the folder itself): slow on metadata, but needs no daemon and can be read-only.</summary>
    NineP,
}
