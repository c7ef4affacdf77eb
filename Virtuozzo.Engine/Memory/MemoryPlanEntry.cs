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
}
