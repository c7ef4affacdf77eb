namespace Virtuozzo.Engine.Store;

/// <summary>
/// One snapshot of a VE as recorded in its <c>ve.yaml</c> (the <c>snapshots</c> list): the tree's edges and what the
/// snapshot holds. The data itself lives with the VE (qcow2 internal snapshots in each disk of a VM, a copy of the
/// private area under <c>snapshots/</c> for a container), so removing the VE removes its snapshots.
/// </summary>
public sealed class VeSnapshot
{
    /// <summary>Stable id; a container snapshot's data folder is named after it.</summary>
    public Guid Id { get; set; }

    /// <summary>Unique within the VE; for a VM also the internal snapshot tag in every disk.</summary>
    public string Name { get; set; } = "";

    /// <summary>The snapshot the VE was at when this one was taken (null for a root).</summary>
    public Guid? ParentId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? Description { get; set; }

    public VeSnapshotConsistency Consistency { get; set; }

    /// <summary>Whether the VM's RAM and device state are saved too, so a restore resumes the running guest.</summary>
    public bool IncludesMemory { get; set; }

    /// <summary>Whether the VE ran when the snapshot was taken.</summary>
    public bool WasRunning { get; set; }

    /// <summary>The disks (VM) the snapshot covers, by disk id, as they were when it was taken.</summary>
    public List<string> Disks { get; set; } = [];

    /// <summary>How long the guest's file systems (or the container's cgroup) stayed frozen, in milliseconds.</summary>
    public long? FrozenMilliseconds { get; set; }
}

/// <summary>What a snapshot's data can be trusted for.</summary>
public enum VeSnapshotConsistency
{
    /// <summary>Taken while the VE was stopped: every disk as it was written.</summary>
    Stopped,

    /// <summary>Taken live with the guest's file systems frozen (guest agent) or the container's cgroup frozen.</summary>
    Application,

    /// <summary>Taken live without a freeze (no guest agent): as after a power cut, the guest's journal recovers it.</summary>
    Crash,

    /// <summary>With RAM state: the guest resumes as it ran.</summary>
    Memory,
}
