namespace Virtuozzo.Engine.Memory;

/// <summary>
/// The host's memory budget: totals and one entry per VE. Guarantees of active VEs must fit in
/// <see cref="HostMemory"/> (admission control); when the sum of limits exceeds what is available, targets are
/// scaled between each VE's guarantee and its limit (vcmmd's static policy).
/// </summary>
public sealed record MemoryPlan
{
    public long HostMemory { get; init; }
    public long HostAvailable { get; init; }
    /// <summary>Host, system and user reserves that VEs never get.</summary>
    public long Reserved { get; init; }
    /// <summary>What the VEs share: host memory less reserves and the overhead of active VMs.</summary>
    public long AvailableForVes { get; init; }
    /// <summary>Sum of protections (guarantee + overhead) of active VEs.</summary>
    public long GuaranteedMemory { get; init; }
    /// <summary>Room left for the guarantees of VEs that start next.</summary>
    public long FreeForGuarantees { get; init; }
    /// <summary>Sum of the memory limits of active VEs.</summary>
    public long CommittedMemory { get; init; }
    /// <summary>Committed memory over what VEs share; above 1 the host is overcommitted.</summary>
    public double OvercommitRatio { get; init; }
    public int ActiveVeCount { get; init; }
    public IReadOnlyList<MemoryPlanEntry> Entries { get; init; } = [];
}
