using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>What Get-VzVm shows for one VM: its config, plus state derived from its QEMU process.</summary>
public sealed record VmInfo
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    public VmState State { get; init; }
    /// <summary>Why a VM is stopped when it did not stop on request (QEMU died, was killed).</summary>
    public string? StateReason { get; init; }
    public int? ProcessId { get; init; }
    public int CpuCount { get; init; }
    public string? CpuMask { get; init; }
    public int? CpuLimit { get; init; }
    public int CpuUnits { get; init; }
    public long MemorySize { get; init; }
    public int MemGuaranteePercent { get; init; }
    public bool MemHotplug { get; init; }
    public bool OnBoot { get; init; }
    public VmFirmware Firmware { get; init; }
    public string Machine { get; init; } = "";
    public VmNetworkMode NetworkMode { get; init; }
    public string? MacAddress { get; init; }
    public IReadOnlyList<VmDiskInfo> Disks { get; init; } = [];
    public IReadOnlyList<VmDvdDrive> DvdDrives { get; init; } = [];
    public GuestToolsState GuestToolsState { get; init; }
    /// <summary>Changes stored for the next start ("CpuCount=4"); empty when none.</summary>
    public string PendingChanges { get; init; } = "";
    public string? Description { get; init; }
    public string Directory { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }

    public override string ToString() => Name;
}
