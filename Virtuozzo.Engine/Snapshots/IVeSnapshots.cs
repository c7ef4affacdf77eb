using Virtuozzo.Engine.Progress;

namespace Virtuozzo.Engine.Snapshots;

/// <summary>The snapshot verbs every kind of VE has (Get-, Restore-, Remove-VzSnapshot take VMs and containers alike).</summary>
public interface IVeSnapshots
{
    /// <summary>The VE's snapshots, oldest first.</summary>
    IReadOnlyList<VeSnapshotInfo> List(Guid id);

    Task<VeSnapshotInfo> RestoreAsync(Guid id, string snapshotName, IProgress<VzProgress>? progress, CancellationToken cancellationToken);

    Task RemoveAsync(Guid id, string snapshotName, IProgress<VzProgress>? progress, CancellationToken cancellationToken);
}
