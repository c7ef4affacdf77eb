using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Metrics;

/// <summary>
/// The counters of one VE at one instant: what a rate is computed from (two samples) and what the metrics endpoint
/// exposes as is. Every counter counts since the VE started (its cgroup, its QEMU, its interface are made at start).
/// </summary>
public sealed record VeSample
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public VeType Kind { get; init; }
    public bool Running { get; init; }
    /// <summary>The container's init or the VM's QEMU: a different pid is a restart, and counters start again.</summary>
    public int? ProcessId { get; init; }
    /// <summary>When the counters were read (wall clock, for display and the cache's age).</summary>
    public DateTimeOffset At { get; init; }
    /// <summary><see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> at the read: intervals never jump with the wall clock.</summary>
    public long Timestamp { get; init; }
    /// <summary>CPU time of every process of the VE (its cgroup's usage).</summary>
    public TimeSpan CpuTime { get; init; }
    /// <summary>What the VE may use, in percent of one CPU: its CPU limit, else its CPU count × 100, else the host's CPUs × 100.</summary>
    public int CpuCapacityPercent { get; init; }
    /// <summary>Host memory the VE holds: the container's cgroup charge, the VM's QEMU resident set.</summary>
    public long MemoryResident { get; init; }
    public long MemorySize { get; init; }
    public long MemoryGuarantee { get; init; }
    /// <summary>VMs: memory the guest has now (RAM less the balloon); null for containers or when unknown.</summary>
    public long? BalloonActual { get; init; }
    /// <summary>VMs: the memory manager's last balloon target this run; null when it sent none.</summary>
    public long? BalloonTarget { get; init; }
    /// <summary>VMs: the guest's available memory from the balloon statistics; null until the guest driver reported.</summary>
    public long? GuestAvailable { get; init; }
    /// <summary>Block I/O; null when it could not be read (a VM whose monitor did not answer).</summary>
    public IoCounters? Disk { get; init; }
    /// <summary>
    /// Traffic of each adapter whose host-side interface exists (eth0 and the added ones), in the VE's adapter order;
    /// empty when it has none (no address, user-mode network).
    /// </summary>
    public IReadOnlyList<AdapterTraffic> Adapters { get; init; } = [];

    /// <summary>The traffic of all its adapters together; null when it has none.</summary>
    public NetCounters? Network => Adapters.Count == 0 ? null : Adapters.Aggregate(NetCounters.Zero, (sum, a) => sum.Add(a.Counters));
}
