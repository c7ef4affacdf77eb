using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Memory;

/// <summary>
/// One VE's line in the memory plan: what it may use (<see cref="MemorySize"/>), what it is promised
/// (<see cref="Guarantee"/>), what the host sets aside for it (<see cref="Protection"/> = guarantee + overhead, the
/// memory.low value), and the share it gets when the host is overcommitted (<see cref="Target"/>, the balloon or
/// memory.high value).
/// </summary>
public sealed record MemoryPlanEntry
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    public VeType Type { get; init; }
    public VeActivity State { get; init; }
    public long MemorySize { get; init; }
    public int GuaranteePercent { get; init; }
    /// <summary>True when the guarantee is the type's default (VM 40 %, CT 0 %) rather than set explicitly.</summary>
    public bool GuaranteeIsDefault { get; init; }
    public long Guarantee { get; init; }
    public long Overhead { get; init; }
    public long Protection { get; init; }
    public long Target { get; init; }

    // Live, from the host service's memory manager (null when it does not run or the VE is not a running VM).
    /// <summary>Memory the guest has now (balloon actual).</summary>
    public long? BalloonActual { get; init; }
    /// <summary>The last balloon target the memory manager sent.</summary>
    public long? BalloonTarget { get; init; }
    /// <summary>The guest's working set as the manager estimates it (largest use over its window).</summary>
    public long? WorkingSet { get; init; }
    /// <summary>Memory the balloon holds back from the guest: size less balloon actual.</summary>
    public long? GivenBack { get; init; }
    /// <summary>QEMU's resident memory on the host.</summary>
    public long? HostResident { get; init; }
    public string? LastDecision { get; init; }
    public string? LastDecisionReason { get; init; }
    public DateTimeOffset? LastDecisionAt { get; init; }
}
