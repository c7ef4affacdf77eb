using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Qemu;

/// <summary>What Get-VzVm shows for one VM: its config, plus state derived from its QEMU process.</summary>
public sealed record VmInfo
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    /// <summary>The state as its name (Running): text wherever the object goes (ConvertTo-Json, Export-Csv); Where-Object State -eq Running works.</summary>
    public string State => StateValue.ToString();
    /// <summary>The state as the enum, for code that switches on it.</summary>
    public VmState StateValue { get; init; }
    /// <summary>Why a VM is stopped when it did not stop on request (QEMU died, was killed).</summary>
    public string? StateReason { get; init; }
    public int? ProcessId { get; init; }
    public int CpuCount { get; init; }
    public string? CpuMask { get; init; }
    public int? CpuLimit { get; init; }
    /// <summary>The limit in MHz when it was given in MHz (then <see cref="CpuLimit"/> is null); as -CpuLimitMhz takes it.</summary>
    public int? CpuLimitMhz { get; init; }
    public int CpuUnits { get; init; }
    public long MemorySize { get; init; }
    /// <summary>The guarantee as set (Auto or a percentage): what -MemGuarantee takes back.</summary>
    public Memory.MemGuarantee MemGuarantee { get; init; }
    /// <summary>The guarantee in force, in percent (Auto resolved to the VM default, 40).</summary>
    public int MemGuaranteePercent { get; init; }
    public bool MemHotplug { get; init; }
    public bool OnBoot { get; init; }
    public int BootOrder { get; init; }
    /// <summary>Seconds the host service waits before starting this VM at boot.</summary>
    public int BootDelay { get; init; }
    public Store.VeAutoStop AutoStop { get; init; }
    /// <summary>Whether the host service's memory manager balloons this VM.</summary>
    public bool AutoBalloon { get; init; } = true;
    /// <summary>Whether QEMU offers the guest's RAM to KSM (-machine mem-merge).</summary>
    public bool MemMerge { get; init; } = true;
    public VmFirmware Firmware { get; init; }
    public string Machine { get; init; } = "";
    public VmNetworkMode NetworkMode { get; init; }
    /// <summary>What New-VzVm -Network took: None, User, or the host bridge's name.</summary>
    public string Network { get; init; } = "None";
    /// <summary>Direct kernel boot (New-VzVm -KernelPath, -InitrdPath, -KernelArguments); null when the VM boots a disk.</summary>
    public string? KernelPath { get; init; }
    public string? InitrdPath { get; init; }
    public string? KernelArguments { get; init; }
    public string? MacAddress { get; init; }
    public TextList<VmDiskInfo> Disks { get; init; } = [];
    public TextList<VmDvdDrive> DvdDrives { get; init; } = [];
    public GuestToolsState GuestToolsState { get; init; }
    /// <summary>Memory the guest has now (balloon actual), from the host service's cache; null when no fresh value.</summary>
    public long? MemoryActual { get; init; }
    /// <summary>CPU use in percent of one CPU over the host service's last interval; null when the service does not run or the VM is stopped.</summary>
    public double? CpuPercent { get; init; }
    /// <summary>QEMU's resident memory on the host at the host service's last sample; null as for <see cref="CpuPercent"/>.</summary>
    public long? MemoryResident { get; init; }
    /// <summary>How old the guest tools facts are (the host service refreshes them); null when none are cached.</summary>
    public TimeSpan? GuestInfoAge { get; init; }
    public string? OsName { get; init; }
    public IReadOnlyList<string> IpAddresses { get; init; } = [];
    /// <summary>Changes stored for the next start ("CpuCount=4"); empty when none.</summary>
    public string PendingChanges { get; init; } = "";
    /// <summary>How many snapshots the VM has (Get-VzSnapshot lists them).</summary>
    public int SnapshotCount { get; init; }
    public string? Description { get; init; }
    public string Directory { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }

    public override string ToString() => Name;
}
