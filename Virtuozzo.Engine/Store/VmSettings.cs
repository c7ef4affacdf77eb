namespace Virtuozzo.Engine.Store;

/// <summary>VM-only settings in <c>ve.yaml</c> (the <c>vm</c> section). Memory and CPU live in the common sections.</summary>
public sealed class VmSettings
{
    /// <summary>QEMU machine type: <c>q35</c> (PCIe, hotplug through root ports) or <c>pc</c>.</summary>
    public string Machine { get; set; } = "q35";

    public VmFirmware Firmware { get; set; } = VmFirmware.Bios;

    /// <summary>Memory hotplug (DIMM slots up to <see cref="MaxMemorySize"/>); needs at least 1 GiB of RAM.</summary>
    public bool MemHotplug { get; set; }

    /// <summary>The most RAM hotplug may grow to, in bytes; 0 when hotplug is off.</summary>
    public long MaxMemorySize { get; set; }

    /// <summary>Whether the host service's memory manager balloons this VM; null is on (Set-VzVm -AutoBalloon).</summary>
    public bool? AutoBalloon { get; set; }

    /// <summary>Whether QEMU marks guest RAM mergeable for KSM (<c>-machine mem-merge</c>); null is on, QEMU's default.</summary>
    public bool? MemMerge { get; set; }

    /// <summary>
    /// The RAM QEMU booted with, while it differs from Memory.MemorySize less the DIMMs (a running VM shrunk or grown by its
    /// balloon); null otherwise. A restore needs QEMU's exact layout; a cold start boots Memory.MemorySize and clears it.
    /// </summary>
    public long? BootMemorySize { get; set; }

    /// <summary>DIMMs hot-added since the last cold start (part of the Memory.MemorySize total).</summary>
    public List<VmDimm> Dimms { get; set; } = [];

    public List<VmDisk> Disks { get; set; } = [];

    public List<VmDvdDrive> DvdDrives { get; set; } = [];

    public VmNetworkMode NetworkMode { get; set; } = VmNetworkMode.None;

    /// <summary>The host bridge the VM's tap joins when <see cref="NetworkMode"/> is Bridge.</summary>
    public string? Bridge { get; set; }

    /// <summary>The NIC's MAC address (00:1C:42 prefix, as Virtuozzo assigns); new on every clone.</summary>
    public string? MacAddress { get; set; }

    /// <summary>Direct kernel boot: the kernel image, initrd and command line QEMU loads instead of booting a disk.</summary>
    public string? KernelPath { get; set; }

    public string? InitrdPath { get; set; }

    public string? KernelArguments { get; set; }

    /// <summary>
    /// Changes asked for while the VM ran that QEMU cannot apply live; applied at the next start and shown by
    /// Get-VzVm so nobody believes they took effect already.
    /// </summary>
    public VmPendingChanges? Pending { get; set; }
}
