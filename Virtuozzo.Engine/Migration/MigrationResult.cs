using Virtuozzo.Engine.Diagnostics;
using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Migration;

/// <summary>What Move-VzVm / Move-VzContainer did: where the VE went, how, and what it cost.</summary>
public sealed record MigrationResult
{
    public string Name { get; init; } = "";
    public Guid Id { get; init; }
    public VeType Type { get; init; }
    public string DestinationHost { get; init; } = "";
    public MigrationMode Mode { get; init; }
    /// <summary>Whether the VE runs on the destination now.</summary>
    public bool Running { get; init; }
    public TimeSpan TotalTime { get; init; }
    /// <summary>For a live move, the pause QEMU measured at switchover; for an offline move of a running VE, stop to start.</summary>
    public TimeSpan? Downtime { get; init; }
    public long RamTransferredBytes { get; init; }
    public long DiskTransferredBytes { get; init; }
    public string DestinationDirectory { get; init; } = "";
    /// <summary>Where the time went, phase by phase in milliseconds (checks, copy, switchover, clean-up).</summary>
    public IReadOnlyList<PhaseTime> Phases { get; init; } = [];
}
