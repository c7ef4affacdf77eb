namespace Virtuozzo.Engine.Disks.Formats;

/// <summary>What QEMU calls each format and what qemu-img can do with it.</summary>
public static class DiskFormats
{
    /// <summary>The driver name qemu-img and -blockdev use ("vpc" for VHD).</summary>
    public static string QemuName(DiskFormat format) => format.ToString().ToLowerInvariant();

    /// <summary>The format a qemu driver name stands for; null for names this module does not know.</summary>
    public static DiskFormat? FromQemuName(string? name) =>
        name is not null && Enum.TryParse<DiskFormat>(name, ignoreCase: true, out var f) && QemuName(f) == name ? f : null;

    /// <summary>Formats <c>qemu-img convert -O</c> can write without extra secrets.</summary>
    public static bool CanWrite(DiskFormat format) => format is not (DiskFormat.Luks or DiskFormat.Dmg or DiskFormat.Cloop or DiskFormat.Bochs);

    /// <summary>Formats QEMU can attach read-write to a VM (the others are read-only drivers or need a secret).</summary>
    public static bool CanAttachWritable(DiskFormat format) => CanWrite(format);

    /// <summary>Formats <c>qemu-img check</c> understands.</summary>
    public static bool CanCheck(DiskFormat format) =>
        format is DiskFormat.Qcow2 or DiskFormat.Qed or DiskFormat.Vdi or DiskFormat.Vhdx or DiskFormat.Vmdk or DiskFormat.Parallels;

    /// <summary>
    /// The least a file in this format can hold: its fixed header (and for VHDX the header region up to the second
    /// region table). A shorter file is a truncated header; qemu-img would read the missing bytes as zeros.
    /// </summary>
    public static long MinimumLength(DiskFormat format, bool vmdkDescriptor = false) => format switch
    {
        DiskFormat.Qcow => 48,
        DiskFormat.Qed => 64,
        DiskFormat.Vmdk => vmdkDescriptor ? 0 : 512,
        DiskFormat.Vhdx => 5 * 64 * 1024,
        DiskFormat.Vpc => 512,
        DiskFormat.Vdi => 512,
        DiskFormat.Parallels => 64,
        DiskFormat.Luks => 592,
        DiskFormat.Bochs => 512,
        DiskFormat.Dmg => 512,
        _ => 0,
    };

    /// <summary>The name users know the format by, for messages.</summary>
    public static string DisplayName(DiskFormat format) => format switch
    {
        DiskFormat.Qcow2 => "QCOW2",
        DiskFormat.Raw => "raw",
        DiskFormat.Qcow => "qcow (version 1)",
        DiskFormat.Vmdk => "VMDK (VMware)",
        DiskFormat.Vhdx => "VHDX (Hyper-V)",
        DiskFormat.Vpc => "VHD (Virtual PC / Hyper-V)",
        DiskFormat.Vdi => "VDI (VirtualBox)",
        DiskFormat.Parallels => "Parallels (Virtuozzo 6)",
        DiskFormat.Qed => "QED",
        DiskFormat.Luks => "LUKS",
        DiskFormat.Dmg => "DMG (Apple)",
        DiskFormat.Cloop => "cloop",
        DiskFormat.Bochs => "Bochs",
        _ => format.ToString(),
    };
}
