namespace Virtuozzo.Engine.Disks;

/// <summary>
/// Image formats recognised by content (the formats QEMU reads). Qcow2 is native; the others are described and
/// converted through qemu-img. Values keep their numbers: new formats are appended.
/// </summary>
public enum DiskFormat
{
    Qcow2,
    Raw,
    /// <summary>QEMU's original copy-on-write format (qcow version 1).</summary>
    Qcow,
    /// <summary>VMware: sparse extents ("KDMV"/"COWD") or a text descriptor.</summary>
    Vmdk,
    /// <summary>Hyper-V (Windows Server 2012 and later).</summary>
    Vhdx,
    /// <summary>VirtualPC / Hyper-V VHD (qemu-img calls it vpc).</summary>
    Vpc,
    /// <summary>VirtualBox.</summary>
    Vdi,
    /// <summary>Virtuozzo 6 / Parallels expanding disks.</summary>
    Parallels,
    /// <summary>QEMU Enhanced Disk.</summary>
    Qed,
    /// <summary>LUKS-encrypted volume (needs a secret to read).</summary>
    Luks,
    /// <summary>Apple disk image (read-only in QEMU).</summary>
    Dmg,
    /// <summary>Compressed loopback image (read-only in QEMU).</summary>
    Cloop,
    /// <summary>Bochs growing image (read-only in QEMU).</summary>
    Bochs,
}
