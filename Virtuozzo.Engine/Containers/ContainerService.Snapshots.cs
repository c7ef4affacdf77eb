namespace Virtuozzo.Engine.Containers;

/// <summary>Snapshots (Checkpoint-VzContainer, Get/Restore/Remove-VzSnapshot), in their own service beside this one.</summary>
public sealed partial class ContainerService
{
    private ContainerSnapshotService? snapshots;

    /// <summary>The container snapshot operations (reflinked images, copied trees, the tree in ve.yaml).</summary>
    public ContainerSnapshotService Snapshots => snapshots ??= new ContainerSnapshotService(paths, store, this, runner, logger);
}
