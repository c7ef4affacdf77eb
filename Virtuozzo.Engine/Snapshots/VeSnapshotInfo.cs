using Virtuozzo.Engine.Store;

namespace Virtuozzo.Engine.Snapshots;

/// <summary>What Get-VzSnapshot shows for one snapshot of a VM or container.</summary>
public sealed record VeSnapshotInfo
{
    /// <summary>The snapshot's name (Restore-VzSnapshot -Name).</summary>
    public string Name { get; init; } = "";
    public Guid SnapshotId { get; init; }
    /// <summary>The VE it belongs to (Restore-VzSnapshot -VeName).</summary>
    public string VeName { get; init; } = "";
    public Guid VeId { get; init; }
    /// <summary>VirtualMachine or Container.</summary>
    public VeType VeType { get; init; }
    /// <summary>The snapshot it was taken on top of; null for a root.</summary>
    public string? ParentName { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Stopped, Application (frozen), Crash (live, no freeze possible) or Memory (RAM saved too).</summary>
    public VeSnapshotConsistency Consistency { get; init; }
    public bool IncludesMemory { get; init; }
    /// <summary>True for the snapshot the VE's current state descends from.</summary>
    public bool IsCurrent { get; init; }
    /// <summary>How long the guest or the container was frozen while it was taken, in milliseconds.</summary>
    public long? FrozenMilliseconds { get; init; }
    public IReadOnlyList<string> Disks { get; init; } = [];
    public string? Description { get; init; }

    public override string ToString() => Name;

    public static VeSnapshotInfo From(VeConfig config, VeSnapshot s) => new()
    {
        Name = s.Name, SnapshotId = s.Id, VeName = config.Name, VeId = config.Id, VeType = config.Type,
        ParentName = SnapshotTree.ParentName(config, s), CreatedAt = s.CreatedAt, Consistency = s.Consistency,
        IncludesMemory = s.IncludesMemory, IsCurrent = config.CurrentSnapshotId == s.Id, FrozenMilliseconds = s.FrozenMilliseconds,
        Disks = [.. s.Disks], Description = s.Description,
    };
}
