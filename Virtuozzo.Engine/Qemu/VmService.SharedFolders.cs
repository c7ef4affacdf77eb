using Virtuozzo.Engine.Errors;
using Virtuozzo.Engine.Qemu.Process;
using Virtuozzo.Engine.SharedFolders;

namespace Virtuozzo.Engine.Qemu;

/// <summary>What shared folders forbid on a VM: migration, saving its state, memory hotplug (see <see cref="VmSharePlan.VirtioFsBlockReason"/>).</summary>
public sealed partial class VmService
{
    /// <summary>
    /// Why the VM cannot be migrated because of its shared folders, or null when they do not stand in the way. A running
    /// VM is judged by the devices it has (a share added since applies at its next start). A stopped VM has none: it
    /// moves with its share settings, and a start on a host that lacks the folder fails with VzSharedFolderPathNotFound.
    /// </summary>
    public string? SharedFolderMigrationBlocker(Guid id)
    {
        var record = store.TryGet(id) ?? throw NotFound(id);
        var rt = RuntimePaths(id);
        if (QemuProcess.Inspect(rt).Alive)
        {
            var attached = VmShareState.Read(rt);
            if (attached.FirstOrDefault(s => s.Transport == SharedFolderTransport.VirtioFs) is { } vfs)
                return $"The VM '{record.DisplayName}' has the virtio-fs shared folder '{vfs.Name}' attached: {VmSharePlan.VirtioFsBlockReason}. Stop the VM (or remove the share and restart it) first.";
            if (attached.FirstOrDefault() is { } ninep)
                return $"The VM '{record.DisplayName}' has the 9p shared folder '{ninep.Name}' attached: QEMU refuses to migrate a VM while a 9p export is mounted in its guest, and the folder is on this host. Stop the VM (or remove the share and restart it) first.";
        }
        return null;
    }

    /// <summary>Refuses <paramref name="what"/> on a running VM with a virtio-fs share attached.</summary>
    private static void RefuseWithVirtioFs(VmRuntimePaths rt, string name, string errorId, string what)
    {
        if (VmShareState.Read(rt).FirstOrDefault(s => s.Transport == SharedFolderTransport.VirtioFs) is { } share)
            throw new VzInvalidStateException(errorId, $"Cannot {what} the VM '{name}' while its virtio-fs shared folder '{share.Name}' is attached: {VmSharePlan.VirtioFsBlockReason}.", name)
            { RecommendedAction = $"Stop the VM first, or remove the share (Remove-VzSharedFolder -VeName '{name}' -Name '{share.Name}') and restart the VM." };
    }
}
