using YamlDotNet.Serialization;

namespace Virtuozzo.Engine.Store;

/// <summary>
/// One VE's configuration, stored as <c>ve.yaml</c> in its folder. Settings every VE has live here;
/// container-only and VM-only settings live in <see cref="Container"/> and <see cref="Vm"/>.
/// Mutable on purpose: the store hands a fresh copy to each update, under the VE's lock.
/// </summary>
public sealed class VeConfig
{
    /// <summary>Bumped when the file's shape changes incompatibly; a newer file is refused, not misread.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public VeType Type { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public bool OnBoot { get; set; }

    /// <summary>OnBoot VEs start in ascending order (prlctl --autostart order); null counts as 0, ties go by name.</summary>
    public int? BootOrder { get; set; }

    /// <summary>Seconds the host service waits before starting this OnBoot VE (prlctl --autostart-delay).</summary>
    public int? BootDelay { get; set; }

    /// <summary>What the host service does with this VE when it stops (prlctl --autostop); null is None.</summary>
    public VeAutoStop? AutoStop { get; set; }

    public MemorySettings Memory { get; set; } = new();
    public CpuSettings Cpu { get; set; } = new();

    /// <summary>Present when <see cref="Type"/> is Container.</summary>
    public ContainerSettings? Container { get; set; }

    /// <summary>Present when <see cref="Type"/> is VirtualMachine.</summary>
    public VmSettings? Vm { get; set; }

    /// <summary>Network adapters beyond the first (Add-VzNetworkAdapter); null when none, so older files read the same.</summary>
    public List<VeNetworkAdapter>? NetworkAdapters { get; set; }

    /// <summary>Host folders shared with the VE (Add-VzSharedFolder); null when none, so older files read the same.</summary>
    public List<VeSharedFolder>? SharedFolders { get; set; }

    /// <summary>The VE's snapshot tree (Checkpoint-VzVm, Checkpoint-VzContainer); null when it has none.</summary>
    public List<VeSnapshot>? Snapshots { get; set; }

    /// <summary>The snapshot the VE's current state descends from (the parent of the next one); null when none.</summary>
    public Guid? CurrentSnapshotId { get; set; }
}

/// <summary>Memory limits and guarantee (prlctl --memsize, --swappages, --memguarantee).</summary>
public sealed class MemorySettings
{
    /// <summary>
    /// RAM in bytes: the memcg limit of a container, the RAM of a VM. Named as the -MemorySize parameter and
    /// CgroupLimits.MemorySize so the value keeps one name end to end; the YAML key stays
    /// "size" so every ve.yaml and exported file written before still loads.
    /// </summary>
    [YamlMember(Alias = "size")]
    public long MemorySize { get; set; }

    /// <summary>Swap in bytes on top of <see cref="MemorySize"/>.</summary>
    public long SwapSize { get; set; }

    /// <summary>Guaranteed share of <see cref="MemorySize"/>, 0-100; null means the type's default (VM 40 %, CT 0 %).</summary>
    public int? GuaranteePercent { get; set; }
}

/// <summary>CPU count, weight, limit and affinity (prlctl --cpus, --cpuunits, --cpulimit, --cpumask).</summary>
public sealed class CpuSettings
{
    public int? Count { get; set; }

    /// <summary>Relative weight 8-500000; 1000 is the default.</summary>
    public int Units { get; set; } = 1000;

    /// <summary>Percent of one CPU (100 = one full CPU); null for no limit.</summary>
    public int? LimitPercent { get; set; }

    /// <summary>
    /// The limit in MHz as given (prlctl --cpulimit NNNm); null when the limit is in percent or absent. Stored as
    /// given, not as a percentage, so the VE keeps its MHz on a host with another CPU frequency: the quota is worked
    /// out from the host's nominal frequency wherever limits are written (<see cref="Cgroups.CpuLimit"/>).
    /// </summary>
    public int? LimitMhz { get; set; }

    /// <summary>Host CPUs the VE may run on, in list form ("0,2-3"); null for all.</summary>
    public string? Mask { get; set; }
}
