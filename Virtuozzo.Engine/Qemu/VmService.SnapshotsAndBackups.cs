using Virtuozzo.Engine.Qemu.Backups;
using Virtuozzo.Engine.Qemu.Snapshots;

namespace Virtuozzo.Engine.Qemu;

/// <summary>Snapshots (Checkpoint-VzVm, Get/Restore/Remove-VzSnapshot) and backups (Backup-VzVm, Restore-VzBackup), in their own services beside this one.</summary>
public sealed partial class VmService
{
    private VmSnapshotService? snapshots;
    private VmBackupService? backups;

    /// <summary>The VM snapshot operations (qcow2 internal snapshots, the tree in ve.yaml).</summary>
    public VmSnapshotService Snapshots => snapshots ??= new VmSnapshotService(paths, store, this, runner, logger);

    /// <summary>The VM backup operations (blockdev-backup with persistent dirty bitmaps).</summary>
    public VmBackupService Backups => backups ??= new VmBackupService(paths, store, this, runner, logger);
}
