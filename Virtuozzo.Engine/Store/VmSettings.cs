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

    /// <summary>DIMMs hot-added since the last cold start (part of the Memory.Size total).</summary>
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
