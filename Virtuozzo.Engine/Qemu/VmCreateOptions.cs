using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>What New-VzVm asks for. Null means the default.</summary>
public sealed record VmCreateOptions
{
    public required string Name { get; init; }
    public long MemorySize { get; init; } = 1024L * 1024 * 1024;
    public int CpuCount { get; init; } = 1;
    /// <summary>Size of a new, empty qcow2 system disk; 0 with no <see cref="DiskPath"/> means no disk.</summary>
    public long DiskSize { get; init; }
    /// <summary>An existing image to use as the system disk (attached in place, not copied).</summary>
    public string? DiskPath { get; init; }
    public string? IsoPath { get; init; }
    public VmFirmware Firmware { get; init; } = VmFirmware.Bios;
    /// <summary>0-100; null for the VM default (40 %).</summary>
    public int? MemGuaranteePercent { get; init; }
    public bool MemHotplug { get; init; }
    public VmNetworkMode NetworkMode { get; init; } = VmNetworkMode.None;
    public string? Bridge { get; init; }
    public string? KernelPath { get; init; }
    public string? InitrdPath { get; init; }
    public string? KernelArguments { get; init; }
    public string Machine { get; init; } = "q35";
    public string? Description { get; init; }
}
