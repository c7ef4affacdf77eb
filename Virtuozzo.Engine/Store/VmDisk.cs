namespace Virtuozzo.Engine.Store;

/// <summary>One virtio-blk disk of a VM.</summary>
public sealed class VmDisk
{
    /// <summary>Device and node name inside QEMU (<c>disk0</c>, <c>disk1</c>...): stable, so hot-remove finds it.</summary>
    public string Id { get; set; } = "";

    /// <summary>Image file; a relative path is relative to the VE folder.</summary>
    public string Path { get; set; } = "";

    /// <summary><c>qcow2</c> or <c>raw</c>.</summary>
    public string Format { get; set; } = "qcow2";

    /// <summary>For a linked clone: the image this disk's overlay is backed by (kept so the source cannot be removed under it).</summary>
    public string? BackingFile { get; set; }
}
