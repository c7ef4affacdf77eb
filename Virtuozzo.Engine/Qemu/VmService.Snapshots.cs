using Virtuozzo.Engine.Qemu.Snapshots;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Snapshots (Checkpoint-VzVm, Get/Restore/Remove-VzSnapshot), in their own service beside this one.</summary>
public sealed partial class VmService
{
    private VmSnapshotService? snapshots;

    /// <summary>The VM snapshot operations (qcow2 internal snapshots, the tree in ve.yaml).</summary>
    public VmSnapshotService Snapshots => snapshots ??= new VmSnapshotService(paths, store, this, runner, logger);
}
