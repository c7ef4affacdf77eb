using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>What New-VzVm asks for. Null means the default.</summary>
public sealed record VmCreateOptions
{
    public required string Name { get; init; }
    public long MemorySize { get; init; } = 1024L * 1024 * 1024;
    public int CpuCount { get; init; } = 1;
    /// <summary>Relative CPU weight, 8-500000.</summary>
    public int CpuUnits { get; init; } = 1000;
    /// <summary>Percent of one host CPU; 0 for no limit.</summary>
    public int CpuLimit { get; init; }
    /// <summary>The limit in MHz of the host's CPU instead of percent; 0 or null for none.</summary>
    public int? CpuLimitMhz { get; init; }
    /// <summary>Host CPUs the vCPU threads may run on ("0,2-3"); null or "all" for all.</summary>
    public string? CpuMask { get; init; }
    public bool OnBoot { get; init; }
    /// <summary>Size of a new, empty qcow2 system disk; 0 with no <see cref="DiskPath"/> means no disk.</summary>
    public long DiskSize { get; init; }
    /// <summary>An existing image to use as the system disk (attached in place, not copied).</summary>
    public string? DiskPath { get; init; }
    /// <summary>Convert <see cref="DiskPath"/> into a qcow2 disk in the VM's folder instead of attaching it in place.</summary>
    public bool ConvertDisk { get; init; }
    public string? IsoPath { get; init; }
    public VmFirmware Firmware { get; init; } = VmFirmware.Bios;
    /// <summary>Auto (the default) is the VM default, 40 %.</summary>
    public Memory.MemGuarantee MemGuarantee { get; init; }
    public bool MemHotplug { get; init; }
    /// <summary>Whether QEMU marks guest RAM mergeable for KSM (<c>-machine mem-merge</c>); on by default, as for Set-VzVm.</summary>
    public bool MemMerge { get; init; } = true;
    /// <summary>Whether the host service's memory manager balloons the VM; on by default, as for Set-VzVm.</summary>
    public bool AutoBalloon { get; init; } = true;
    public VmNetworkMode NetworkMode { get; init; } = VmNetworkMode.None;
    public string? Bridge { get; init; }
    public string? KernelPath { get; init; }
    public string? InitrdPath { get; init; }
    public string? KernelArguments { get; init; }
    public string Machine { get; init; } = "q35";
    public string? Description { get; init; }
}
